"""Every shipped config builds through the registry; the composing ones train."""
import argparse
from pathlib import Path

import pytest
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmseg.registry import MODELS
from mmseg_fcn_skip.weights import WEIGHTS

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)


def without_pretrained(cfg: Config) -> Config:
    backbone = cfg.model.backbone
    backbone.init_cfg = None
    return cfg


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_config_builds_its_model(path):
    cfg = without_pretrained(Config.fromfile(str(path)))
    model = MODELS.build(cfg.model)
    assert model.decode_head.num_classes == cfg.model.decode_head.num_classes


def test_the_data_preprocessor_matches_the_weights_the_config_expects():
    caffe = Config.fromfile(str(REPO / 'configs/caffe/fcn8s_vgg16_voc12aug.py'))
    torchvision = Config.fromfile(str(REPO / 'configs/fcn8s_voc.py'))
    assert caffe.model.data_preprocessor.bgr_to_rgb is False
    assert caffe.model.data_preprocessor.mean == [104.00699, 116.66877, 122.67892]
    assert caffe.model.data_preprocessor.std == [1.0, 1.0, 1.0]
    assert WEIGHTS[caffe.model.backbone.init_cfg.checkpoint].convention == 'caffe'
    assert torchvision.model.data_preprocessor.bgr_to_rgb is True
    assert torchvision.model.data_preprocessor.std == [58.395, 57.12, 57.375]
    assert WEIGHTS[torchvision.model.backbone.init_cfg.checkpoint].convention == \
        'torchvision'


@pytest.mark.parametrize('name', ['fcn8s_aux-pool4_voc.py', 'pspnet_vgg16_voc.py',
                                  'fcn8s_r50_voc.py'])
def test_composed_config_trains_on_the_toy_shapes(name, toy_data_root, tmp_path,
                                                  light_toy_options):
    """mmseg heads on FullyConvVGG, FCNSkipHead beside FCNHead or on ResNet."""
    cfg = Config.fromfile(str(REPO / 'configs' / name))
    toy = Config.fromfile(str(REPO / 'configs' / 'fcn8s_toy.py'))
    parser = argparse.ArgumentParser()
    parser.add_argument('--options', nargs='+', action=DictAction)
    toy.merge_from_dict(
        parser.parse_args(['--options', *light_toy_options(2)]).options)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator',
                'test_evaluator', 'train_cfg', 'param_scheduler', 'optim_wrapper',
                'default_hooks'):
        cfg[key] = toy[key]
    cfg.model.data_preprocessor.size = toy.model.data_preprocessor.size
    _shrink_model(cfg.model)
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert (tmp_path / 'iter_2.pth').is_file()
    assert 0 <= runner.message_hub.get_scalar('val/mIoU').current() <= 100


def _shrink_model(model: Config) -> None:
    """Few channels, 5 classes, plain BN: same structure, CPU-sized."""
    backbone = model.backbone
    backbone.init_cfg = None
    if backbone.type == 'FullyConvVGG':
        backbone.update(base_channels=4, fc_channels=16)
        channels = dict(pool3=16, pool4=32, fc7=16)
    else:
        backbone.update(depth=18, base_channels=8, norm_cfg=dict(type='BN'))
        channels = dict(pool3=16, pool4=32, fc7=64)
    by_index = [channels[level] for level in _levels(backbone)]
    for head in (model.decode_head, model.get('auxiliary_head')):
        if head is None:
            continue
        head.num_classes = 5
        if head.get('norm_cfg') is not None:
            head.norm_cfg = dict(type='BN', requires_grad=True)
        if isinstance(head.in_channels, int):
            head.in_channels = by_index[head.in_index]
            head.channels = 8
        else:
            head.in_channels = [by_index[i] for i in head.in_index]


def _levels(backbone: Config) -> list:
    if backbone.type == 'FullyConvVGG':
        names = ('pool1', 'pool2', 'pool3', 'pool4', 'pool5', 'fc7')
    else:
        names = ('stage1', 'pool3', 'pool4', 'fc7')
    return [names[i] for i in backbone.out_indices]
