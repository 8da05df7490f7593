import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_fcn_skip.models import FCNSkipHead, FullyConvVGG
from tests.helpers.light_models import light_model

#: Backbone levels of FCN-32s, 16s, 8s and 4s (pool2, pool3, pool4, fc7; deepest last).
VARIANTS = {1: (5,), 2: (3, 5), 3: (2, 3, 5), 4: (1, 2, 3, 5)}
SIZES = [(1, 1), (5, 7), (31, 33), (64, 64), (97, 130), (200, 17)]


def build_segmentor(num_levels: int, pad_mode: str, **head_kwargs):
    backbone = dict(
        type='FullyConvVGG',
        pad_mode=pad_mode,
        base_channels=4,
        fc_channels=8,
        out_indices=VARIANTS[num_levels],
    )
    channels = FullyConvVGG(**{k: v for k, v in backbone.items() if k != 'type'}).out_channels
    head = dict(
        type='FCNSkipHead',
        in_channels=channels,
        in_index=tuple(range(num_levels)),
        pad_mode=pad_mode,
        num_classes=3,
    )
    head.update(dict(score_init='normal'), **head_kwargs)
    model = MODELS.build(
        dict(
            type='EncoderDecoder',
            backbone=backbone,
            decode_head=head,
            data_preprocessor=dict(type='SegDataPreProcessor'),
            test_cfg=ConfigDict(mode='whole'),
        )
    )
    model.init_weights()
    return model


def sample(height: int, width: int) -> SegDataSample:
    data_sample = SegDataSample(
        metainfo=dict(
            img_shape=(height, width), pad_shape=(height, width), ori_shape=(height, width)
        )
    )
    label = torch.randint(0, 3, (1, height, width))
    data_sample.gt_sem_seg = PixelData(data=label)
    return data_sample


@pytest.mark.parametrize('pad_mode', ['same', 'caffe'])
@pytest.mark.parametrize('num_levels', [1, 2, 3, 4])
def test_predictions_and_loss_are_the_top_left_crop_of_the_logits(pad_mode, num_levels):
    """At every size, the logits of pixel (i, j) are those at (i, j) of the head's
    input-aligned output; the loss is the cross entropy of that crop."""
    model = build_segmentor(num_levels, pad_mode).eval()  # no dropout
    head = model.decode_head
    for parameter in head.parameters():
        torch.nn.init.normal_(parameter)  # non-zero biases too
    aligned = []
    forward = head.forward

    def recording_forward(*args, **kwargs):
        aligned.append(forward(*args, **kwargs))
        return aligned[-1]

    head.forward = recording_forward  # keeps the logits predict and loss crop
    for height, width in SIZES:
        image = torch.randn(1, 3, height, width)
        with torch.no_grad():
            predictions = model.predict(image, [sample(height, width)])
        expected = aligned[-1][0, :, :height, :width]
        torch.testing.assert_close(predictions[0].seg_logits.data, expected)
        assert torch.equal(predictions[0].pred_sem_seg.data[0], expected.argmax(0))
        truth = sample(height, width)
        losses = model.loss(image, [truth])
        cross_entropy = F.cross_entropy(
            aligned[-1][..., :height, :width], truth.gt_sem_seg.data, ignore_index=255
        )
        torch.testing.assert_close(losses['decode.loss_ce'], cross_entropy, rtol=1e-4, atol=0)


@pytest.mark.parametrize('kept', [1, 2])
def test_leaving_out_skips_equals_zeroing_their_score_layers(kept):
    """Caffe padding keeps every extent, so leaving the finest 3 - kept skips out of an
    FCN-8s head equals zeroing their score layers, exactly."""
    head = _random_head((3, 5, 6), pad_mode='caffe')
    levels = [
        torch.randn(1, 3, 37, 33),
        torch.randn(1, 5, 19, 17),
        torch.randn(1, 6, 4, 3),
    ]  # pool3, pool4, fc7 of a 95x62 input
    zeroed = copy.deepcopy(head)
    with torch.no_grad():
        for score in list(zeroed.skip_scores.values())[: 3 - kept]:
            for parameter in score.parameters():
                parameter.zero_()
        torch.testing.assert_close(head(levels, num_levels=kept), zeroed(levels))
        assert not torch.allclose(head(levels, num_levels=kept), head(levels))


