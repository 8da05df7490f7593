"""loss_decode.class_weight: one weight per class, checked when the head is built."""

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

HEAD = dict(type='FCNSkipHead', in_channels=(8,), in_index=(0,), num_classes=3)


def cross_entropy(**kwargs) -> dict:
    return dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0, **kwargs)


@pytest.mark.parametrize(
    'loss_decode',
    [
        cross_entropy(class_weight=[1.0, 2.0]),
        cross_entropy(class_weight=[1.0, 2.0, 3.0, 4.0]),
        [cross_entropy(), cross_entropy(class_weight=[1.0, 2.0], loss_name='loss_w')],
    ],
    ids=['too-few', 'too-many', 'second-of-two'],
)
def test_a_class_weight_of_another_length_names_both_counts(loss_decode):
    count = len(
        loss_decode[-1]['class_weight']
        if isinstance(loss_decode, list)
        else loss_decode['class_weight']
    )
    with pytest.raises(
        ValueError,
        match=rf'loss_decode\.class_weight has {count} '
        r'values but num_classes=3: give one weight per class',
    ):
        MODELS.build(dict(HEAD, loss_decode=loss_decode))


def test_a_fitting_class_weight_weights_the_pixels_of_each_class():
    weight = [0.5, 1.0, 4.0]
    head = MODELS.build(dict(HEAD, loss_decode=cross_entropy(class_weight=weight)))
    logits = torch.randn(1, 3, 6, 6)
    label = torch.randint(0, 3, (1, 6, 6))
    label[0, 0, :3] = 255
    sample = SegDataSample(
        gt_sem_seg=PixelData(data=label), metainfo=dict(img_shape=(6, 6), pad_shape=(6, 6))
    )
    loss = head.loss_by_feat(logits, [sample])['loss_ce'].item()
    weighted = F.cross_entropy(
        logits, label, weight=torch.tensor(weight), ignore_index=255, reduction='sum'
    ).item()
    # The weighted sum over the labelled pixels, divided by the weights of those pixels
    # (mmseg 1.4.2, as torch's weighted mean) or by the pixel count (older mmseg).
    labelled = label[label != 255]
    normalisers = (torch.tensor(weight)[labelled].sum().item(), label.numel())
    assert any(loss == pytest.approx(weighted / n, rel=1e-5) for n in normalisers)
    plain = F.cross_entropy(logits, label, ignore_index=255, reduction='sum').item()
    assert all(loss != pytest.approx(plain / n, rel=1e-3) for n in normalisers)


def test_sigmoid_losses_are_not_checked_per_softmax_class():
    # use_sigmoid scores each class on its own map; its weight is mmseg's concern.
    head = MODELS.build(
        dict(HEAD, loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True, class_weight=[1.0]))
    )
    assert head.loss_decode.class_weight == [1.0]
