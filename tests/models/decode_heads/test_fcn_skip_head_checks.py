"""Misaligned setups are errors that name the fix; valid ones pass and pay once."""

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_fcn_skip.models import FCNSkipHead, FullyConvVGG
from mmseg_fcn_skip.models.fusion_plan import level_mismatch

VARIANTS = {1: (5,), 2: (3, 5), 3: (2, 3, 5), 4: (1, 2, 3, 5)}
PAD_MODE_FIX = 'the same pad_mode in model.backbone and model.decode_head'
RESNET_D8 = dict(
    type='ResNetV1c',
    depth=18,
    base_channels=8,
    out_indices=(1, 2, 3),
    strides=(1, 2, 1, 1),
    dilations=(1, 1, 2, 4),
)
RESNET = dict(RESNET_D8, strides=(1, 2, 2, 2), dilations=(1, 1, 1, 1))
MOBILENET_D8 = dict(
    type='MobileNetV2',
    widen_factor=0.25,
    out_indices=(1, 2, 4, 6),
    strides=(1, 2, 2, 1, 1, 1, 1),
    dilations=(1, 1, 1, 2, 2, 4, 4),
)


def vgg(pad_mode: str, num_levels: int) -> dict:
    return dict(
        type='FullyConvVGG',
        pad_mode=pad_mode,
        base_channels=4,
        fc_channels=8,
        out_indices=VARIANTS[num_levels],
    )


def head(in_channels, pad_mode: str = 'same', **kwargs) -> dict:
    return dict(
        type='FCNSkipHead',
        in_channels=tuple(in_channels),
        in_index=tuple(range(len(in_channels))),
        pad_mode=pad_mode,
        num_classes=3,
        **kwargs,
    )


def vgg_channels(num_levels: int):
    return FullyConvVGG(
        base_channels=4, fc_channels=8, out_indices=VARIANTS[num_levels]
    ).out_channels


def segmentor(backbone: dict, decode_head: dict, **test_cfg):
    model = MODELS.build(
        dict(
            type='EncoderDecoder',
            backbone=backbone,
            decode_head=decode_head,
            data_preprocessor=dict(type='SegDataPreProcessor'),
            test_cfg=ConfigDict(mode='whole', **test_cfg),
        )
    )
    return model.eval()


def sample(height: int, width: int, **metainfo) -> SegDataSample:
    metainfo = dict(
        dict(img_shape=(height, width), pad_shape=(height, width), ori_shape=(height, width)),
        **metainfo,
    )
    data_sample = SegDataSample(metainfo=metainfo)
    label_size = metainfo['pad_shape']  # labels are padded with the batch
    data_sample.gt_sem_seg = PixelData(data=torch.randint(0, 3, (1, *label_size)))
    return data_sample


def run(model, mode: str, height: int, width: int):
    image = torch.randn(1, 3, height, width)
    if mode == 'tensor':
        return model(image, mode='tensor')
    if mode == 'predict':
        return model.predict(image, [sample(height, width)])
    return model.loss(image, [sample(height, width)])


def assert_valid_outputs(model, height: int, width: int) -> None:
    """Predictions are the top-left crop of the logits; the loss is finite."""
    image = torch.randn(1, 3, height, width)
    logits = model(image, mode='tensor')[0]
    assert logits.shape[-2] >= height and logits.shape[-1] >= width
    predicted = model.predict(image, [sample(height, width)])[0]
    torch.testing.assert_close(predicted.seg_logits.data, logits[:, :height, :width])
    assert torch.equal(predicted.pred_sem_seg.data[0], logits[:, :height, :width].argmax(0))
    loss = run(model, 'loss', height, width)['decode.loss_ce']
    assert torch.isfinite(loss) and loss > 0


@pytest.mark.parametrize('mode', ['tensor', 'loss', 'predict'])
@pytest.mark.parametrize('num_levels', [2, 3, 4])
def test_caffe_backbone_under_a_same_head_is_named(num_levels, mode):
    model = segmentor(vgg('caffe', num_levels), head(vgg_channels(num_levels), 'same'))
    with pytest.raises(
        ValueError,
        match=r"levels of FullyConvVGG\(pad_mode='caffe'\)"
        rf'.*{PAD_MODE_FIX}',
    ):
        run(model, mode, 61, 45)


@pytest.mark.parametrize('mode', ['tensor', 'loss', 'predict'])
@pytest.mark.parametrize('num_levels', [2, 3, 4])
def test_same_backbone_under_a_caffe_head_is_named(num_levels, mode):
    model = segmentor(vgg('same', num_levels), head(vgg_channels(num_levels), 'caffe'))
    with pytest.raises(
        ValueError,
        match=r'levels of a same-padded backbone.*'
        rf'{PAD_MODE_FIX}',
    ):
        run(model, mode, 61, 45)


@pytest.mark.parametrize('mode', ['loss', 'predict'])
@pytest.mark.parametrize('backbone,head_mode', [('caffe', 'same'), ('same', 'caffe')])
def test_fcn32s_pad_mode_mismatch_is_named_where_the_sizes_tell(backbone, head_mode, mode):
    """fc7 alone: caffe gives ceil((H + 6) / 32), same ceil(H / 32); these differ for
    H = 64 (3 vs 2), so the input size gives the mismatch away."""
    model = segmentor(vgg(backbone, 1), head(vgg_channels(1), head_mode))
    expected = '3x3' if head_mode == 'caffe' else '2x2'
    with pytest.raises(
        ValueError,
        match=rf'input of 64x64, where it expects {expected}'
        rf'.*{PAD_MODE_FIX}',
    ):
        run(model, mode, 64, 64)