@pytest.mark.parametrize(
    'num_levels,crops',
    [
        (1, ([], 19)),
        (2, ([(0, 5)], 27)),
        (3, ([(0, 5), (0, 9)], 31)),
    ],
)
def test_caffe_crops_are_the_reference_ones(num_levels, crops):
    channels = (256, 512, 4096)[-num_levels:]
    head = FCNSkipHead(
        in_channels=channels, in_index=tuple(range(num_levels)), pad_mode='caffe', num_classes=21
    )
    assert (head.fuse_crops, head.final_crop) == crops


@pytest.mark.parametrize('upsample', ['deconv', 'bilinear'])
def test_same_mode_centres_a_level_pixel_on_its_input_window(upsample):
    """Pixel j of a stride-32 map covers input pixels 32j..32j+31, centred at 32j+15.5."""
    head = FCNSkipHead(
        in_channels=(1,),
        in_index=(0,),
        num_classes=1,
        out_channels=1,
        threshold=0.5,
        upsample=upsample,
    )
    with torch.no_grad():
        head.conv_seg.weight.fill_(1.0)
        head.conv_seg.bias.zero_()
    level = torch.zeros(1, 1, 4, 4)
    level[..., 2, 1] = 1.0
    out = head([level])[0, 0]
    rows, cols = out.max(dim=1).values, out.max(dim=0).values
    assert rows[79] == rows[80] == rows.max() and rows[78] < rows[79]
    assert cols[47] == cols[48] == cols.max() and cols[46] < cols[47]


def test_skip_scales_scale_the_skip_levels_before_scoring():
    """The factor multiplies the level, not its score: with score biases b,
    conv(s * x) = s * Wx + b differs from s * conv(x) = s * (Wx + b)."""
    kwargs = dict(in_channels=(2, 3, 4), in_index=(0, 1, 2), num_classes=5)
    plain = FCNSkipHead(**kwargs)
    for parameter in plain.parameters():
        torch.nn.init.normal_(parameter)
    scaled = FCNSkipHead(skip_scales=(0.0001, 0.01), **kwargs)
    scaled.load_state_dict(plain.state_dict())
    levels = [torch.randn(1, 2, 8, 8), torch.randn(1, 3, 4, 4), torch.randn(1, 4, 2, 2)]
    expected = plain([levels[0] * 0.0001, levels[1] * 0.01, levels[2]])
    torch.testing.assert_close(scaled(levels), expected)
    assert not torch.allclose(scaled(levels), plain(levels), atol=1e-3)


def _bilinear_weights(channels: int, factor: int) -> torch.Tensor:
    """Per-channel bilinear kernel of size 2f: 1 - |i - (f - 1/2)| / f along each axis."""
    ramp = 1 - (torch.arange(2 * factor) - (factor - 0.5)).abs() / factor
    return torch.outer(ramp, ramp).expand(channels, 1, -1, -1)


def _reference_fusion(
    head: FCNSkipHead, levels, up_crop: int, skip_crops, final_crop: int
) -> torch.Tensor:
    """FCN fusion in plain PyTorch: 1x1 scores, x2 bilinear transposed convs, crops given
    by hand (``skip_crops`` deepest skip first), the final x s transposed conv."""
    channels = head.num_classes
    weights = [(conv.weight, conv.bias) for conv in head.skip_scores.values()]
    weights.append((head.conv_seg.weight, head.conv_seg.bias))
    scores = [F.conv2d(level, w, b) for level, (w, b) in zip(levels, weights)]
    score = scores[-1]
    for skip, crop in zip(reversed(scores[:-1]), skip_crops):
        up = F.conv_transpose2d(score, _bilinear_weights(channels, 2), stride=2, groups=channels)[
            ..., up_crop:, up_crop:
        ]
        skip = skip[..., crop:, crop:]
        height = min(up.shape[-2], skip.shape[-2])
        width = min(up.shape[-1], skip.shape[-1])
        score = up[..., :height, :width] + skip[..., :height, :width]
    stride = head.in_strides[0]
    out = F.conv_transpose2d(
        score, _bilinear_weights(channels, stride), stride=stride, groups=channels
    )
    return out[..., final_crop:, final_crop:]


