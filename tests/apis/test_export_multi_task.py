"""ONNX export of the two-task SIFT Flow net: one output per task (``logits`` 33
semantic classes, ``geo_logits`` 3 geometric), the same labels of both tasks as
PyTorch, at the traced size and others; mmdeploy is refused with the reason."""

import copy

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from mmengine.config import Config
from mmseg.structures import SegDataSample

from mmseg_fcn_skip.apis.export import (
    INPUT_NAME,
    ONNX_TOLERANCE,
    OnnxSegmentor,
    check_mmdeploy_model,
    check_onnx,
    constant_logit,
    constant_outputs,
    export_onnx,
    exported_heads,
    output_name,
)
from tests.helpers import REPO
from tests.helpers.images import blob_image
from tests.helpers.siftflow_models import SIFTFLOW_CONFIGS, build_light, light_siftflow_config

CONFIGS = REPO / 'configs' / 'fcn_skip_caffe'
SIFTFLOW_8S = SIFTFLOW_CONFIGS['8s']
TRACED = (48, 40)
#: Odd sizes of both aspect ratios besides the traced one.
OTHER_SIZES = [(37, 53), (64, 50)]
SIZES = [TRACED, *OTHER_SIZES]


def labels_vary(model: torch.nn.Module, sizes) -> bool:
    """Whether PyTorch's labels of every task take more than one value on the blob
    image of each size (else comparing them would check little)."""
    wrapper = OnnxSegmentor(model)
    for size in sizes:
        image = torch.from_numpy(blob_image(*size, np.random.default_rng(sum(size))))
        with torch.no_grad():
            outputs = wrapper.outputs(image.permute(2, 0, 1)[None].float())
        if any(len(logits.argmax(1).unique()) < 2 for logits in outputs.values()):
            return False
    return True


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    """The light SIFT Flow FCN-8s of the first seed whose labels vary, and its file."""
    cfg = light_siftflow_config()
    for seed in range(10):
        model = build_light(cfg, seed)
        if labels_vary(model, SIZES):
            break
    else:
        pytest.fail('no seed of 10 gives labels that vary in both tasks')
    onnx_file = export_onnx(model, tmp_path_factory.mktemp('siftflow') / 'model.onnx', TRACED)
    return model, onnx_file


def test_one_output_per_task_with_its_classes_and_dynamic_sizes(exported):
    model, onnx_file = exported
    graph = onnx.load(str(onnx_file)).graph
    assert [value.name for value in graph.input] == [INPUT_NAME]
    assert [value.name for value in graph.output] == ['logits', 'geo_logits']
    for value, classes in zip(graph.output, (33, 3)):
        dims = value.type.tensor_type.shape.dim
        assert [d.dim_param or d.dim_value for d in dims] == ['batch', classes, 'height', 'width']
    assert list(exported_heads(model)) == ['logits', 'geo_logits']
    assert exported_heads(model)['geo_logits'] is model.task_heads['geo']


def test_output_names_follow_the_tasks():
    assert output_name('decode') == 'logits'
    assert output_name('geo') == 'geo_logits'


@pytest.mark.parametrize('size', SIZES)
def test_onnxruntime_labels_of_both_tasks_are_pytorchs(exported, size):
    """Raw BGR image in; the labels of each output are those of the model's predict
    (pred_sem_seg, pred_geo_seg) after mmseg's data preprocessor."""
    model, onnx_file = exported
    session = onnxruntime.InferenceSession(str(onnx_file), providers=['CPUExecutionProvider'])
    image = blob_image(*size, np.random.default_rng(sum(size)))
    semantic, geometric = session.run(
        ['logits', 'geo_logits'],
        {INPUT_NAME: image.transpose(2, 0, 1)[None].astype(np.float32)},
    )
    meta = dict(img_shape=size, ori_shape=size, pad_shape=size)
    data = model.data_preprocessor(
        dict(
            inputs=[torch.from_numpy(image.transpose(2, 0, 1).copy())],
            data_samples=[SegDataSample(metainfo=meta)],
        ),
        False,
    )
    with torch.no_grad():
        result = model.predict(data['inputs'], data['data_samples'])[0]
    assert semantic.shape == (1, 33, *size)
    assert geometric.shape == (1, 3, *size)
    for logits, pred in ((semantic, result.pred_sem_seg), (geometric, result.pred_geo_seg)):
        labels = logits[0].argmax(0)
        np.testing.assert_array_equal(labels, pred.data[0].numpy())
        assert len(np.unique(labels)) > 1  # the labels vary: the comparison checks something
    expected = result.geo_seg_logits.data.numpy()
    assert np.abs(geometric[0] - expected).max() <= ONNX_TOLERANCE * (1 + np.abs(expected).max())


