"""FCN-AlexNet: the released net's Caffe layers convert into a checkpoint that
``mmseg.apis.init_model`` loads, and whose logits are those of the Caffe net."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.apis import inference_model, init_model
from mmseg.datasets import PascalVOCDataset

from mmseg_fcn_skip.checkpoints import CAFFE_FCN, convert, weights_layout
from mmseg_fcn_skip.checkpoints.converters.alexnet import (
    caffe_fcn_alexnet_to_mmseg,
    upscore_kernel,
)
from tests.helpers.caffemodel_writer import caffemodel
from tests.helpers.fcn_alexnet_reference import caffe_fcn_alexnet, reference_logits

REPO = Path(__file__).resolve().parents[3]
CONFIG = (
    REPO / 'configs/fcn_skip_caffe/fcn32s_alexnet-caffe_1xb1-acc20-2000k_seg11valid-fullsize.py'
)
SAME_CONFIG = (
    REPO / 'configs/fcn_skip_caffe/fcn32s_alexnet-same_1xb1-acc20-2000k_seg11valid-fullsize.py'
)
MEAN_BGR = np.array([104.00699, 116.66877, 122.67892])
LIGHT_FC = 16


@pytest.fixture(scope='module')
def released():
    """Random weights of the released net's names and full shapes (fc6/fc7 of 4096)."""
    return caffe_fcn_alexnet(torch.Generator().manual_seed(7))


@pytest.fixture(scope='module')
def light():
    """The released net's names and conv shapes, fc6/fc7 of 16, fc as matrices."""
    return caffe_fcn_alexnet(
        torch.Generator().manual_seed(8), fc_channels=LIGHT_FC, fully_connected=True
    )


def _tool(name):
    path = REPO / 'tools' / 'model_converters' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_released_layers_map_onto_backbone_and_head(light):
    assert weights_layout(light) == CAFFE_FCN
    converted = convert(light, CAFFE_FCN)
    state_dict, meta = converted.checkpoint['state_dict'], converted.meta
    assert torch.equal(state_dict['backbone.conv4.conv.weight'], light['conv4.weight'])
    assert torch.equal(state_dict['decode_head.conv_seg.bias'], light['score_fr.bias'])
    # fc6 (16, 9216) read as 256 x 6 x 6 row-major, fc7 (16, 16) as 1x1 kernels.
    assert state_dict['backbone.fc6.conv.weight'].shape == (LIGHT_FC, 256, 6, 6)
    assert torch.equal(
        state_dict['backbone.fc6.conv.weight'][3, 17, 2, 5], light['fc6.weight'][3, 17 * 36 + 17]
    )
    assert state_dict['backbone.fc7.conv.weight'].shape == (LIGHT_FC, LIGHT_FC, 1, 1)
    assert not any('upsample' in key for key in state_dict)  # bilinear: rebuilt, dropped
    assert len(state_dict) == 2 * 8
    assert meta['variant'] == '32s' and meta['backbone'] == 'FullyConvAlexNet'
    assert meta['fc_channels'] == LIGHT_FC and meta['num_classes'] == 21
    assert (REPO / meta['config']).is_file()
    assert meta['dataset_meta']['classes'] == tuple(PascalVOCDataset.METAINFO['classes'])
    assert meta['dataset_meta']['palette'][1] == list(PascalVOCDataset.METAINFO['palette'][1])


def test_the_expected_upscore_is_the_kernel_the_head_derives():
    assert upscore_kernel() == 63


def test_a_per_class_upscore_converts_as_the_full_one(light):
    grouped = dict(light, **{'upscore.weight': light['upscore.weight'][:, :1].clone()})
    grouped['upscore.weight'][:, 0] = light['upscore.weight'][0, 0]
    full, _ = caffe_fcn_alexnet_to_mmseg(light, learn_upsample=True)
    per_class, _ = caffe_fcn_alexnet_to_mmseg(grouped, learn_upsample=True)
    assert torch.equal(
        full['decode_head.final_upsample.weight'], per_class['decode_head.final_upsample.weight']
    )


def test_a_learned_upscore_needs_learn_upsample(light):
    learned = dict(light, **{'upscore.weight': light['upscore.weight'] * 1.5})
    with pytest.raises(ValueError, match='upscore are not per-class bilinear.*--learn-upsample'):
        caffe_fcn_alexnet_to_mmseg(learned)
    converted, _ = caffe_fcn_alexnet_to_mmseg(learned, learn_upsample=True)
    assert torch.equal(converted['decode_head.final_upsample.weight'], learned['upscore.weight'])