def _random_head(channels, **kwargs) -> FCNSkipHead:
    head = FCNSkipHead(
        in_channels=channels, in_index=tuple(range(len(channels))), num_classes=4, **kwargs
    )
    for parameter in head.parameters():
        torch.nn.init.normal_(parameter)
    return head


@pytest.mark.parametrize('num_levels', [1, 2, 3, 4])
@pytest.mark.parametrize('size', [(32, 32), (45, 70), (97, 130)])
def test_same_mode_fusion_equals_a_plain_pytorch_fcn(num_levels, size):
    """Same padding, crops worked out by hand: pixel j of a stride-s level is centred
    at s * j + (s - 1) / 2. A x2 transposed conv (kernel 4, stride 2) puts output i at
    input position (i - 3/2) / 2, i.e. at s * (i - 3/2) / 2 + (s - 1) / 2 =
    (s / 2) * (i - 1) + (s / 2 - 1) / 2: the grid of the next finer level shifted by
    one pixel, so one leading row and column go. The final x s upsampling (kernel 2s)
    puts output i at input pixel i - s / 2 (the grid offset (s - 1) / 2 and the
    kernel's (2s - 1) / 2 cancel to -s / 2): s / 2 leading rows and columns go."""
    strides = (4, 8, 16, 32)[-num_levels:]
    channels = (3, 5, 7, 6)[-num_levels:]
    head = _random_head(channels)
    levels = [
        torch.randn(2, c, math.ceil(size[0] / s), math.ceil(size[1] / s))
        for c, s in zip(channels, strides)
    ]
    with torch.no_grad():
        out = head(levels)
        expected = _reference_fusion(head, levels, 1, [0] * (num_levels - 1), strides[0] // 2)
    assert out.shape == expected.shape
    assert out.shape[-2] >= size[0] and out.shape[-1] >= size[1]
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    'num_levels,skip_crops,final_crop', [(1, [], 19), (2, [5], 27), (3, [5, 9], 31)]
)
@pytest.mark.parametrize('size', [(45, 70), (97, 130)])
def test_caffe_mode_fusion_equals_the_reference_crops(num_levels, skip_crops, final_crop, size):
    """Caffe padding: the reference prototxts crop score_pool4 by 5, score_pool3 by 9
    and the final upsampled scores by 19 (32s), 27 (16s) or 31 (8s); upscore2 and
    upscore_pool4 are not cropped."""
    channels = (3, 5, 6)[-num_levels:]
    head = _random_head(channels, pad_mode='caffe')

    def pool_size(side: int, stride: int) -> int:  # conv1_1 padded by 100: side + 198
        return math.ceil((side + 198) / stride)

    shapes = [(pool_size(size[0], s), pool_size(size[1], s)) for s in (8, 16)]
    shapes.append((pool_size(size[0], 32) - 6, pool_size(size[1], 32) - 6))  # fc7
    levels = [torch.randn(1, c, *shape) for c, shape in zip(channels, shapes[-num_levels:])]
    with torch.no_grad():
        out = head(levels)
        expected = _reference_fusion(head, levels, 0, skip_crops, final_crop)
    assert out.shape == expected.shape
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_zero_init_scores_start_at_zero_and_still_learn():
    model = build_segmentor(3, 'same', score_init='zeros')
    head = model.decode_head
    head.init_weights()
    assert all(
        not conv.weight.any() and not conv.bias.any()
        for conv in [head.conv_seg, *head.skip_scores.values()]
    )

    losses = model.loss(torch.randn(1, 3, 40, 40), [sample(40, 40)])
    losses['decode.loss_ce'].backward()
    assert head.conv_seg.weight.grad.abs().sum() > 0
    assert all(conv.weight.grad.abs().sum() > 0 for conv in head.skip_scores.values())