def test_check_onnx_compares_every_task(exported):
    model, onnx_file = exported
    errors = check_onnx(model, onnx_file, SIZES, per_output=True)
    assert list(errors) == SIZES
    for by_output in errors.values():
        assert list(by_output) == ['logits', 'geo_logits']
        assert max(by_output.values()) <= ONNX_TOLERANCE
    worst = check_onnx(model, onnx_file, SIZES)
    assert worst == {size: max(by_output.values()) for size, by_output in errors.items()}


def test_check_onnx_sees_a_wrong_geometric_output(exported, tmp_path):
    """A file whose geometric head differs from the model's fails the check on that
    output only."""
    model, onnx_file = exported
    other = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(99)
    with torch.no_grad():
        for param in other.task_heads['geo'].parameters():
            param.copy_(torch.randn(param.shape, generator=generator))
    other_file = export_onnx(other, tmp_path / 'other.onnx', TRACED)
    errors = check_onnx(model, other_file, [TRACED], per_output=True)[TRACED]
    assert errors['logits'] <= ONNX_TOLERANCE
    assert errors['geo_logits'] > 100 * ONNX_TOLERANCE


def test_a_file_with_other_outputs_is_named(exported, tmp_path):
    model, _ = exported
    single = Config.fromfile(str(CONFIGS / 'fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py'))
    single.model.backbone.update(base_channels=4, fc_channels=8, init_cfg=None)
    single.model.decode_head.update(in_channels=(8,), num_classes=33)
    onnx_file = export_onnx(build_light(single), tmp_path / 'single.onnx', TRACED)
    with pytest.raises(ValueError, match='has the outputs logits but the model gives logits, geo'):
        check_onnx(model, onnx_file, [TRACED])


def test_a_task_whose_logits_are_constant_is_found():
    """Untrained score layers start at zero: a head with zero weights scores 0
    everywhere, which the export's check must not compare as if it meant something."""
    model = build_light(light_siftflow_config())
    assert constant_outputs(model, TRACED) == {}
    with torch.no_grad():
        for param in model.task_heads['geo'].parameters():
            param.zero_()
    assert dict(constant_outputs(model, TRACED)) == {'geo_logits': 0.0}
    assert constant_logit(model, TRACED) is None  # the semantic logits vary
    with torch.no_grad():
        for param in model.decode_head.parameters():
            param.zero_()
    assert dict(constant_outputs(model, TRACED)) == {'logits': 0.0, 'geo_logits': 0.0}
    assert constant_logit(model, TRACED) == 0.0


def test_a_further_task_without_the_plugin_head_is_refused():
    cfg = light_siftflow_config()
    cfg.model.task_heads.geo = dict(
        type='FCNHead', in_channels=8, in_index=2, channels=4, num_convs=1, num_classes=3
    )
    model = build_light(cfg)
    with pytest.raises(
        ValueError,
        match="MultiTaskEncoderDecoder with task 'geo' \\(output geo_logits\\) with decode "
        "head FCNHead; ONNX export covers EncoderDecoder models with the plugin's "
        "FCNSkipHead \\(every task's head",
    ):
        OnnxSegmentor(model)


def test_mmdeploy_is_refused_for_a_multi_task_config_with_the_reason():
    with pytest.raises(ValueError) as caught:
        check_mmdeploy_model(SIFTFLOW_8S)
    assert str(caught.value) == (
        f'{SIFTFLOW_8S} builds a MultiTaskEncoderDecoder with 2 tasks (decode, geo); '
        'mmdeploy 1.3.1 exports a segmentor with one output and its export stops on a '
        'multi-task one (its rewrite of EncoderDecoder.predict does not reach this '
        "segmentor's predict). Export every task with tools/deployment/export_onnx.py "
        'CONFIG CHECKPOINT OUT.onnx (outputs logits, geo_logits)'
    )
    with pytest.raises(ValueError, match='^the model config builds a MultiTaskEncoderDecoder'):
        check_mmdeploy_model(Config.fromfile(str(SIFTFLOW_8S)))
    assert (
        check_mmdeploy_model(CONFIGS / 'fcn8s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py') is None
    )
