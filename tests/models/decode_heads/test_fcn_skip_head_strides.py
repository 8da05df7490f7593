"""FCNSkipHead with strides other than 8, 16, 32 (each finer level at half the
stride of the next): the upsampling factor of each fusion, their order, the final
factor, bilinear upsampling, learnable upsampling and skip scales, against a fusion
worked out by hand.

The by-hand fusion, pad mode 'same' (level of stride ``s``: pixel ``j`` centred on
input pixel ``s * j + (s - 1) / 2``): a transposed conv by ``f`` (kernel ``2 f``, no
padding) puts output pixel ``f / 2 + j`` on pixel ``j`` of the finer level, so its
first ``f / 2`` rows and columns are cut off; ``F.interpolate`` (``align_corners``
False) is aligned as it is. The score convs are found by their input channels (each
level has its own channel count), not by their names.
"""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmseg_fcn_skip.models.backbones import FullyConvVGG
from mmseg_fcn_skip.models.decode_heads import FCNSkipHead

NUM_CLASSES = 3
#: Channels of the levels: distinct, so that each score conv is known by them.
CHANNELS = (2, 3, 5, 7)
INPUT = (70, 52)  # not a multiple of any stride: the sums crop to a common extent


def make_head(in_strides, upsample='deconv', skip_scales=None, learn_upsample=False):
    channels = CHANNELS[-len(in_strides) :]
    head = FCNSkipHead(
        in_channels=channels,
        in_index=tuple(range(len(in_strides))),
        in_strides=in_strides,
        num_classes=NUM_CLASSES,
        upsample=upsample,
        skip_scales=skip_scales,
        learn_upsample=learn_upsample,
        score_init='normal',
    )
    head.init_weights()
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for conv in score_convs(head).values():
            conv.weight.normal_(generator=generator)
            conv.bias.normal_(generator=generator)
    return head.eval()


def score_convs(head):
    """The 1x1 score conv of each level, keyed by its input channels."""
    return {
        m.in_channels: m
        for m in head.modules()
        if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)
    }