def test_learned_upsampling_has_parameters_and_starts_bilinear():
    fixed = build_segmentor(3, 'caffe')
    learned = build_segmentor(3, 'caffe', learn_upsample=True)
    learned.load_state_dict(fixed.state_dict(), strict=False)
    image = torch.randn(1, 3, 45, 50)
    assert len(list(learned.decode_head.final_upsample.parameters())) == 1
    fixed.eval(), learned.eval()
    torch.testing.assert_close(
        learned.predict(image)[0].seg_logits.data, fixed.predict(image)[0].seg_logits.data
    )


def test_head_trains_on_mmseg_resnet_stages():
    model = MODELS.build(
        dict(
            type='EncoderDecoder',
            data_preprocessor=dict(type='SegDataPreProcessor'),
            backbone=dict(
                type='ResNetV1c',
                depth=18,
                base_channels=8,
                out_indices=(1, 2, 3),
                strides=(1, 2, 2, 2),
                dilations=(1, 1, 1, 1),
            ),
            decode_head=dict(
                type='FCNSkipHead',
                in_channels=(16, 32, 64),
                in_index=(0, 1, 2),
                num_classes=3,
                score_init='normal',
            ),
            test_cfg=ConfigDict(mode='whole'),
        )
    )
    model.init_weights()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    image, samples = torch.randn(2, 3, 61, 45), [sample(61, 45), sample(61, 45)]
    first = None
    for _ in range(5):
        loss = model.loss(image, samples)['decode.loss_ce']
        first = loss.item() if first is None else first
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < first
    assert model.predict(image, samples)[0].pred_sem_seg.data.shape == (1, 61, 45)


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(in_channels=(256, 512), in_index=(0, 1, 2)), 'equal length'),
        (dict(num_classes=0), 'num_classes=0'),
        (dict(pad_mode='valid'), "pad_mode='valid'"),
        (dict(in_strides=(8, 12, 32)), r'in_strides=\(8, 12, 32\)'),
        (dict(in_strides=(8, 32)), 'one stride per input level'),
        (dict(skip_scales=(0.01,)), 'skip_scales'),
        (dict(score_init='xavier'), "score_init='xavier'"),
        (dict(channels=512), 'channels must equal'),
        (dict(input_transform='resize_concat'), 'input_transform'),
        (dict(pad_mode='caffe', in_strides=(8, 16, 64)), "pad_mode='caffe'"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, match):
    args = dict(in_channels=(256, 512, 4096), in_index=(0, 1, 2), num_classes=21)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        FCNSkipHead(**args)


def test_channels_that_do_not_match_the_backbone_are_named():
    head = FCNSkipHead(in_channels=(256, 256, 4096), in_index=(0, 1, 2), num_classes=2)
    levels = [torch.randn(1, 256, 8, 8), torch.randn(1, 512, 4, 4), torch.randn(1, 4096, 2, 2)]
    with pytest.raises(ValueError, match=r'in_channels\[1\]=256 .* 512 channels'):
        head(levels)


def test_layers_are_named_by_the_stride_of_their_level():
    head = light_model('8s', learn_upsample=True).decode_head
    assert list(head.skip_scores) == ['stride8', 'stride16']
    assert list(head.fuse_upsamples) == ['stride32', 'stride16']
    fcn16s = light_model('16s', learn_upsample=True).decode_head
    assert list(fcn16s.skip_scores) == ['stride16']
    assert list(fcn16s.fuse_upsamples) == ['stride32']
