"""ONNX export of the two-stream colour-HHA net: a 6-channel image in, the fused logits
and the same labels as PyTorch out, at sizes other than the traced one."""

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from mmseg_fcn_skip.apis.export import (
    INPUT_NAME,
    ONNX_TOLERANCE,
    OUTPUT_NAME,
    OnnxSegmentor,
    check_onnx,
    export_onnx,
)
from tests.helpers import REPO

CONFIG = (
    REPO / 'configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_nyudv2-40-color-hha-fullsize.py'
)
SIZES = [(37, 53), (64, 50)]


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    cfg = Config.fromfile(str(CONFIG))
    for stream in (0, 1):
        cfg.model.backbone.streams[stream].update(base_channels=4, fc_channels=8, init_cfg=None)
        cfg.model.decode_head.streams[stream].update(in_channels=(8,), init_cfg=None)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.cfg = cfg
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * 0.2)
    model.eval()
    onnx_file = export_onnx(model, tmp_path_factory.mktemp('two_stream') / 'model.onnx', (32, 32))
    return model, onnx_file


def test_the_graph_takes_six_channels_and_gives_40_class_logits(exported):
    graph = onnx.load(str(exported[1])).graph
    assert [d.dim_value for d in graph.input[0].type.tensor_type.shape.dim][1] == 6
    assert [d.dim_value for d in graph.output[0].type.tensor_type.shape.dim][1] == 40
    assert OnnxSegmentor(exported[0]).in_channels == 6


def test_onnxruntime_gives_the_pytorch_logits_and_labels(exported):
    model, onnx_file = exported
    errors = check_onnx(model, onnx_file, SIZES)
    assert max(errors.values()) <= ONNX_TOLERANCE
    session = onnxruntime.InferenceSession(str(onnx_file), providers=['CPUExecutionProvider'])
    generator = torch.Generator().manual_seed(1)
    for height, width in SIZES:
        image = torch.rand(1, 6, height, width, generator=generator) * 255
        logits = session.run([OUTPUT_NAME], {INPUT_NAME: image.numpy()})[0]
        meta = dict(img_shape=(height, width), ori_shape=(height, width))
        with torch.no_grad():
            mean, std = model.data_preprocessor.mean, model.data_preprocessor.std
            expected = model.encode_decode((image - mean) / std, [meta])
        assert logits.shape == (1, 40, height, width)
        labels = logits.argmax(1)
        assert np.array_equal(labels, expected.argmax(1).numpy())
        assert len(np.unique(labels)) > 1  # the labels vary: the comparison checks something
