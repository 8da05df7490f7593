"""FullyConvAlexNet: the CaffeNet body, its levels as described, the head on them."""

import pytest
import torch
from mmseg.models import EncoderDecoder
from mmseg.registry import MODELS

from mmseg_fcn_skip.models.backbones import FullyConvAlexNet, backbone_levels
from mmseg_fcn_skip.models.backbones.fully_conv_alexnet import LEVELS
from mmseg_fcn_skip.models.decode_heads import FCNSkipHead
from mmseg_fcn_skip.models.geometry import Grid
from tests.helpers.fcn_alexnet_reference import lrn

#: Narrow widths: every layer as in CaffeNet but cheap.
LIGHT = dict(channels=(8, 16, 16, 16, 16), fc_channels=8)


def light(**kwargs):
    return FullyConvAlexNet(**dict(LIGHT, **kwargs)).eval()


def test_registered_and_described_by_type_name():
    assert MODELS.get('FullyConvAlexNet') is FullyConvAlexNet
    assert backbone_levels('FullyConvAlexNet') is LEVELS is FullyConvAlexNet.levels
    assert LEVELS.names == ('pool1', 'pool2', 'pool5', 'fc7')
    assert LEVELS.strides == (8, 16, 32, 32)
    assert LEVELS.channels == (96, 256, 256, 4096)


def test_caffenet_layers_and_parameter_count():
    net = FullyConvAlexNet(pad_mode='caffe')
    assert net.conv1.conv.stride == (4, 4) and net.conv1.conv.padding == (100, 100)
    assert [getattr(net, f'conv{k}').conv.groups for k in range(1, 6)] == [1, 2, 1, 2, 2]
    assert net.conv2.conv.weight.shape == (256, 48, 5, 5)
    assert net.fc6.conv.weight.shape == (4096, 256, 6, 6)
    assert net.pool1.ceil_mode and net.pool1.padding == 0
    # CaffeNet's 60,965,224 parameters less fc8 (4096 x 1000 + 1000).
    assert sum(p.numel() for p in net.parameters()) == 60965224 - 4097000


@pytest.mark.parametrize('pad_mode', ['caffe', 'same'])
def test_level_sizes_are_the_described_ones(pad_mode):
    net = light(pad_mode=pad_mode, out_indices=(0, 1, 2, 3))
    for height, width in [(33, 40), (64, 64), (97, 70)]:
        with torch.no_grad():
            levels = net(torch.zeros(1, 3, height, width))
        sizes = list(zip(LEVELS.sizes(pad_mode, height), LEVELS.sizes(pad_mode, width)))
        assert [tuple(level.shape[-2:]) for level in levels] == sizes
        assert [level.shape[1] for level in levels] == [8, 16, 16, 8]


def test_same_mode_levels_are_about_size_over_stride_on_the_corner_grid():
    for length in range(33, 160, 7):
        pool1, pool2, _, fc7 = LEVELS.sizes('same', length)
        assert (pool1, pool2, fc7) == tuple(-(-length // s) for s in (8, 16, 32))
    grids = LEVELS.grids('same')
    assert [grids[k] for k in (0, 1, 3)] == [Grid(8, 0), Grid(16, 0), Grid(32, 0)]
    # pool5 lies half a stride off; fc6's 6x6 window padded by 3 moves fc7 back.
    assert grids[2] == Grid(32, 16)


def test_caffe_mode_grids_and_sizes():
    assert [float(g.offset) for g in LEVELS.grids('caffe')] == [-91, -83, -67, 13]
    # (500 + 200 - 11) // 4 + 1 = 173 after conv1; 3x3/2 rounding up: 86, 43, 21;
    # fc6 6x6 unpadded: 16.
    assert LEVELS.sizes('caffe', 500) == (86, 43, 21, 16)


def test_the_lrn_is_caffes():
    x = torch.randn(2, 12, 3, 4) * 50
    torch.testing.assert_close(light().lrn(x), lrn(x))


def test_dropout_after_fc6_and_fc7_in_training_only():
    net = light(pad_mode='same')
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(net(x)[0], net(x)[0])
        net.train()
        assert not torch.equal(net(x)[0], net(x)[0])


def test_frozen_stages_and_norm_eval():
    net = light(frozen_stages=2, norm_cfg=dict(type='BN'), norm_eval=True).train()
    frozen = [name for name, p in net.named_parameters() if not p.requires_grad]
    assert {name.split('.')[0] for name in frozen} == {'conv1', 'conv2', 'conv3', 'conv4', 'conv5'}
    assert net.fc6.conv.weight.requires_grad
    assert not net.conv5.bn.training and not net.conv1.training
    assert not light(frozen_stages=3).fc7.conv.weight.requires_grad


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(pad_mode='valid'), r"pad_mode='valid' is not supported"),
        (dict(out_indices=(4,)), r'out_indices=\(4,\) must be .* 0..3'),
        (dict(frozen_stages=4), r'frozen_stages=4 must be in -1..3'),
        (dict(channels=(96, 256, 384, 385, 256)), r'5 even positive widths.*2 groups'),
        (dict(dropout_ratio=1.0), r'dropout_ratio=1.0 must be in \[0, 1\)'),
    ],
)
def test_misconfiguration_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FullyConvAlexNet(**kwargs)


def test_the_head_derives_the_63_upsampling_and_crop_18():
    head = FCNSkipHead(
        in_channels=(4096,),
        in_index=(0,),
        pad_mode='caffe',
        backbone_type='FullyConvAlexNet',
        num_classes=21,
    )
    # fc7 on 32 * j + 13: only the odd 2 * 32 - 1 kernel lands on whole pixels
    # (13 - 31 = -18); the even 64 would leave half a pixel (13 - 31.5).
    assert head.final_upsample.weight.shape == (21, 1, 63, 63)
    assert head.final_upsample.factor == 32 and head.final_crop == 18
    skip = FCNSkipHead(
        in_channels=(256, 4096),
        in_index=(0, 1),
        in_strides=(16, 32),
        pad_mode='caffe',
        backbone_type='FullyConvAlexNet',
        num_classes=21,
    )
    assert skip.fuse_crops == [(0, 5)] and skip.final_crop == 18


def _model(head_backbone_type):
    backbone = dict(type='FullyConvAlexNet', pad_mode='caffe', **LIGHT)
    head = dict(
        type='FCNSkipHead',
        in_channels=(8,),
        in_index=(0,),
        pad_mode='caffe',
        num_classes=3,
        backbone_type=head_backbone_type,
    )
    return EncoderDecoder(backbone=backbone, decode_head=head).eval()


def test_a_head_reading_vgg_levels_on_alexnet_raises_the_size_check():
    # The first input size where the two nets' fc7 sizes differ.
    vgg = backbone_levels('FullyConvVGG')
    height = next(
        n for n in range(32, 200) if LEVELS.sizes('caffe', n)[-1] != vgg.sizes('caffe', n)[-1]
    )
    metas = [
        dict(img_shape=(height, height), ori_shape=(height, height), pad_shape=(height, height))
    ]
    x = torch.zeros(1, 3, height, height)
    with torch.no_grad():
        assert _model('FullyConvAlexNet').encode_decode(x, metas).shape[-1] == height
        with pytest.raises(
            ValueError,
            match=r"got levels of sizes .* where it expects .*those of FullyConvVGG\(pad_mode='caffe'\)",
        ):
            _model('FullyConvVGG').encode_decode(x, metas)
