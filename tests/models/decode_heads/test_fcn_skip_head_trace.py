"""Traced once, right at every size: the head's shapes stay symbolic under tracing.

mmdeploy exports an mmseg segmentor by tracing ``decode_head.predict(extract_feat(x),
metas, test_cfg)`` with ``img_shape = x.shape[2:]`` taken from the traced input
(its ``BaseSegmentor.forward`` and ``EncoderDecoder.predict`` rewriters), through
``torch.onnx.export`` with the TorchScript exporter, dynamic batch, height and width
and opset 11 (its ``segmentation_onnxruntime_dynamic`` deploy config). ``MmdeployPath``
does the same without mmdeploy; the graph, traced at one size, must give PyTorch's
logits at sizes smaller and larger than that, odd ones and 1x1.
"""

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_fcn_skip.models import FullyConvVGG

#: Backbone levels of FCN-32s, 16s, 8s and 4s (pool2, pool3, pool4, fc7; deepest last).
VARIANTS = {1: (5,), 2: (3, 5), 3: (2, 3, 5), 4: (1, 2, 3, 5)}
TRACED = (48, 64)
#: Sizes checked besides the traced one: 1x1, odd, strips, larger than traced.
SIZES = [(1, 1), (5, 7), (31, 33), (47, 65), (97, 130), (200, 17), (129, 161)]
PLUGIN = str(Path(__file__).resolve().parents[3] / 'mmseg_fcn_skip')


class MmdeployPath(nn.Module):
    """``image -> logits`` as mmdeploy traces an ``EncoderDecoder`` (no argmax)."""

    def __init__(self, segmentor: nn.Module) -> None:
        super().__init__()
        self.segmentor = segmentor

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        sample = SegDataSample()
        sample.set_field(image.shape[2:], 'img_shape', field_type='metainfo')
        features = self.segmentor.extract_feat(image)
        return self.segmentor.decode_head.predict(
            features, [sample.metainfo], self.segmentor.test_cfg
        )


def light_segmentor(num_levels: int, pad_mode: str) -> MmdeployPath:
    """A narrow FCN with random weights whose logits vary over the image."""
    backbone = dict(
        pad_mode=pad_mode, base_channels=4, fc_channels=8, out_indices=VARIANTS[num_levels]
    )
    channels = FullyConvVGG(**backbone).out_channels
    model = MODELS.build(
        dict(
            type='EncoderDecoder',
            data_preprocessor=dict(type='SegDataPreProcessor'),
            backbone=dict(type='FullyConvVGG', **backbone),
            decode_head=dict(
                type='FCNSkipHead',
                in_channels=channels,
                in_index=tuple(range(num_levels)),
                pad_mode=pad_mode,
                num_classes=3,
            ),
            test_cfg=ConfigDict(mode='whole'),
        )
    )
    for parameter in model.decode_head.parameters():
        nn.init.normal_(parameter)
    return MmdeployPath(model).eval()


def export_legacy(wrapper: nn.Module, path: Path) -> list:
    """TorchScript ONNX export as mmdeploy does it; returns the warnings raised."""
    axes = {0: 'batch', 2: 'height', 3: 'width'}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        torch.onnx.export(
            wrapper,
            (torch.randn(1, 3, *TRACED),),
            str(path),
            dynamo=False,
            input_names=['input'],
            output_names=['output'],
            dynamic_axes={'input': axes, 'output': axes},
            opset_version=11,
        )
    return list(caught)


def assert_onnx_matches(wrapper: nn.Module, path: Path) -> None:
    session = onnxruntime.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    for height, width in [TRACED, *SIZES]:
        batch = 2 if (height, width) == (31, 33) else 1  # the batch is dynamic too
        image = torch.randn(batch, 3, height, width)
        with torch.no_grad():
            expected = wrapper(image).numpy()
        got = session.run(['output'], {'input': image.numpy()})[0]
        assert got.shape == expected.shape == (batch, 3, height, width)
        scale = np.abs(expected).max()
        assert scale > 0.1, 'logits too small to compare'
        np.testing.assert_allclose(
            got, expected, rtol=0, atol=1e-5 * scale, err_msg=f'{height}x{width}'
        )


@pytest.mark.parametrize('pad_mode', ['same', 'caffe'])
@pytest.mark.parametrize('num_levels', [1, 2, 3, 4])
def test_mmdeploy_style_onnx_export_is_right_at_every_size(num_levels, pad_mode, tmp_path):
    wrapper = light_segmentor(num_levels, pad_mode)
    path = tmp_path / 'end2end.onnx'
    caught = export_legacy(wrapper, path)
    frozen = [
        w
        for w in caught
        if issubclass(w.category, torch.jit.TracerWarning) and PLUGIN in w.filename
    ]
    assert not frozen, [f'{w.filename}:{w.lineno}: {w.message}' for w in frozen]
    assert_onnx_matches(wrapper, path)


@pytest.mark.skipif(
    importlib.util.find_spec('onnxscript') is None,
    reason='the dynamo ONNX exporter needs onnxscript (pip install '
    'onnxscript); the TorchScript exporter is tested above',
)
def test_dynamo_onnx_export_is_right_at_every_size(tmp_path):
    wrapper = light_segmentor(3, 'caffe')
    path = tmp_path / 'dynamo.onnx'
    program = torch.onnx.export(
        wrapper,
        (torch.randn(1, 3, *TRACED),),
        dynamo=True,
        input_names=['input'],
        output_names=['output'],
        dynamic_shapes={'image': {0: 'batch', 2: 'height', 3: 'width'}},
    )
    program.save(str(path))
    assert_onnx_matches(wrapper, path)
