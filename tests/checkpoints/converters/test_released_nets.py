"""The released PASCAL-Context and NYUDv2 nets: recognised, converted, loaded and equal
to the reference net, class by class.

Random weights with each net's Caffe layer names and class count (VGG16 convs; fc6/fc7
narrowed to 16 channels, set in the config by ``cfg_options``, to keep the test light)
are converted, loaded by ``mmseg.apis.init_model`` into the net's config, and the
logits of ``model.encode_decode`` are compared at three input sizes with
``reference_nets.caffe_fcn_head``, whose channels are in the released order: each
channel of the converted net is compared with the released channel of the same class,
found by name through the class lists written out below (the reference's
``data/pascal-context/classes-59.txt`` and ``data/nyud/classes.txt``).
"""

import re

import pytest
import torch
from mmseg.apis import init_model
from mmseg.datasets import PascalContextDataset59

from mmseg_fcn_skip.checkpoints import CAFFE_FCN, convert
from mmseg_fcn_skip.checkpoints.converters.released import RELEASED_NETS, class_indices
from mmseg_fcn_skip.utils import packaged_config
from tests.helpers import REPO as REPO_ROOT
from tests.helpers.reference_nets import caffe_fcn_head, caffe_vgg16, caffe_vgg16_features, fcn_head

FC = 16
SIZES = [(1, 1), (19, 26), (45, 33)]
TOLERANCE = 1e-5
# data/pascal-context/classes-59.txt of the reference, line by line.
CONTEXT_RELEASED = (
    'background aeroplane bicycle bird boat bottle bus car cat chair cow diningtable dog '
    'horse motorbike person pottedplant sheep sofa train tvmonitor bag bed bench book '
    'building cabinet ceiling clothes computer cup door fence floor flower food grass '
    'ground keyboard light mountain mouse curtain platform sign plate road rock shelves '
    'sidewalk sky snow bedcloth track tree truck wall water window wood'
).split()
# data/nyud/classes.txt of the reference (its 'refridgerator' spelled right).
NYUD_RELEASED = (
    'wall|floor|cabinet|bed|chair|sofa|table|door|window|bookshelf|picture|counter|blinds|'
    'desk|shelves|curtain|dresser|pillow|mirror|floor mat|clothes|ceiling|books|'
    'refrigerator|television|paper|towel|shower curtain|box|whiteboard|person|night stand|'
    'toilet|sink|lamp|bathtub|bag|otherstructure|otherfurniture|otherprop'
).split('|')
# mmseg's names of the classes the reference spells otherwise.
MMSEG_SPELLING = {'table': 'diningtable', 'bedclothes': 'bedcloth', 'cloth': 'clothes'}
NETS = {
    'pascalcontext-fcn32s-heavy': ('32s', CONTEXT_RELEASED),
    'pascalcontext-fcn16s-heavy': ('16s', CONTEXT_RELEASED),
    'pascalcontext-fcn8s-heavy': ('8s', CONTEXT_RELEASED),
    'nyud-fcn32s-color-heavy': ('32s', NYUD_RELEASED),
    'nyud-fcn32s-hha-heavy': ('32s', NYUD_RELEASED),
}
IN_CHANNELS = {'32s': [FC], '16s': [512, FC], '8s': [256, 512, FC]}


@pytest.fixture(scope='module')
def vgg16_light():
    return caffe_vgg16(torch.Generator().manual_seed(7), fc_channels=FC)


def released_weights(body, name, seed=0):
    variant, classes = NETS[name]
    head = fcn_head(variant, len(classes), torch.Generator().manual_seed(seed), fc_channels=FC)
    return dict(body, **head)


def light_options(variant):
    return {
        'model.backbone.fc_channels': FC,
        'model.decode_head.in_channels': IN_CHANNELS[variant],
        'model.backbone.init_cfg': None,
    }


def released_channel(name: str, released) -> int:
    return released.index(name if name in released else MMSEG_SPELLING[name])


@pytest.mark.parametrize('name', list(NETS))
def test_converted_net_matches_the_reference_class_by_class(tmp_path, vgg16_light, name):
    variant, released = NETS[name]
    weights = released_weights(vgg16_light, name)
    net = name if name.startswith('nyud') else None  # the Context nets are recognised
    checkpoint, meta = convert(weights, CAFFE_FCN, net=net)
    assert meta['net'] == name and meta['variant'] == variant
    path = tmp_path / f'{name}.pth'
    torch.save(checkpoint, path)
    config = packaged_config(RELEASED_NETS[name].config)
    model = init_model(config, str(path), device='cpu', cfg_options=light_options(variant)).eval()
    assert set(model.state_dict()) == set(checkpoint['state_dict'])
    classes = model.dataset_meta['classes']
    if name.startswith('pascalcontext'):
        assert classes == PascalContextDataset59.METAINFO['classes']
        assert len(classes) == 59 and 'background' not in classes
    else:
        assert list(classes) == NYUD_RELEASED
    for size in SIZES:
        generator = torch.Generator().manual_seed(size[0] * 100 + size[1])
        image = 60 * torch.randn(1, 3, *size, generator=generator)
        with torch.no_grad():
            expected = caffe_fcn_head(weights, caffe_vgg16_features(weights, image), image, variant)
            meta_info = dict(img_shape=size, ori_shape=size, pad_shape=size)
            logits = model.encode_decode(image, [meta_info])
        assert logits.shape == (1, len(classes), *size)
        scale = expected.abs().max()
        for index, class_name in enumerate(classes):
            torch.testing.assert_close(
                logits[:, index],
                expected[:, released_channel(class_name, released)],
                rtol=0,
                atol=TOLERANCE * scale,
                msg=lambda m, c=class_name: f'{name}, class {c}: {m}',
            )


