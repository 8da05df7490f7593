import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from mmengine.config import Config
from mmseg.apis import inference_model
from mmseg.registry import MODELS

from mmseg_fcn_skip.apis import load_model
from mmseg_fcn_skip.apis.export import (
    INPUT_NAME,
    ONNX_TOLERANCE,
    OUTPUT_NAME,
    OnnxSegmentor,
    check_onnx,
    export_onnx,
    redraw_zero_weights,
)
from tests.helpers.images import blob_image
from tests.helpers.light_models import light_checkpoint, write_config

#: Odd sizes and both aspect ratios.
SIZES = [(37, 53), (64, 96), (101, 67)]


@pytest.fixture(scope='module', params=['same', 'caffe'])
def exported(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(request.param)
    model = load_model(*light_checkpoint(directory, pad_mode=request.param))
    return model, export_onnx(model, directory / 'model.onnx', shape=(64, 64))


def test_graph_has_dynamic_batch_height_and_width(exported):
    graph = onnx.load(str(exported[1])).graph
    for value in (graph.input[0], graph.output[0]):
        dims = value.type.tensor_type.shape.dim
        assert [d.dim_param for d in dims] == ['batch', '', 'height', 'width']
    assert [d.dim_value for d in graph.output[0].type.tensor_type.shape.dim][1] == 5


def test_onnxruntime_matches_pytorch_at_every_size(exported):
    model, onnx_file = exported
    errors = check_onnx(model, onnx_file, SIZES)
    assert set(errors) == set(SIZES)
    assert max(errors.values()) <= ONNX_TOLERANCE


def test_a_graph_with_the_other_channel_order_is_a_mismatch(tmp_path):
    """The check feeds images of 0..255, as loaded: a swap of B and R moves the logits
    well beyond the tolerance (on images of 0..1 it would not show)."""
    model = load_model(*light_checkpoint(tmp_path))  # fcn8s_toy.py: bgr_to_rgb=True
    onnx_file = export_onnx(model, tmp_path / 'model.onnx', shape=(64, 64))
    model.cfg.model.data_preprocessor.bgr_to_rgb = False
    errors = check_onnx(model, onnx_file, SIZES)
    assert min(errors.values()) > 100 * ONNX_TOLERANCE


def test_the_default_images_are_those_of_seed_0(exported):
    """What tools/deployment/export_onnx.py prints is repeated with ``seed=0``."""
    model, onnx_file = exported
    assert check_onnx(model, onnx_file, SIZES) == check_onnx(model, onnx_file, SIZES, seed=0)


def test_raw_bgr_images_give_mmseg_logits_and_labels(exported):
    """The graph includes the preprocessor: raw BGR in, mmseg's own logits out."""
    model, onnx_file = exported
    session = onnxruntime.InferenceSession(str(onnx_file), providers=['CPUExecutionProvider'])
    rng = np.random.default_rng(0)
    for height, width in SIZES:
        image = blob_image(height, width, rng)
        logits = session.run(
            [OUTPUT_NAME], {INPUT_NAME: image.transpose(2, 0, 1)[None].astype(np.float32)}
        )[0][0]
        result = inference_model(model, image)
        expected = result.seg_logits.data.numpy()
        assert logits.shape == expected.shape == (5, height, width)
        assert np.abs(logits - expected).max() <= ONNX_TOLERANCE * (1 + np.abs(expected).max())
        assert np.array_equal(logits.argmax(0), result.pred_sem_seg.data[0].numpy())


def test_only_models_with_the_plugin_head_export(tmp_path):
    model = load_model(*light_checkpoint(tmp_path))
    model.decode_head = torch.nn.Identity()
    with pytest.raises(
        ValueError,
        match='decode head Identity; ONNX export covers '
        "EncoderDecoder models with the plugin's FCNSkipHead",
    ):
        OnnxSegmentor(model)


def test_preprocessing_follows_the_config(tmp_path):
    model = load_model(*light_checkpoint(tmp_path))
    wrapper = OnnxSegmentor(model)
    assert wrapper.swap_channels  # fcn8s_toy.py: bgr_to_rgb=True, ImageNet mean/std
    assert wrapper.mean.flatten().tolist() == pytest.approx([123.675, 116.28, 103.53])
    assert wrapper.std.flatten().tolist() == pytest.approx([58.395, 57.12, 57.375])


def test_zero_score_layers_are_redrawn(tmp_path):
    model_cfg = Config.fromfile(write_config(tmp_path)).model
    model_cfg.decode_head.score_init = 'zeros'  # the reference start of the score layers
    model = MODELS.build(model_cfg)
    model.init_weights()
    assert not model.decode_head.conv_seg.weight.any()
    redrawn = redraw_zero_weights(model)
    assert redrawn == [
        'decode_head.conv_seg.weight',
        'decode_head.skip_scores.stride8.weight',
        'decode_head.skip_scores.stride16.weight',
    ]
    assert 0 < model.decode_head.conv_seg.weight.std() < 0.02
