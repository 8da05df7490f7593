"""torchvision and Caffe VGG weights to FullyConvVGG checkpoints."""

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmseg.registry import MODELS

from mmseg_fcn_skip.checkpoints.converters import (
    backbone_meta,
    caffe_vgg_to_mmseg,
    make_checkpoint,
    read_caffemodel,
    torchvision_vgg_to_mmseg,
)
from mmseg_fcn_skip.checkpoints.converters.vgg import torchvision_conv_indices
from mmseg_fcn_skip.models.backbones import FullyConvVGG
from mmseg_fcn_skip.models.backbones.fully_conv_vgg import VGG_BLOCKS
from tests.helpers import REPO as REPO_ROOT
from tests.helpers.caffemodel_writer import caffemodel
from tests.helpers.reference_nets import (
    VGG16_WIDTHS,
    caffe_vgg16,
    reference_vgg,
    torchvision_layers,
    torchvision_vgg,
)


def test_torchvision_conv_indices():
    # torchvision's vgg16 and vgg16_bn
    assert torchvision_conv_indices(16, False) == [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
    assert torchvision_conv_indices(16, True) == [0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40]
    for depth in (11, 13, 16, 19):
        for with_norm in (False, True):
            layers = torchvision_layers(depth, with_norm)
            expected = [i for i, (kind, _) in enumerate(layers) if kind == 'conv']
            assert torchvision_conv_indices(depth, with_norm) == expected


@pytest.mark.parametrize('depth', [11, 13, 16, 19])
@pytest.mark.parametrize('with_norm', [False, True])
def test_torchvision_round_trip(depth, with_norm):
    weights = torchvision_vgg(depth, with_norm)
    state_dict, found_depth, found_norm = torchvision_vgg_to_mmseg(weights)
    assert (found_depth, found_norm) == (depth, with_norm)
    backbone = FullyConvVGG(
        depth=depth, fc_channels=64, norm_cfg=dict(type='BN') if with_norm else None
    )
    shapes = {k: tuple(v.shape) for k, v in backbone.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in state_dict.items()} == shapes
    # The n-th conv of torchvision's list is conv ``c`` of block ``b``, in order.
    layers = torchvision_layers(depth, with_norm)
    conv_indices = [i for i, (kind, _) in enumerate(layers) if kind == 'conv']
    places = [(b, c) for b, n in enumerate(VGG_BLOCKS[depth]) for c in range(n)]
    assert len(places) == len(conv_indices)
    for (block, conv), index in zip(places, conv_indices):
        key, source = f'blocks.{block}.{conv}', f'features.{index}'
        assert state_dict[key + '.conv.weight'] is weights[source + '.weight']
        if not with_norm:
            assert state_dict[key + '.conv.bias'] is weights[source + '.bias']
            continue
        norm = f'features.{index + 1}'
        for name in ('weight', 'bias', 'running_var', 'num_batches_tracked'):
            assert state_dict[f'{key}.bn.{name}'] is weights[f'{norm}.{name}']
        torch.testing.assert_close(
            state_dict[key + '.bn.running_mean'],
            weights[norm + '.running_mean'] - weights[source + '.bias'],
        )
    assert state_dict['fc7.conv.bias'] is weights['classifier.3.bias']
    assert not any(v is weights['classifier.6.weight'] for v in state_dict.values())


@pytest.mark.parametrize('depth, with_norm', [(11, True), (13, False)])
def test_torchvision_checkpoint_loads_by_pretrained_init_and_matches(tmp_path, depth, with_norm):
    """The model base config's init_cfg loads the file; outputs match torchvision."""
    weights = torchvision_vgg(depth, with_norm, seed=depth)
    state_dict, _, _ = torchvision_vgg_to_mmseg(weights)
    path = tmp_path / 'vgg.pth'
    meta = backbone_meta(state_dict, 'torchvision', depth, with_norm)
    torch.save(make_checkpoint(state_dict, meta), path)
    cfg = Config.fromfile(REPO_ROOT / 'configs/_base_/models/fcn8s_vgg16.py')
    backbone_cfg = cfg.model.backbone
    backbone_cfg.init_cfg.checkpoint = str(path)
    backbone_cfg.update(
        depth=depth,
        fc_channels=64,
        out_indices=(4, 5),
        norm_cfg=dict(type='BN') if with_norm else None,
    )
    backbone = MODELS.build(backbone_cfg)
    backbone.init_weights()
    backbone.eval()
    image = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        pool5, fc7 = backbone(image)
        expected_pool5, expected_fc7 = reference_vgg(weights, depth, with_norm, image)
    torch.testing.assert_close(pool5, expected_pool5, rtol=1e-4, atol=1e-4)
    # 'same' padding: the centre of the 7x7 fc7 map sees exactly the 224x224 crop.
    torch.testing.assert_close(fc7[..., 3, 3], expected_fc7, rtol=1e-4, atol=1e-4)


def test_torchvision_vgg16_real_shapes(vgg16_caffe):
    convs = [
        (vgg16_caffe[k + '.weight'], vgg16_caffe[k + '.bias'])
        for k in dict.fromkeys(k.rsplit('.', 1)[0] for k in vgg16_caffe)
        if k.startswith('conv')
    ]
    weights = torchvision_vgg(16, False, fc_channels=1, convs=convs)
    weights['classifier.0.weight'] = vgg16_caffe['fc6.weight'].reshape(4096, 25088)
    weights['classifier.0.bias'] = vgg16_caffe['fc6.bias']
    weights['classifier.3.weight'] = vgg16_caffe['fc7.weight'].reshape(4096, 4096)
    weights['classifier.3.bias'] = vgg16_caffe['fc7.bias']
    weights['classifier.6.weight'] = torch.zeros(1000, 4096)
    weights['classifier.6.bias'] = torch.zeros(1000)
    state_dict, depth, _ = torchvision_vgg_to_mmseg(weights)
    assert depth == 16
    fc6 = state_dict['fc6.conv.weight']
    assert fc6.shape == (4096, 512, 7, 7)
    assert state_dict['fc7.conv.weight'].shape == (4096, 4096, 1, 1)
    pool5 = torch.randn(1, 512, 7, 7)
    torch.testing.assert_close(
        F.conv2d(pool5, fc6).flatten(1),
        F.linear(pool5.flatten(1), weights['classifier.0.weight']),
        rtol=1e-4,
        atol=1e-4,
    )
    meta = backbone_meta(state_dict, 'torchvision', depth, False)
    assert meta['backbone'] == dict(type='FullyConvVGG', depth=16, fc_channels=4096, norm_cfg=None)
    assert meta['data_preprocessor']['bgr_to_rgb'] is True


def test_caffe_vgg16_from_v1_caffemodel(vgg16_caffe):
    weights = OrderedDict(vgg16_caffe)
    weights['fc6.weight'] = weights['fc6.weight'].reshape(4096, 25088)
    weights['fc7.weight'] = weights['fc7.weight'].reshape(4096, 4096)
    weights['fc8.weight'] = torch.randn(1000, 4096)
    weights['fc8.bias'] = torch.randn(1000)
    types = {k.rsplit('.', 1)[0]: 'Convolution' for k in weights}
    types.update(fc6='InnerProduct', fc7='InnerProduct', fc8='InnerProduct')
    state_dict, depth = caffe_vgg_to_mmseg(read_caffemodel(caffemodel(weights, types, v1=True)))
    assert depth == 16
    assert len(state_dict) == 13 * 2 + 4
    for block, num_convs in enumerate(VGG_BLOCKS[16]):
        for conv in range(num_convs):
            for kind in ('weight', 'bias'):
                torch.testing.assert_close(
                    state_dict[f'blocks.{block}.{conv}.conv.{kind}'],
                    vgg16_caffe[f'conv{block + 1}_{conv + 1}.{kind}'],
                    rtol=0,
                    atol=0,
                )
    for name in ('fc6', 'fc7'):
        torch.testing.assert_close(
            state_dict[f'{name}.conv.weight'], vgg16_caffe[f'{name}.weight'], rtol=0, atol=0
        )
    meta = backbone_meta(state_dict, 'caffe', depth, False)
    assert meta['data_preprocessor']['mean'] == [104.00699, 116.66877, 122.67892]
    with pytest.raises(ValueError, match="convention='bgr' is not supported"):
        backbone_meta(state_dict, 'bgr', depth, False)


def test_caffe_vgg19_depth_from_conv_names():
    weights = caffe_vgg16(torch.Generator().manual_seed(3), fc_channels=8)
    for block in (3, 4, 5):
        width = VGG16_WIDTHS[block - 1]
        weights[f'conv{block}_4.weight'] = torch.zeros(width, width, 3, 3)
        weights[f'conv{block}_4.bias'] = torch.zeros(width)
    state_dict, depth = caffe_vgg_to_mmseg(weights)
    assert depth == 19
    assert state_dict['blocks.4.3.conv.weight'] is weights['conv5_4.weight']


@pytest.mark.parametrize(
    'edit, error, match',
    [
        (lambda w: w.pop('features.0.weight'), ValueError, r'has 12 conv weights'),
        (
            lambda w: w.update({'features.99.weight': w.pop('features.0.weight')}),
            KeyError,
            r'at features indices \[0, 2, 5',
        ),
        (
            lambda w: w.update({'features.2.weight': torch.zeros(32, 64, 3, 3)}),
            ValueError,
            r'features.2.weight has shape \(32, 64, 3, 3\)',
        ),
        (lambda w: w.pop('classifier.6.bias'), KeyError, r"missing \['classifier.6.bias'\]"),
        (
            lambda w: w.update({'classifier.0.weight': torch.zeros(64, 100)}),
            ValueError,
            r'fc6.weight has shape \(64, 100\)',
        ),
    ],
)
def test_torchvision_errors(edit, error, match):
    weights = torchvision_vgg(16, False)
    edit(weights)
    with pytest.raises(error, match=match):
        torchvision_vgg_to_mmseg(weights)


def test_caffe_errors():
    weights = caffe_vgg16(torch.Generator().manual_seed(4), fc_channels=8)
    del weights['conv3_3.weight'], weights['conv3_3.bias']
    with pytest.raises(ValueError, match=r'\(2, 2, 2, 3, 3\) convs per block'):
        caffe_vgg_to_mmseg(weights)
    with pytest.raises(KeyError, match='torchvision_vgg2mmseg.py'):
        caffe_vgg_to_mmseg(torchvision_vgg(11, False))
    weights = caffe_vgg16(torch.Generator().manual_seed(4), fc_channels=8)
    weights['score_fr.weight'] = torch.zeros(1)
    with pytest.raises(KeyError, match=r"unknown \['score_fr.weight'\]"):
        caffe_vgg_to_mmseg(weights)
