"""LateFusionHead: the stream heads' logits summed with weights; loss and prediction as
the first stream head's."""

import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_fcn_skip.models import LateFusionHead

FC = 8
CLASSES = 5


def skip_head(index, pad_mode='caffe', **kwargs):
    return dict(
        type='FCNSkipHead',
        pad_mode=pad_mode,
        in_channels=(FC,),
        in_index=(index,),
        num_classes=CLASSES,
        **kwargs,
    )


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


def build(streams=None, **kwargs):
    streams = streams or [skip_head(0), skip_head(1)]
    head = MODELS.build(dict(type='LateFusionHead', streams=streams, **kwargs))
    for parameter in head.parameters():  # score layers start at zero: make them differ
        torch.nn.init.normal_(parameter, generator=torch.Generator().manual_seed(parameter.numel()))
    return head.eval()


def fc7_levels(size, seed=0):
    """Two streams' fc7 of the pad-100 VGG for an input of ``size``: (size + 6) / 32 - 6."""
    generator = torch.Generator().manual_seed(seed)
    side = [(s + 198 + 31) // 32 - 6 for s in size]  # ceil((s + 198) / 32) - 6
    return tuple(torch.randn(1, FC, *side, generator=generator) for _ in range(2))


def samples(size, labels=None):
    sample = SegDataSample(metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size))
    if labels is not None:
        sample.gt_sem_seg = PixelData(data=labels[None])
    return [sample]


def test_the_logits_are_the_weighted_sum_of_the_stream_heads():
    head = build(weights=(0.3, 0.7))
    levels = fc7_levels((40, 48))
    with torch.no_grad():
        fused = head(levels)
        colour, hha = head.streams[0](levels), head.streams[1](levels)
    torch.testing.assert_close(fused, 0.3 * colour + 0.7 * hha)
    assert not torch.allclose(fused, 0.5 * colour + 0.5 * hha)


def test_the_sum_of_upsampled_scores_is_the_upsampling_of_the_summed_scores():
    head = build()
    levels = fc7_levels((64, 50))
    with torch.no_grad():
        score = 0.5 * head.streams[0].conv_seg(levels[0]) + 0.5 * head.streams[1].conv_seg(
            levels[1]
        )
        crop = head.streams[0].final_crop
        once = head.streams[0].final_upsample(score)[..., crop:, crop:]
        fused = head(levels)
    torch.testing.assert_close(fused, once, rtol=0, atol=1e-5 * once.abs().max())


def test_maps_of_other_extents_are_summed_over_their_common_extent():
    head = build()
    big = torch.randn(1, CLASSES, 10, 12)
    small = torch.randn(1, CLASSES, 9, 14)
    head.streams[0].forward = lambda inputs: big
    head.streams[1].forward = lambda inputs: small
    fused = head(fc7_levels((32, 32)))
    assert fused.shape == (1, CLASSES, 9, 12)
    torch.testing.assert_close(fused, 0.5 * big[..., :9, :] + 0.5 * small[..., :12])


def test_prediction_is_the_fused_logits_cropped_to_the_input():
    head = build()
    levels = fc7_levels((40, 48))
    with torch.no_grad():
        predicted = head.predict(levels, [s.metainfo for s in samples((40, 48))], {})
        fused = head(levels)
    assert predicted.shape == (1, CLASSES, 40, 48)
    assert torch.equal(predicted, fused[..., :40, :48])


def test_the_loss_is_the_first_stream_heads_loss_of_the_fused_logits():
    head = build(
        streams=[
            skip_head(0, loss_decode=dict(type='CrossEntropyLoss', loss_weight=2.0)),
            skip_head(1, loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        ]
    )
    assert head.loss_decode is head.streams[0].loss_decode
    levels = fc7_levels((32, 32))
    labels = torch.randint(0, CLASSES, (32, 32), generator=torch.Generator().manual_seed(1))
    labels[:4] = 255
    with torch.no_grad():
        losses = head.loss(levels, samples((32, 32), labels), {})
        logits = head(levels)[..., :32, :32]
    expected = 2.0 * torch.nn.functional.cross_entropy(
        logits, labels[None].long(), ignore_index=255
    )
    # mmseg's CrossEntropyLoss averages over every pixel, the ignored ones included.
    expected = expected * (labels != 255).float().mean()
    torch.testing.assert_close(losses['loss_ce'], expected)
    valid = labels != 255
    accuracy = (logits.argmax(1)[0] == labels)[valid].float().mean() * 100
    torch.testing.assert_close(losses['acc_seg'][0], accuracy)


def test_levels_that_do_not_fit_the_input_are_refused_before_the_loss():
    head = build()
    levels = fc7_levels((32, 32))
    with pytest.raises(ValueError, match='sizes 2x2 for a network input of 200x200'):
        head.predict(levels, [s.metainfo for s in samples((200, 200))], {})


def test_the_state_dict_holds_each_stream_head_under_its_index_and_no_layer_of_its_own():
    head = build()
    assert set(head.state_dict()) == {
        f'streams.{i}.conv_seg.{p}' for i in (0, 1) for p in ('weight', 'bias')
    }
    assert head.in_index == [0, 1] and head.in_channels == [FC, FC]
    assert head.num_classes == CLASSES and head.in_strides == (32,)


@pytest.mark.parametrize(
    'streams, weights, match',
    [
        ([skip_head(0)], (1.0,), 'at least two decode head configs'),
        (skip_head(0), (0.5, 0.5), 'at least two decode head configs'),
        ([skip_head(0), skip_head(1)], (1.0,), 'one factor per stream'),
        (
            [skip_head(0), dict(skip_head(1), num_classes=CLASSES + 1)],
            (0.5, 0.5),
            r'streams\[1\].num_classes=6 but streams\[0\].num_classes=5',
        ),
        (
            [skip_head(0), dict(skip_head(1), ignore_index=0)],
            (0.5, 0.5),
            r'streams\[1\].ignore_index=0',
        ),
        (
            [skip_head(0), dict(type='FullyConvVGG')],
            (0.5, 0.5),
            r'streams\[1\] builds a FullyConvVGG, not a decode head',
        ),
    ],
)
def test_bad_arguments_are_refused(streams, weights, match):
    with pytest.raises(ValueError, match=match):
        LateFusionHead(streams=streams, weights=weights)


def test_mmseg_heads_on_streams_are_fused_too():
    fcn = dict(
        type='FCNHead', in_channels=FC, channels=4, num_convs=1, num_classes=CLASSES, in_index=1
    )
    head = build(streams=[dict(fcn, in_index=0), fcn])
    levels = tuple(torch.randn(1, FC, 6, 7) for _ in range(2))
    with torch.no_grad():
        fused = head(levels)
        predicted = head.predict(levels, [dict(img_shape=(48, 56), pad_shape=(48, 56))], {})
    torch.testing.assert_close(fused, 0.5 * head.streams[0](levels) + 0.5 * head.streams[1](levels))
    assert predicted.shape == (1, CLASSES, 48, 56)


def test_the_loss_trains_every_stream_by_its_weight():
    head = build(weights=(0.25, 0.75))
    levels = fc7_levels((32, 32))
    labels = torch.randint(0, CLASSES, (32, 32), generator=torch.Generator().manual_seed(2))
    head.train()
    losses = head.loss(levels, samples((32, 32), labels), {})
    losses['loss_ce'].backward()
    colour, hha = (stream.conv_seg.bias.grad for stream in head.streams)
    # Both streams see the same fused logits: their bias gradients differ by the weights.
    torch.testing.assert_close(hha, 3 * colour)
    assert colour.abs().sum() > 0
