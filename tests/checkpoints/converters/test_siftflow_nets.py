"""The released SIFT Flow FCNs (mmseg_fcn_skip/checkpoints/converters/siftflow.py): converted from random weights in the reference names,
loaded by mmseg's init_model into the SIFT Flow configs, both tasks' logits equal to
the reference forward at three input sizes."""

import pytest
import torch
from mmseg.apis import init_model
from mmseg.structures import SegDataSample

from mmseg_fcn_skip.apis import load_model
from mmseg_fcn_skip.checkpoints import CAFFE_FCN, CheckpointError, convert
from mmseg_fcn_skip.checkpoints.converters.fcn import caffe_fcn_to_mmseg
from mmseg_fcn_skip.checkpoints.converters.released import RELEASED_NETS
from mmseg_fcn_skip.checkpoints.converters.siftflow import caffe_siftflow_to_mmseg
from mmseg_fcn_skip.datasets import SIFTFLOW_CLASSES, SIFTFLOW_GEO_CLASSES
from mmseg_fcn_skip.utils import packaged_config
from tests.helpers.reference_nets import (
    caffe_siftflow_scores,
    caffe_vgg16,
    fcn_head,
    siftflow_weights,
)

FC = 16
SIZES = [(1, 1), (19, 26), (45, 33)]
TOLERANCE = 1e-5
IN_CHANNELS = {'32s': [FC], '16s': [512, FC], '8s': [256, 512, FC]}
VARIANTS = ('32s', '16s', '8s')


@pytest.fixture(scope='module')
def body():
    return caffe_vgg16(torch.Generator().manual_seed(3), fc_channels=FC)


def light_options(variant):
    return {
        'model.backbone.fc_channels': FC,
        'model.backbone.init_cfg': None,
        'model.decode_head.in_channels': IN_CHANNELS[variant],
        'model.task_heads.geo.in_channels': IN_CHANNELS[variant],
    }


def _weights(body, variant, seed=0):
    return siftflow_weights(body, variant, torch.Generator().manual_seed(seed), fc_channels=FC)


@pytest.mark.parametrize('variant', VARIANTS)
def test_converted_net_predicts_both_tasks_as_the_reference(tmp_path, body, variant):
    name = f'siftflow-fcn{variant}-heavy'
    weights = _weights(body, variant)
    checkpoint, meta = convert(weights, CAFFE_FCN)
    assert meta['net'] == name and meta['variant'] == variant
    assert meta['dataset_meta']['classes'] == SIFTFLOW_CLASSES
    assert meta['dataset_meta']['task_classes'] == dict(geo=SIFTFLOW_GEO_CLASSES)
    assert (
        meta['config']
        == f'configs/fcn_skip_caffe/fcn{variant}_vgg16-caffe_1xb1-100k_siftflow-256x256.py'
    )
    path = tmp_path / f'{name}.pth'
    torch.save(checkpoint, path)
    config = packaged_config(RELEASED_NETS[name].config)
    model = init_model(config, str(path), device='cpu', cfg_options=light_options(variant)).eval()
    assert set(model.state_dict()) == set(checkpoint['state_dict'])
    assert model.dataset_meta['classes'] == SIFTFLOW_CLASSES
    for size in SIZES:
        generator = torch.Generator().manual_seed(size[0] * 100 + size[1])
        image = 60 * torch.randn(1, 3, *size, generator=generator)
        sample = SegDataSample(metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size))
        with torch.no_grad():
            sem, geo = caffe_siftflow_scores(weights, image, variant)
            result = model.predict(image, [sample])[0]
        for logits, expected in ((result.seg_logits.data, sem), (result.geo_seg_logits.data, geo)):
            assert logits.shape == expected.shape[1:]
            torch.testing.assert_close(
                logits, expected[0], rtol=0, atol=TOLERANCE * expected.abs().max()
            )
        assert torch.equal(result.pred_geo_seg.data[0], geo[0].argmax(0))