def test_wrong_shapes_and_variants_are_refused(light):
    ungrouped = dict(light, **{'conv2.weight': torch.zeros(256, 96, 5, 5)})
    with pytest.raises(ValueError, match=r'conv2.weight has shape \(256, 96, 5, 5\).*\(256, 48'):
        caffe_fcn_alexnet_to_mmseg(ungrouped)
    with pytest.raises(ValueError, match="variant='8s'.*FCN-32s only"):
        caffe_fcn_alexnet_to_mmseg(light, variant='8s')
    with pytest.raises(KeyError, match=r"missing \['fc7.bias', 'fc7.weight'\]"):
        caffe_fcn_alexnet_to_mmseg({k: v for k, v in light.items() if not k.startswith('fc7')})


def test_the_cli_recognises_the_caffemodel_and_refuses_other_nets(light, tmp_path, capsys):
    types = dict.fromkeys((key.rsplit('.', 1)[0] for key in light), 'Convolution')
    types['upscore'] = 'Deconvolution'
    src, dst = tmp_path / 'fcn-alexnet-pascal.caffemodel', tmp_path / 'fcn-alexnet.pth'
    src.write_bytes(caffemodel(light, types))
    tool = _tool('caffe_fcn2mmseg')
    tool.main([str(src), str(dst)])
    checkpoint = torch.load(dst, weights_only=True)
    assert (
        checkpoint['state_dict'].keys() == convert(light, CAFFE_FCN).checkpoint['state_dict'].keys()
    )
    out = capsys.readouterr().out
    assert 'FCN-AlexNet (32s), 21 classes' in out
    assert f'python tools/test.py configs/fcn_skip_caffe/{CONFIG.name}' in out
    # CaffeNet for ImageNet: the body, fc8, no score_fr.
    imagenet = {k: v for k, v in light.items() if not k.startswith(('score_fr', 'upscore'))}
    imagenet.update({'fc8.weight': torch.zeros(1000, LIGHT_FC), 'fc8.bias': torch.zeros(1000)})
    other = tmp_path / 'caffenet.pth'
    torch.save(imagenet, other)
    with pytest.raises(ValueError, match=r"no reference FCN net.*\['conv1', 'conv2'.*'fc8'\]"):
        tool.main([str(other), str(tmp_path / 'out.pth')])


def test_init_model_gives_the_caffe_nets_logits_at_three_sizes(released, tmp_path):
    """The full-size net, forward only: the checkpoint from the converter, the config's
    BGR mean subtraction, the backbone and the head's 63x63 upsampling and crop of 18
    together reproduce the Caffe net (an independent forward in plain torch ops)."""
    path = tmp_path / 'fcn-alexnet.pth'
    torch.save(convert(released, CAFFE_FCN).checkpoint, path)
    model = init_model(str(CONFIG), str(path), device='cpu')
    assert model.dataset_meta['classes'][15] == 'person'
    assert model.decode_head.final_crop == 18
    assert model.decode_head.final_upsample.weight.shape[-1] == 63
    rng = np.random.default_rng(0)
    for height, width in [(17, 23), (64, 48), (97, 70)]:
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)  # BGR, as loaded
        with torch.no_grad():
            logits = inference_model(model, image).seg_logits.data
            bgr = torch.from_numpy(image - MEAN_BGR).float().permute(2, 0, 1)[None]
            expected = reference_logits(released, bgr)[0]
        assert logits.shape == (21, height, width)
        scale = expected.abs().max()
        assert scale > 1  # the weights reach the scores
        torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4 * scale)


def test_the_same_padded_baseline_loads_the_released_weights(light, tmp_path):
    path = tmp_path / 'fcn-alexnet.pth'
    torch.save(convert(light, CAFFE_FCN).checkpoint, path)
    cfg = Config.fromfile(str(SAME_CONFIG))
    cfg.model.backbone.fc_channels = LIGHT_FC
    cfg.model.decode_head.in_channels = (LIGHT_FC,)
    model = init_model(cfg, str(path), device='cpu')
    image = np.random.default_rng(1).integers(0, 256, (45, 70, 3), dtype=np.uint8)
    with torch.no_grad():
        logits = inference_model(model, image).seg_logits.data
    assert logits.shape == (21, 45, 70)
    # fc7 at stride 32 on the corner grid: upsampled by the odd 63 kernel, crop 31.
    assert model.decode_head.final_crop == 31