def make_levels(in_strides, seed=0):
    generator = torch.Generator().manual_seed(seed)
    channels = CHANNELS[-len(in_strides) :]
    return [
        torch.randn(1, c, -(-INPUT[0] // s), -(-INPUT[1] // s), generator=generator)
        for c, s in zip(channels, in_strides)
    ]


def bilinear(factor):
    """The FCN upsampling kernel of size 2 * factor, written out."""
    centre = factor - 0.5
    ramp = torch.tensor([1 - abs(i - centre) / factor for i in range(2 * factor)])
    return torch.outer(ramp, ramp)


def upsample_by_hand(score, factor, mode):
    if mode == 'bilinear':
        return F.interpolate(score, scale_factor=factor, mode='bilinear', align_corners=False)
    kernel = bilinear(factor).expand(NUM_CLASSES, 1, -1, -1)
    up = F.conv_transpose2d(score, kernel, stride=factor, groups=NUM_CLASSES)
    return up[..., factor // 2 :, factor // 2 :]


def fuse_by_hand(head, levels, in_strides, mode='deconv', skip_scales=None):
    convs = score_convs(head)
    score = convs[levels[-1].shape[1]](levels[-1])
    scales = skip_scales or [1] * (len(levels) - 1)
    for k in reversed(range(len(levels) - 1)):
        factor = in_strides[k + 1] // in_strides[k]
        up = upsample_by_hand(score, factor, mode)
        skip = convs[levels[k].shape[1]](levels[k] * scales[k])
        height = min(up.shape[-2], skip.shape[-2])
        width = min(up.shape[-1], skip.shape[-1])
        score = up[..., :height, :width] + skip[..., :height, :width]
    return upsample_by_hand(score, in_strides[0], mode)


@pytest.mark.parametrize('in_strides', [(4, 16, 32), (2, 8, 32), (8, 32), (4, 32), (2, 4, 32)])
@pytest.mark.parametrize('mode', ['deconv', 'bilinear'])
def test_fusion_of_any_strides_equals_the_fusion_by_hand(in_strides, mode):
    head = make_head(in_strides, upsample=mode)
    levels = make_levels(in_strides)
    with torch.no_grad():
        out, expected = head(levels), fuse_by_hand(head, levels, in_strides, mode)
    assert out.shape[-2] >= INPUT[0] and out.shape[-1] >= INPUT[1]
    height, width = expected.shape[-2:]
    assert out.shape[-2:] == (height, width)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    'in_strides,factors',
    [
        ((4, 16, 32), [2, 4, 4]),
        ((2, 8, 32), [4, 4, 2]),
        ((8, 32), [4, 8]),
        ((2, 4, 8, 32), [4, 2, 2, 2]),
    ],
)
def test_upsampling_factors_go_from_the_deepest_pair_to_the_input(in_strides, factors):
    head = make_head(in_strides)
    upsamples = list(head.fuse_upsamples.values()) + [head.final_upsample]
    applied = [u.factor for u in upsamples]
    assert applied == factors
    # Each factor brings the map from one level's stride to the next finer one's.
    strides = list(reversed(in_strides)) + [1]
    assert applied == [deep // fine for deep, fine in zip(strides, strides[1:])]


def test_skip_scales_apply_in_evaluation_too():
    in_strides, scales = (4, 16, 32), (0.25, 4.0)
    head = make_head(in_strides, skip_scales=scales)
    levels = make_levels(in_strides)
    with torch.no_grad():
        out = head(levels)
        expected = fuse_by_hand(head, levels, in_strides, skip_scales=scales)
        plain = fuse_by_hand(head, levels, in_strides)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(out, plain, atol=1e-2)


@pytest.mark.parametrize('scales', [(0.0, 1.0), (1.0, -0.5), (1.0,)])
def test_skip_scales_must_be_one_positive_factor_per_skip(scales):
    with pytest.raises(ValueError, match='needs one positive factor per skip level'):
        make_head((4, 16, 32), skip_scales=scales)


def test_learned_upsampling_learns_every_upsampling_layer():
    in_strides = (4, 16, 32)
    head = make_head(in_strides, learn_upsample=True)
    upsamples = list(head.fuse_upsamples.values()) + [head.final_upsample]
    learned = {id(p) for p in head.parameters() if p.requires_grad}
    for upsample in upsamples:
        assert upsample.learnable and id(upsample.weight) in learned
        factor = upsample.factor
        assert upsample.weight.shape == (NUM_CLASSES, NUM_CLASSES, 2 * factor, 2 * factor)
    scores = sum(NUM_CLASSES * (c + 1) for c in CHANNELS[-3:])
    kernels = sum(NUM_CLASSES**2 * (2 * f) ** 2 for f in (2, 4, 4))
    assert sum(p.numel() for p in head.parameters() if p.requires_grad) == scores + kernels
    # Initialised as the fixed upsampling: the same logits as the by-hand fusion.
    levels = make_levels(in_strides)
    with torch.no_grad():
        torch.testing.assert_close(
            head(levels), fuse_by_hand(head, levels, in_strides), rtol=1e-5, atol=1e-5
        )


@pytest.mark.parametrize('in_strides', [(4, 12, 32), (3, 16, 32), (8, 16, 24)])
def test_strides_that_are_not_whole_multiples_are_refused(in_strides):
    with pytest.raises(ValueError, match='whole multiple'):
        make_head(in_strides)


@pytest.mark.parametrize('pad_mode', ['same', 'caffe'])
@pytest.mark.parametrize(
    'out_indices,in_strides', [((1, 3, 5), (4, 16, 32)), ((0, 2, 5), (2, 8, 32)), ((2, 5), (8, 32))]
)
def test_levels_of_the_backbone_fit_heads_of_its_strides(pad_mode, out_indices, in_strides):
    """The backbone's own levels, from an input of odd size, pass the head's size
    check and give logits that cover the input."""
    backbone = FullyConvVGG(
        depth=11, pad_mode=pad_mode, base_channels=4, fc_channels=16, out_indices=out_indices
    ).eval()
    assert backbone.out_strides == in_strides
    head = FCNSkipHead(
        in_channels=backbone.out_channels,
        in_index=tuple(range(len(in_strides))),
        in_strides=in_strides,
        pad_mode=pad_mode,
        num_classes=NUM_CLASSES,
    ).eval()
    image = torch.randn(1, 3, 45, 61)
    metas = [dict(img_shape=(45, 61), pad_shape=(45, 61), ori_shape=(45, 61))]
    with torch.no_grad():
        levels = backbone(image)
        logits = head(levels)
        predicted = head.predict(levels, metas, dict())
    assert logits.shape[-2] >= 45 and logits.shape[-1] >= 61
    assert predicted.shape[-2:] == (45, 61)
    other = 'same' if pad_mode == 'caffe' else 'caffe'
    wrong = FCNSkipHead(
        in_channels=backbone.out_channels,
        in_index=tuple(range(len(in_strides))),
        in_strides=in_strides,
        pad_mode=other,
        num_classes=NUM_CLASSES,
    )
    with pytest.raises(ValueError, match='pad_mode'):
        wrong(levels)
