"""The FCN converter: key mapping, checks, and equivalence with the reference nets.

Equivalence: random weights with the real layer names and shapes (VGG16, fc 4096,
21 classes unless stated) are converted, loaded by ``mmseg.apis.init_model`` into the
Caffe-exact configs, and the logits of ``model.encode_decode`` are compared with
``reference_nets.caffe_fcn_head`` (plain PyTorch from the reference layer list) on
inputs of several sizes, odd ones included. Tolerance: the largest absolute
difference must stay within 1e-5 of the largest reference score (float32 round-off;
the observed ratio is about 1e-7); a one-pixel misalignment is checked to exceed it
by orders of magnitude.
"""

import re

import pytest
import torch
from mmseg.apis import init_model

from mmseg_fcn_skip.checkpoints.converters import (
    caffe_fcn_to_mmseg,
    detect_fcn_variant,
    fcn_meta,
    is_bilinear_upscore,
    make_checkpoint,
    read_caffemodel,
)
from mmseg_fcn_skip.checkpoints.converters.fcn import CONFIGS
from mmseg_fcn_skip.models.utils import bilinear_kernel
from mmseg_fcn_skip.utils import packaged_config
from tests.helpers import REPO as REPO_ROOT
from tests.helpers.caffemodel_writer import caffemodel
from tests.helpers.reference_nets import (
    bilinear_upscore,
    caffe_fcn_head,
    caffe_vgg16,
    caffe_vgg16_features,
    fcn_head,
)

VOC_CLASSES = 21
AT_ONCE = {'score_pool3': 0.0001, 'score_pool4': 0.01}
TOLERANCE = 1e-5


@pytest.fixture(scope='module')
def reference_features(vgg16_caffe):
    """Reference pool3/pool4/fc7 and input per image size, computed once per size."""
    cache = {}

    def features(size):
        if size not in cache:
            generator = torch.Generator().manual_seed(size[0] * 1000 + size[1])
            image = 60 * torch.randn(1, 3, *size, generator=generator)
            with torch.no_grad():
                cache[size] = image, caffe_vgg16_features(vgg16_caffe, image)
        return cache[size]

    return features


@pytest.fixture(scope='module')
def light_vgg16():
    """VGG16 with fc6/fc7 narrowed to 64 channels: the converter's checks, quickly."""
    return caffe_vgg16(torch.Generator().manual_seed(1), fc_channels=64)


def _head(variant, num_classes=VOC_CLASSES, learned=False, fc_channels=4096, seed=0):
    return fcn_head(variant, num_classes, torch.Generator().manual_seed(seed), learned, fc_channels)


def _load(tmp_path, state_dict, variant, learn_upsample=False, cfg_options=None):
    path = tmp_path / f'fcn{variant}.pth'
    meta = fcn_meta(state_dict, variant, learn_upsample)
    torch.save(make_checkpoint(state_dict, meta), path)
    model = init_model(
        packaged_config(CONFIGS[variant]), str(path), device='cpu', cfg_options=cfg_options
    )
    # mmengine loads non-strictly: every model key must come from the checkpoint.
    assert set(model.state_dict()) == set(state_dict)
    return model.eval()


def _check_equivalence(model, weights, reference_features, variant, sizes, skip_scales=None):
    for size in sizes:
        image, features = reference_features(size)
        meta = dict(img_shape=size, ori_shape=size, pad_shape=size)
        with torch.no_grad():
            expected = caffe_fcn_head(weights, features, image, variant, skip_scales)
            logits = model.encode_decode(image, [meta])
        assert logits.shape == expected.shape == (1, expected.shape[1], *size)
        scale = expected.abs().max()
        assert scale > 1
        torch.testing.assert_close(logits, expected, rtol=0, atol=TOLERANCE * scale)
        if size[0] > 1:
            shifted = (logits[..., 1:, :] - expected[..., :-1, :]).abs().max()
            assert shifted > 100 * TOLERANCE * scale


@pytest.mark.parametrize(
    'variant, sizes',
    [
        ('8s', [(1, 1), (17, 23), (50, 71), (64, 64)]),
        ('16s', [(17, 23)]),
        ('32s', [(33, 45)]),
    ],
)
def test_converted_fcn_matches_reference(tmp_path, vgg16_caffe, reference_features, variant, sizes):
    weights = dict(vgg16_caffe, **_head(variant))
    state_dict, found = caffe_fcn_to_mmseg(weights)
    assert found == variant
    model = _load(tmp_path, state_dict, variant)
    assert model.dataset_meta['classes'][1] == 'aeroplane'
    _check_equivalence(model, weights, reference_features, variant, sizes)