def test_context_keeps_background_for_the_60_class_dataset(vgg16_light):
    weights = released_weights(vgg16_light, 'pascalcontext-fcn32s-heavy')
    checkpoint, meta = convert(weights, CAFFE_FCN, dataset='PascalContextDataset')
    classes = meta['dataset_meta']['classes']
    assert len(classes) == 60 and classes[0] == 'background' and meta['config'] is None
    score = checkpoint['state_dict']['decode_head.conv_seg.bias']
    for index, class_name in enumerate(classes):
        assert (
            score[index] == weights['score_fr.bias'][released_channel(class_name, CONTEXT_RELEASED)]
        )


def test_context_fcn8s_for_the_60_class_config_matches_the_reference(tmp_path, vgg16_light):
    weights = released_weights(vgg16_light, 'pascalcontext-fcn8s-heavy', seed=5)
    checkpoint, meta = convert(weights, CAFFE_FCN, dataset='PascalContextDataset')
    assert meta['config'].endswith('fcn8s_vgg16-caffe_1xb1-400k_pascal-context-60-fullsize.py')
    torch.save(checkpoint, tmp_path / 'fcn8s-60.pth')
    model = init_model(
        str(REPO_ROOT / meta['config']),
        str(tmp_path / 'fcn8s-60.pth'),
        device='cpu',
        cfg_options=light_options('8s'),
    ).eval()
    classes = model.dataset_meta['classes']
    assert len(classes) == 60 and classes[0] == 'background'
    size = (23, 17)
    image = 60 * torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = caffe_fcn_head(weights, caffe_vgg16_features(weights, image), image, '8s')
        logits = model.encode_decode(image, [dict(img_shape=size, ori_shape=size, pad_shape=size)])
    index = [released_channel(name, CONTEXT_RELEASED) for name in classes]
    torch.testing.assert_close(
        logits, expected[:, index], rtol=0, atol=TOLERANCE * expected.abs().max()
    )


def test_voc_classes_from_a_context_net_and_unmatched_names_listed(vgg16_light):
    weights = released_weights(vgg16_light, 'pascalcontext-fcn8s-heavy')
    checkpoint, meta = convert(weights, CAFFE_FCN, dataset='PascalVOCDataset')
    assert meta['num_classes'] == 21 and meta['dataset_meta']['classes'][11] == 'diningtable'
    assert torch.equal(
        checkpoint['state_dict']['decode_head.skip_scores.stride8.weight'],
        weights['score_pool3.weight'][:21],
    )
    with pytest.raises(
        ValueError, match=re.escape("the classes ['toilet', 'lamp'] of the dataset")
    ):
        class_indices(CONTEXT_RELEASED, ['cat', 'table', 'toilet', 'cloth', 'lamp'])
    with pytest.raises(ValueError, match=r"the classes \[.*'picture'.*\] of the dataset"):
        convert(weights, CAFFE_FCN, dataset='NYUDv2Dataset')


def test_nyud_colour_and_hha_must_be_named(vgg16_light):
    weights = released_weights(vgg16_light, 'nyud-fcn32s-color-heavy')
    with pytest.raises(
        ValueError, match='--net nyud-fcn32s-color-heavy or --net nyud-fcn32s-hha-heavy'
    ):
        convert(weights, CAFFE_FCN)
    colour = convert(weights, CAFFE_FCN, net='nyud-fcn32s-color-heavy').meta
    hha = convert(weights, CAFFE_FCN, net='nyud-fcn32s-hha-heavy').meta
    assert colour['data_preprocessor'] == dict(
        bgr_to_rgb=False, mean=[116.190, 97.203, 92.318], std=[1.0, 1.0, 1.0]
    )
    assert hha['data_preprocessor'] == dict(
        bgr_to_rgb=True, mean=[132.431, 94.076, 118.477], std=[1.0, 1.0, 1.0]
    )
    with pytest.raises(ValueError, match='pascalcontext-fcn8s-heavy is an FCN-8s with 60'):
        convert(weights, CAFFE_FCN, net='pascalcontext-fcn8s-heavy')


def test_other_class_counts_convert_without_names_and_other_layers_are_refused(vgg16_light):
    weights = dict(vgg16_light, **fcn_head('16s', 7, torch.Generator(), fc_channels=FC))
    meta = convert(weights, CAFFE_FCN).meta
    assert 'net' not in meta and 'dataset_meta' not in meta and meta['num_classes'] == 7
    # two heads with suffixes no released net has (SIFT Flow's _sem/_geo convert)
    two_heads = dict(vgg16_light)
    for task, count in (('left', 33), ('right', 3)):
        head = fcn_head('32s', count, torch.Generator(), fc_channels=FC)
        two_heads.update(
            {f'{k.split(".")[0]}_{task}.{k.split(".")[1]}': v for k, v in head.items()}
        )
    with pytest.raises(
        KeyError, match=r'Layers found: conv1_1, .*fc7, score_fr_left, upscore_left, '
    ):
        convert(two_heads, CAFFE_FCN)


def test_learned_upsampling_is_reordered_on_both_class_dimensions(vgg16_light):
    generator = torch.Generator().manual_seed(3)
    weights = dict(vgg16_light, **fcn_head('16s', 60, generator, True, fc_channels=FC))
    checkpoint, meta = convert(weights, CAFFE_FCN, learn_upsample=True)
    index = [released_channel(name, CONTEXT_RELEASED) for name in meta['dataset_meta']['classes']]
    for key, name in (('fuse_upsamples.stride32', 'upscore2'), ('final_upsample', 'upscore16')):
        expected = weights[f'{name}.weight'][index][:, index]
        assert torch.equal(checkpoint['state_dict'][f'decode_head.{key}.weight'], expected)
