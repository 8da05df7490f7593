"""Channels-last data pre-processor and hook."""

from types import SimpleNamespace

import torch
import torch.nn as nn
from mmengine.structures import PixelData
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import HOOKS, MODELS
from mmseg.structures import SegDataSample

from mmseg_fcn_skip.performance import (
    ChannelsLastHook,
    ChannelsLastSegDataPreProcessor,
    is_channels_last,
    to_channels_last,
)

PREPROCESSOR_CFG = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size=(40, 48),
    pad_val=0,
    seg_pad_val=255,
)


def _batch() -> dict:
    images = [
        torch.randint(0, 256, (3, 40, 37), dtype=torch.uint8),
        torch.randint(0, 256, (3, 33, 48), dtype=torch.uint8),
    ]
    samples = []
    for image in images:
        sample = SegDataSample(metainfo=dict(img_shape=image.shape[1:]))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 5, (1, *image.shape[1:])))
        samples.append(sample)
    return dict(inputs=images, data_samples=samples)


def test_preprocessor_is_registered_and_gives_channels_last_inputs():
    preprocessor = MODELS.build(dict(type='ChannelsLastSegDataPreProcessor', **PREPROCESSOR_CFG))
    assert isinstance(preprocessor, ChannelsLastSegDataPreProcessor)
    batch = _batch()
    reference = SegDataPreProcessor(**PREPROCESSOR_CFG)(_batch_copy(batch), True)
    out = preprocessor(batch, True)
    assert out['inputs'].shape == (2, 3, 40, 48)
    assert is_channels_last(out['inputs'])
    assert not is_channels_last(reference['inputs'])
    assert torch.equal(out['inputs'], reference['inputs'])
    for sample, expected in zip(out['data_samples'], reference['data_samples']):
        assert torch.equal(sample.gt_sem_seg.data, expected.gt_sem_seg.data)


def _batch_copy(batch: dict) -> dict:
    return dict(
        inputs=[image.clone() for image in batch['inputs']],
        data_samples=[sample.clone() for sample in batch['data_samples']],
    )


def test_preprocessor_passes_non_blocking_to_the_copy():
    assert ChannelsLastSegDataPreProcessor(**PREPROCESSOR_CFG)._non_blocking is False
    preprocessor = ChannelsLastSegDataPreProcessor(non_blocking=True, **PREPROCESSOR_CFG)
    assert preprocessor._non_blocking is True
    assert torch.equal(preprocessor.mean, SegDataPreProcessor(**PREPROCESSOR_CFG).mean)


def test_preprocessor_converts_test_batches_too():
    preprocessor = ChannelsLastSegDataPreProcessor(**PREPROCESSOR_CFG)
    batch = dict(
        inputs=[torch.randint(0, 256, (3, 21, 30), dtype=torch.uint8)] * 2,
        data_samples=[SegDataSample(), SegDataSample()],
    )
    assert is_channels_last(preprocessor(batch, False)['inputs'])


def test_preprocessor_called_without_training_prepares_a_test_batch():
    """As SegDataPreProcessor: no ``training`` argument is a test batch, stacked at its
    own size (not padded to ``size``, which is for training batches)."""
    batch = dict(
        inputs=[torch.randint(0, 256, (3, 21, 30), dtype=torch.uint8)] * 2,
        data_samples=[SegDataSample(), SegDataSample()],
    )
    out = ChannelsLastSegDataPreProcessor(**PREPROCESSOR_CFG)(_batch_copy(batch))
    reference = SegDataPreProcessor(**PREPROCESSOR_CFG)(_batch_copy(batch))
    assert out['inputs'].shape == reference['inputs'].shape == (2, 3, 21, 30)
    assert torch.equal(out['inputs'], reference['inputs'])


def _net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Conv2d(8, 4, 1), nn.Flatten(), nn.LazyLinear(2)
    )


def test_hook_converts_every_4d_tensor_of_the_model_and_keeps_the_parameters():
    model = _net()
    model(torch.randn(1, 3, 8, 8))
    params_before = list(model.parameters())
    hook = HOOKS.build(dict(type='ChannelsLastHook'))
    assert isinstance(hook, ChannelsLastHook)
    hook.before_run(SimpleNamespace(model=model))
    assert all(a is b for a, b in zip(params_before, model.parameters()))
    four_d = [p for p in model.parameters() if p.dim() == 4]
    assert len(four_d) == 2 and all(is_channels_last(p) for p in four_d)


def test_channels_last_model_and_input_compute_the_same_output():
    model = _net().eval()
    x = torch.randn(2, 3, 10, 10)
    expected = model(x)
    to_channels_last(model)
    out = model(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)


def test_is_channels_last_needs_a_4d_channels_last_tensor():
    x = torch.randn(2, 3, 4, 5)
    assert not is_channels_last(x)
    assert is_channels_last(x.contiguous(memory_format=torch.channels_last))
    assert not is_channels_last(torch.randn(3, 4))