def test_at_once_caffemodel_matches_reference(tmp_path, vgg16_caffe, reference_features):
    weights = dict(vgg16_caffe, **_head('8s', seed=1))
    weights['scale_pool3.weight'] = torch.full((256,), 0.0001)
    weights['scale_pool4.weight'] = torch.full((512,), 0.01)
    types = {k.rsplit('.', 1)[0]: 'Convolution' for k in weights}
    types.update(
        upscore2='Deconvolution',
        upscore_pool4='Deconvolution',
        upscore8='Deconvolution',
        scale_pool3='Scale',
        scale_pool4='Scale',
    )
    state_dict, variant = caffe_fcn_to_mmseg(read_caffemodel(caffemodel(weights, types)))
    assert variant == '8s-atonce'
    model = _load(tmp_path, state_dict, variant)
    assert model.decode_head.skip_scales == (0.0001, 0.01)
    _check_equivalence(model, weights, reference_features, '8s', [(17, 23)], AT_ONCE)


def test_learned_upsampling_matches_reference(tmp_path, vgg16_caffe, reference_features):
    weights = dict(vgg16_caffe, **_head('8s', num_classes=5, learned=True, seed=2))
    with pytest.raises(ValueError, match='learn-upsample'):
        caffe_fcn_to_mmseg(weights)
    state_dict, _ = caffe_fcn_to_mmseg(weights, learn_upsample=True)
    model = _load(
        tmp_path,
        state_dict,
        '8s',
        learn_upsample=True,
        cfg_options={'model.decode_head.num_classes': 5, 'model.decode_head.learn_upsample': True},
    )
    _check_equivalence(model, weights, reference_features, '8s', [(50, 71)])


def test_every_tensor_lands_in_its_place(light_vgg16):
    weights = dict(light_vgg16, **_head('8s', learned=True, fc_channels=64))
    state_dict, _ = caffe_fcn_to_mmseg(weights, learn_upsample=True)
    expected = {
        'decode_head.conv_seg': 'score_fr',
        'decode_head.skip_scores.stride8': 'score_pool3',
        'decode_head.skip_scores.stride16': 'score_pool4',
        'backbone.blocks.0.0.conv': 'conv1_1',
        'backbone.blocks.2.2.conv': 'conv3_3',
        'backbone.blocks.4.2.conv': 'conv5_3',
        'backbone.fc6.conv': 'fc6',
        'backbone.fc7.conv': 'fc7',
    }
    for key, name in expected.items():
        for kind in ('weight', 'bias'):
            assert state_dict[f'{key}.{kind}'] is weights[f'{name}.{kind}']
    upsamples = {
        'fuse_upsamples.stride32': 'upscore2',
        'fuse_upsamples.stride16': 'upscore_pool4',
        'final_upsample': 'upscore8',
    }
    for key, name in upsamples.items():
        assert state_dict[f'decode_head.{key}.weight'] is weights[f'{name}.weight']
    # 13 convs x 2 + fc6/fc7 x 2 + 3 scores x 2 + 3 upsamplings
    assert len(state_dict) == len(weights) == 26 + 4 + 6 + 3


def test_bilinear_upsampling_is_dropped(light_vgg16):
    weights = dict(light_vgg16, **_head('16s', fc_channels=64))
    state_dict, _ = caffe_fcn_to_mmseg(weights)
    assert not [k for k in state_dict if 'upsample' in k]
    assert set(k.split('.')[0] for k in state_dict) == {'backbone', 'decode_head'}


def test_fc_layers_may_be_fully_connected(light_vgg16):
    weights = dict(light_vgg16, **_head('32s', fc_channels=64))
    as_conv, _ = caffe_fcn_to_mmseg(weights)
    weights['fc6.weight'] = weights['fc6.weight'].reshape(64, -1)
    weights['fc7.weight'] = weights['fc7.weight'].reshape(64, 64)
    state_dict, _ = caffe_fcn_to_mmseg(weights)
    # Caffe flattens a blob channel-major (C, H, W): the same tensors as the 4-D blobs.
    for name in ('fc6', 'fc7'):
        key = f'backbone.{name}.conv.weight'
        assert torch.equal(state_dict[key], as_conv[key])
    assert state_dict['backbone.fc6.conv.weight'].shape == (64, 512, 7, 7)
    assert state_dict['backbone.fc7.conv.weight'].shape == (64, 64, 1, 1)


