import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.structures import PixelData

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg_fcn_skip.models import FCNSkipHead, FullyConvVGG

#: Backbone levels of FCN-32s, 16s, 8s and 4s (pool2, pool3, pool4, fc7; deepest last).
VARIANTS = {1: (5, ), 2: (3, 5), 3: (2, 3, 5), 4: (1, 2, 3, 5)}
SIZES = [(1, 1), (5, 7), (31, 33), (64, 64), (97, 130), (200, 17)]


def build_segmentor(num_levels: int, pad_mode: str, **head_kwargs):
    backbone = dict(type='FullyConvVGG', pad_mode=pad_mode, base_channels=4,
                    fc_channels=8, out_indices=VARIANTS[num_levels])
    channels = FullyConvVGG(**{k: v for k, v in backbone.items() if k != 'type'}
                            ).out_channels
    head = dict(type='FCNSkipHead', in_channels=channels,
                in_index=tuple(range(num_levels)), pad_mode=pad_mode, num_classes=3)
    head.update(dict(score_init='normal'), **head_kwargs)
    model = MODELS.build(
        dict(type='EncoderDecoder', backbone=backbone, decode_head=head,
             data_preprocessor=dict(type='SegDataPreProcessor'),
             test_cfg=ConfigDict(mode='whole')))
    model.init_weights()
    return model


def sample(height: int, width: int) -> SegDataSample:
    data_sample = SegDataSample(metainfo=dict(
        img_shape=(height, width), pad_shape=(height, width),
        ori_shape=(height, width)))
    label = torch.randint(0, 3, (1, height, width))
    data_sample.gt_sem_seg = PixelData(data=label)
    return data_sample


@pytest.mark.parametrize('pad_mode', ['same', 'caffe'])
@pytest.mark.parametrize('num_levels', [1, 2, 3, 4])
def test_predictions_and_loss_have_the_input_size(pad_mode, num_levels):
    model = build_segmentor(num_levels, pad_mode)
    for height, width in SIZES:
        image = torch.randn(1, 3, height, width)
        predictions = model.predict(image, [sample(height, width)])
        assert predictions[0].seg_logits.data.shape == (3, height, width)
        assert predictions[0].pred_sem_seg.data.shape == (1, height, width)
        losses = model.loss(image, [sample(height, width)])
        assert torch.isfinite(losses['decode.loss_ce'])


@pytest.mark.parametrize('num_levels,crops', [
    (1, ([], 19)),
    (2, ([(0, 5)], 27)),
    (3, ([(0, 5), (0, 9)], 31)),
])
def test_caffe_crops_are_the_reference_ones(num_levels, crops):
    channels = (256, 512, 4096)[-num_levels:]
    head = FCNSkipHead(in_channels=channels, in_index=tuple(range(num_levels)),
                       pad_mode='caffe', num_classes=21)
    assert (head.fuse_crops, head.final_crop) == crops


@pytest.mark.parametrize('upsample', ['deconv', 'bilinear'])
def test_same_mode_centres_a_level_pixel_on_its_input_window(upsample):
    """Pixel j of a stride-32 map covers input pixels 32j..32j+31, centred at 32j+15.5."""
    head = FCNSkipHead(in_channels=(1, ), in_index=(0, ), num_classes=1,
                       out_channels=1, threshold=0.5, upsample=upsample)
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
    kwargs = dict(in_channels=(2, 3, 4), in_index=(0, 1, 2), num_classes=5,
                  score_init='normal')
    plain = FCNSkipHead(**kwargs)
    plain.init_weights()
    scaled = FCNSkipHead(skip_scales=(0.0001, 0.01), **kwargs)
    scaled.load_state_dict(plain.state_dict())
    levels = [torch.randn(1, 2, 8, 8), torch.randn(1, 3, 4, 4), torch.randn(1, 4, 2, 2)]
    expected = plain([levels[0] * 0.0001, levels[1] * 0.01, levels[2]])
    torch.testing.assert_close(scaled(levels), expected)


def test_zero_init_scores_start_at_zero_and_still_learn():
    model = build_segmentor(3, 'same', score_init='zeros')
    head = model.decode_head
    head.init_weights()
    assert all(not conv.weight.any() for conv in [head.conv_seg, *head.skip_scores])
    losses = model.loss(torch.randn(1, 3, 40, 40), [sample(40, 40)])
    losses['decode.loss_ce'].backward()
    assert head.conv_seg.weight.grad.abs().sum() > 0
    assert all(conv.weight.grad.abs().sum() > 0 for conv in head.skip_scores)


def test_learned_upsampling_has_parameters_and_starts_bilinear():
    fixed = build_segmentor(3, 'caffe')
    learned = build_segmentor(3, 'caffe', learn_upsample=True)
    learned.load_state_dict(fixed.state_dict(), strict=False)
    image = torch.randn(1, 3, 45, 50)
    assert len(list(learned.decode_head.final_upsample.parameters())) == 1
    fixed.eval(), learned.eval()
    torch.testing.assert_close(learned.predict(image)[0].seg_logits.data,
                               fixed.predict(image)[0].seg_logits.data)


def test_head_trains_on_mmseg_resnet_stages():
    model = MODELS.build(dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor'),
        backbone=dict(type='ResNetV1c', depth=18, base_channels=8, out_indices=(1, 2, 3),
                      strides=(1, 2, 2, 2), dilations=(1, 1, 1, 1)),
        decode_head=dict(type='FCNSkipHead', in_channels=(16, 32, 64), in_index=(0, 1, 2),
                         num_classes=3, score_init='normal'),
        test_cfg=ConfigDict(mode='whole')))
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


@pytest.mark.parametrize('kwargs,match', [
    (dict(in_channels=(256, 512), in_index=(0, 1, 2)), 'equal length'),
    (dict(num_classes=0), 'num_classes=0'),
    (dict(pad_mode='valid'), "pad_mode='valid'"),
    (dict(in_strides=(8, 12, 32)), r'in_strides=\(8, 12, 32\)'),
    (dict(in_strides=(8, 32)), 'one stride per input level'),
    (dict(skip_scales=(0.01, )), 'skip_scales'),
    (dict(score_init='xavier'), "score_init='xavier'"),
    (dict(channels=512), 'channels must equal'),
    (dict(input_transform='resize_concat'), 'input_transform'),
    (dict(pad_mode='caffe', in_strides=(8, 16, 64)), "pad_mode='caffe'"),
])
def test_bad_arguments_name_the_argument(kwargs, match):
    args = dict(in_channels=(256, 512, 4096), in_index=(0, 1, 2), num_classes=21)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        FCNSkipHead(**args)


def test_channels_that_do_not_match_the_backbone_are_named():
    head = FCNSkipHead(in_channels=(256, 256, 4096), in_index=(0, 1, 2), num_classes=2)
    levels = [torch.randn(1, 256, 8, 8), torch.randn(1, 512, 4, 4),
              torch.randn(1, 4096, 2, 2)]
    with pytest.raises(ValueError, match=r'in_channels\[1\]=256 .* 512 channels'):
        head(levels)