def test_layer_mapping_to_the_two_heads(body):
    weights = _weights(body, '16s')
    converted, variant = caffe_siftflow_to_mmseg(weights)
    assert variant == '16s'
    assert torch.equal(converted['decode_head.conv_seg.weight'], weights['score_fr_sem.weight'])
    assert torch.equal(converted['task_heads.geo.conv_seg.bias'], weights['score_fr_geo.bias'])
    assert torch.equal(
        converted['task_heads.geo.skip_scores.stride16.weight'], weights['score_pool4_geo.weight']
    )
    assert torch.equal(converted['backbone.fc7.conv.weight'], weights['fc7.weight'])
    assert not any(key.startswith('task_heads.sem') for key in converted)


def test_heads_of_other_variants_and_foreign_layers_are_refused(body):
    mixed = dict(_weights(body, '16s'))
    for key in [k for k in mixed if k.endswith('_geo.weight') or k.endswith('_geo.bias')]:
        del mixed[key]
    geo = fcn_head('32s', 3, torch.Generator(), fc_channels=FC)
    mixed.update({f'{k.split(".")[0]}_geo.{k.split(".")[1]}': v for k, v in geo.items()})
    with pytest.raises(ValueError, match='_sem head is an FCN-16s but the _geo head an FCN-32s'):
        caffe_siftflow_to_mmseg(mixed)
    foreign = dict(_weights(body, '32s'), **{'score_fr_depth.weight': torch.zeros(1)})
    with pytest.raises(KeyError, match=r"\['score_fr_depth'\] are neither"):
        caffe_siftflow_to_mmseg(foreign)


def test_named_net_must_match_and_dataset_is_siftflow(body):
    weights = _weights(body, '8s')
    assert (
        convert(weights, CAFFE_FCN, net='siftflow-fcn8s-heavy').meta['net']
        == 'siftflow-fcn8s-heavy'
    )
    with pytest.raises(ValueError, match='FCN-8s with 33 classes, but siftflow-fcn16s-heavy'):
        convert(weights, CAFFE_FCN, net='siftflow-fcn16s-heavy')
    with pytest.raises(ValueError, match="further tasks \\[\\], but the weights have \\['geo'\\]"):
        convert(weights, CAFFE_FCN, net='fcn8s-heavy-pascal')
    with pytest.raises(ValueError, match='scores the classes of SiftFlowDataset only'):
        convert(weights, CAFFE_FCN, dataset='PascalVOCDataset')


def test_a_voc_net_is_refused_by_a_siftflow_config_and_back(tmp_path, body):
    voc = dict(body, **fcn_head('16s', 21, torch.Generator(), fc_channels=FC))
    path = tmp_path / 'fcn16s-heavy-pascal.pth'
    torch.save(convert(voc, CAFFE_FCN).checkpoint, path)
    config = packaged_config(RELEASED_NETS['siftflow-fcn16s-heavy'].config)
    with pytest.raises(CheckpointError, match='released net fcn16s-heavy-pascal'):
        load_model(config, str(path), cfg_options=light_options('16s'))
    sift = tmp_path / 'siftflow-fcn16s-heavy.pth'
    torch.save(convert(_weights(body, '16s'), CAFFE_FCN).checkpoint, sift)
    voc_config = packaged_config(RELEASED_NETS['fcn16s-heavy-pascal'].config)
    options = {
        'model.backbone.fc_channels': FC,
        'model.backbone.init_cfg': None,
        'model.decode_head.in_channels': IN_CHANNELS['16s'],
    }
    with pytest.raises(CheckpointError, match='released net siftflow-fcn16s-heavy'):
        load_model(voc_config, str(sift), cfg_options=options)
    # and the plugin's loader takes it for its own config
    model = load_model(config, str(sift), cfg_options=light_options('16s'))
    assert model.dataset_meta['classes'] == SIFTFLOW_CLASSES


def test_a_single_task_file_is_not_taken_for_siftflow(body):
    single = dict(body, **fcn_head('16s', 33, torch.Generator(), fc_channels=FC))
    meta = convert(single, CAFFE_FCN).meta
    assert 'net' not in meta and meta['num_classes'] == 33
    assert caffe_fcn_to_mmseg(single)[1] == '16s'