def test_port_at_once_weights_need_the_variant(light_vgg16):
    weights = dict(light_vgg16, **_head('8s', fc_channels=64))
    staged, variant = caffe_fcn_to_mmseg(weights)
    at_once, at_once_variant = caffe_fcn_to_mmseg(weights, variant='8s-atonce')
    assert (variant, at_once_variant) == ('8s', '8s-atonce')
    assert staged.keys() == at_once.keys()
    assert fcn_meta(at_once, '8s-atonce', False)['config'].endswith(
        'fcn8s-atonce_vgg16-caffe_1xb1-300k_seg11valid-fullsize.py'
    )


@pytest.mark.parametrize(
    'keys, variant',
    [
        (['score_fr.weight'], '32s'),
        (['score_fr.weight', 'score_pool4.weight'], '16s'),
        (['score_pool4.weight', 'score_pool3.weight'], '8s'),
        (['score_pool3.weight', 'scale_pool3.weight'], '8s-atonce'),
    ],
)
def test_detect_fcn_variant(keys, variant):
    assert detect_fcn_variant(dict.fromkeys(keys)) == variant


def test_missing_and_unknown_keys_are_listed(light_vgg16):
    weights = dict(light_vgg16, **_head('16s', fc_channels=64))
    del weights['score_pool4.bias']
    weights['fc8.weight'] = torch.zeros(1)
    with pytest.raises(
        KeyError, match=re.escape("missing ['score_pool4.bias'], unknown ['fc8.weight']")
    ):
        caffe_fcn_to_mmseg(weights)


@pytest.mark.parametrize(
    'change, match',
    [
        (dict(variant='16s'), 'keys are those of FCN-8s'),
        (dict(variant='8s-once'), 'is not supported'),
        (dict(score_pool3=torch.zeros(21, 512, 1, 1)), r'score_pool3.weight has shape'),
        (dict(upscore8=torch.zeros(21, 21, 8, 8)), r'x8 upsampling of 21 classes'),
        (dict(upscore_pool4=bilinear_upscore(21, 4).flip(0)), r"\['upscore_pool4'\]"),
    ],
)
def test_bad_variants_shapes_and_upsampling_raise(light_vgg16, change, match):
    weights = dict(light_vgg16, **_head('8s', fc_channels=64))
    variant = change.pop('variant', None)
    weights.update({f'{name}.weight': value for name, value in change.items()})
    with pytest.raises(ValueError, match=match):
        caffe_fcn_to_mmseg(weights, variant=variant)


def test_at_once_scale_layers_are_checked(light_vgg16):
    weights = dict(light_vgg16, **_head('8s', fc_channels=64))
    weights['scale_pool3.weight'] = torch.full((256,), 0.0001)
    weights['scale_pool4.weight'] = torch.full((512,), 0.1)
    with pytest.raises(ValueError, match='scale_pool4.weight is not the constant 0.01'):
        caffe_fcn_to_mmseg(weights)
    weights['scale_pool4.weight'] = torch.full((512,), 0.01)
    with pytest.raises(ValueError, match="variant='8s' was asked for"):
        caffe_fcn_to_mmseg(weights, variant='8s')
    assert caffe_fcn_to_mmseg(weights)[1] == '8s-atonce'


def test_is_bilinear_upscore():
    weight = bilinear_upscore(3, 16)
    assert is_bilinear_upscore(weight)
    torch.testing.assert_close(weight[1, 1], bilinear_kernel(16))
    for index in [(1, 1, 7, 8), (0, 2, 3, 3)]:
        changed = weight.clone()
        changed[index] += 1e-3
        assert not is_bilinear_upscore(changed)


def test_meta_carries_voc_classes_only_for_21_classes(light_vgg16):
    for num_classes, has_classes in [(21, True), (5, False)]:
        weights = dict(light_vgg16, **_head('32s', num_classes, fc_channels=64))
        state_dict, variant = caffe_fcn_to_mmseg(weights)
        meta = fcn_meta(state_dict, variant, False)
        assert (meta['num_classes'], meta['fc_channels']) == (num_classes, 64)
        assert ('dataset_meta' in meta) == has_classes
        assert (REPO_ROOT / meta['config']).is_file()
