"""FCNSkipHead skips the base class's same-size resize: losses, gradients and
predictions stay exactly those of the crop-then-resize path."""

from typing import List

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.structures import SegDataSample

from mmseg_fcn_skip.models import FCNSkipHead
from mmseg_fcn_skip.models.decode_heads.fcn_skip_head import crop_to_size

NUM_CLASSES = 5
HEIGHT, WIDTH = 37, 45
LOSSES = {
    'ce': dict(type='CrossEntropyLoss', loss_weight=1.0),
    'ce+ce+dice': [
        dict(type='CrossEntropyLoss', loss_weight=1.0),
        dict(type='CrossEntropyLoss', loss_weight=0.5),
        dict(type='DiceLoss', loss_weight=0.3),
    ],
}


def _head(loss_decode, sampler=None) -> FCNSkipHead:
    return FCNSkipHead(
        in_channels=(8, 16, 32),
        in_index=(0, 1, 2),
        num_classes=NUM_CLASSES,
        loss_decode=loss_decode,
        sampler=sampler,
    )


def _samples() -> List[SegDataSample]:
    samples = []
    for _ in range(2):
        label = torch.randint(0, NUM_CLASSES, (1, HEIGHT, WIDTH))
        label[:, :4] = 255  # some ignored pixels
        sample = SegDataSample(metainfo=dict(img_shape=(HEIGHT, WIDTH)))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return samples


def _losses_and_grad(loss_fn, logits: torch.Tensor, samples):
    logits = logits.detach().requires_grad_()
    losses = loss_fn(logits, samples)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    return losses, logits.grad


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
@pytest.mark.parametrize(
    'losses,sampler',
    [
        ('ce', None),
        ('ce', dict(type='OHEMPixelSampler', thresh=0.7, min_kept=200)),
        ('ce+ce+dice', None),
    ],
)
def test_losses_and_gradients_equal_those_of_the_resizing_base_class(losses, sampler, dtype):
    head = _head(LOSSES[losses], sampler)
    samples = _samples()
    logits = torch.randn(2, NUM_CLASSES, HEIGHT + 6, WIDTH + 3).to(dtype)

    def with_resize(seg_logits, data_samples):
        cropped = crop_to_size(seg_logits, (HEIGHT, WIDTH))
        return BaseDecodeHead.loss_by_feat(head, cropped, data_samples)

    expected, expected_grad = _losses_and_grad(with_resize, logits, samples)
    actual, actual_grad = _losses_and_grad(head.loss_by_feat, logits, samples)
    assert list(actual) == list(expected)
    for name in expected:
        assert torch.equal(actual[name], expected[name]), name
    if losses == 'ce':
        assert torch.equal(actual_grad, expected_grad)
    else:
        # Several losses: autograd may sum their gradients in another order.
        torch.testing.assert_close(actual_grad, expected_grad, rtol=1e-6, atol=0)


@pytest.mark.parametrize(
    'meta',
    [
        dict(img_shape=(HEIGHT, WIDTH), pad_shape=(HEIGHT + 3, WIDTH + 1)),
        dict(img_shape=(HEIGHT, WIDTH)),
        dict(img_shape=torch.Size((HEIGHT, WIDTH)), pad_shape=(HEIGHT + 3, WIDTH + 1)),
    ],
)
def test_predictions_equal_those_of_the_resizing_base_class(meta):
    head = _head(LOSSES['ce'])
    logits = torch.randn(2, NUM_CLASSES, HEIGHT + 9, WIDTH + 4)
    size = (
        meta['pad_shape']
        if 'pad_shape' in meta and not isinstance(meta['img_shape'], torch.Size)
        else meta['img_shape']
    )
    expected = BaseDecodeHead.predict_by_feat(head, crop_to_size(logits, size), [meta])
    actual = head.predict_by_feat(logits, [meta])
    assert actual.shape == (2, NUM_CLASSES, *size)
    assert torch.equal(actual, expected)