@pytest.mark.parametrize('mode', ['tensor', 'loss', 'predict'])
@pytest.mark.parametrize(
    'backbone,in_channels', [(RESNET_D8, (16, 32, 64)), (MOBILENET_D8, (8, 8, 24, 80))]
)
def test_dilated_backbone_is_named_with_the_fixes(backbone, in_channels, mode):
    model = segmentor(backbone, head(in_channels))
    with pytest.raises(
        ValueError,
        match=r'share one stride: the backbone is dilated.*'
        r"in_strides of its outputs.*mmseg's FCNHead",
    ):
        run(model, mode, 61, 45)


def test_single_level_on_a_dilated_backbone_gets_its_stride():
    """ResNet-D8's last stage is at stride 8, not the 32 of the default in_strides."""
    model = segmentor(dict(RESNET_D8, out_indices=(3,)), head((64,)))
    with pytest.raises(
        ValueError,
        match=r'got levels of sizes 8x6 for a network input '
        r'of 61x45, where it expects 2x2.*strides of about \(8,\).*Set '
        'in_strides',
    ):
        run(model, 'loss', 61, 45)
    valid = segmentor(dict(RESNET_D8, out_indices=(3,)), head((64,), in_strides=(8,)))
    assert_valid_outputs(valid, 61, 45)


def test_levels_of_other_strides_are_named():
    """pool2, pool4, fc7 (strides 4, 16, 32) under the default (8, 16, 32)."""
    model = segmentor(dict(vgg('same', 3), out_indices=(1, 3, 5)), head((8, 32, 8)))
    with pytest.raises(
        ValueError,
        match=r'strides of about \(4, 16, 32\).*Set '
        'in_strides to the strides of the backbone outputs',
    ):
        run(model, 'loss', 64, 64)
    with pytest.raises(ValueError, match='Set in_strides'):
        run(model, 'tensor', 64, 64)


def test_equal_strides_are_refused_at_build_time_with_fcn_head_named():
    with pytest.raises(ValueError, match=r"in_strides=\(8, 8, 8\).*mmseg's FCNHead"):
        FCNSkipHead(
            in_channels=(16, 32, 64), in_index=(0, 1, 2), num_classes=3, in_strides=(8, 8, 8)
        )


@pytest.mark.parametrize('size', [(1, 1), (2, 3), (5, 7), (31, 33), (61, 45), (97, 130)])
def test_valid_resnet_setup_passes_at_odd_sizes(size):
    assert_valid_outputs(segmentor(RESNET, head((16, 32, 64))), *size)


@pytest.mark.parametrize('pad_mode', ['same', 'caffe'])
def test_padded_batches_and_slide_inference_pass(pad_mode):
    """The metas name the network input as pad_shape (padded batch) or as a torch.Size
    img_shape (slide inference, whose pad_shape is the whole image's)."""
    model = segmentor(vgg(pad_mode, 3), head(vgg_channels(3), pad_mode))
    image = torch.randn(2, 3, 61, 45)
    samples = [sample(61, 45), sample(50, 40, pad_shape=(61, 45))]
    model.loss(image, samples)
    model.predict(image, samples)
    slide = segmentor(
        vgg(pad_mode, 3), head(vgg_channels(3), pad_mode), crop_size=(33, 29), stride=(28, 16)
    )
    slide.test_cfg.mode = 'slide'
    image = torch.randn(1, 3, 61, 45)
    result = slide.predict(image, [sample(61, 45)])
    # By hand: windows of 33x29 at rows 0 and 28, columns 0 and 16 (the last ones
    # end at the border); each window's logits are its own top-left crop, and the
    # overlaps are averaged.
    total, count = torch.zeros(3, 61, 45), torch.zeros(1, 61, 45)
    for top in (0, 28):
        for left in (0, 16):
            window = image[..., top : top + 33, left : left + 29]
            total[:, top : top + 33, left : left + 29] += slide(window, mode='tensor')[
                0, :, :33, :29
            ]
            count[:, top : top + 33, left : left + 29] += 1
    torch.testing.assert_close(result[0].seg_logits.data, total / count)


def test_a_valid_setup_is_checked_once_per_size():
    model = segmentor(vgg('same', 3), head(vgg_channels(3)))
    level_mismatch.cache_clear()
    run(model, 'loss', 61, 45)
    first = level_mismatch.cache_info()
    for _ in range(3):
        run(model, 'loss', 61, 45)
    again = level_mismatch.cache_info()
    assert again.misses == first.misses and again.hits > first.hits


def test_the_check_is_left_out_while_tracing():
    model = segmentor(vgg('same', 3), head(vgg_channels(3)))
    level_mismatch.cache_clear()
    with torch.no_grad():
        torch.jit.trace(model, torch.randn(1, 3, 61, 45), check_trace=False)
    assert level_mismatch.cache_info().currsize == 0
