"""Every shipped config builds through the registry; the composing ones train."""

import argparse
from pathlib import Path

import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from mmseg.registry import MODELS

from mmseg_fcn_skip.checkpoints.converters.released import RELEASED_NETS
from mmseg_fcn_skip.checkpoints.converters.vgg import CAFFE_PREPROCESSOR, TORCHVISION_PREPROCESSOR
from mmseg_fcn_skip.weights import WEIGHTS
from tests.helpers.composed_models import shrink_model
from tests.helpers.scores_by_hand import confusion_matrix, scores

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py') if '_base_' not in p.parts)


#: ImageNet mean and std of torchvision's VGG weights (RGB, 0..1), and the mean pixel of
#: the Caffe VGG16 the reference FCNs start from (BGR, 0..255).
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (104.00699, 116.66877, 122.67892)
OPENMMLAB_PRETRAIN = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/'
EXPECTED_PREPROCESSORS = {
    'torchvision': dict(
        bgr_to_rgb=True, mean=[255 * m for m in IMAGENET_MEAN], std=[255 * s for s in IMAGENET_STD]
    ),
    'caffe': dict(bgr_to_rgb=False, mean=list(CAFFE_MEAN_BGR), std=[1.0] * 3),
}


def without_pretrained(cfg: Config) -> Config:
    backbone = cfg.model.backbone
    backbone.init_cfg = None
    for stream in backbone.get('streams', []):
        stream.init_cfg = None
    return cfg


def weights_convention(path: Path, cfg: Config) -> str:
    """The input convention of the weights a config starts from, by where they come
    from: the caffe configs (Caffe VGG16 or a trained reference FCN), a published net
    in load_from, torchvision's VGG, open-mmlab's ResNet, MiT and Swin (RGB, ImageNet
    mean/std like torchvision), or none."""
    checkpoint = (cfg.model.backbone.get('init_cfg') or {}).get('checkpoint')
    if 'fcn_skip_caffe' in path.parts:
        return 'caffe'
    if cfg.get('load_from') in WEIGHTS:  # a whole published net by short name
        return WEIGHTS[cfg.load_from].convention
    if checkpoint is None:
        return 'none'
    if checkpoint in WEIGHTS:  # published weights by short name
        return WEIGHTS[checkpoint].convention
    if 'torchvision' in checkpoint or checkpoint == 'open-mmlab://resnet50_v1c':
        return 'torchvision'
    if checkpoint.startswith(OPENMMLAB_PRETRAIN):  # MiT, Swin: ImageNet RGB mean/std
        return 'torchvision'
    raise AssertionError(f'{path}: unknown weights {checkpoint}; add their convention')


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_config_builds_its_model_with_matching_levels(path):
    """The head reads the backbone levels it names: channels, strides and pad mode."""
    cfg = without_pretrained(Config.fromfile(str(path)))
    model = MODELS.build(cfg.model)
    backbone = model.backbone
    heads = [model.decode_head] + ([model.auxiliary_head] if model.with_auxiliary_head else [])
    if 'streams' in cfg.model.decode_head:  # late fusion: a head per backbone stream
        heads = list(model.decode_head.streams)
        assert model.decode_head.num_classes == cfg.model.decode_head.streams[0].num_classes
    else:
        assert model.decode_head.num_classes == cfg.model.decode_head.num_classes
    if hasattr(backbone, 'streams'):  # one flat tuple of every stream's outputs
        channels, strides = backbone.out_channels, backbone.out_strides
    elif hasattr(backbone, 'level_channels'):
        channels, strides = backbone.out_channels, backbone.out_strides
    else:  # mmseg's backbones: read from the levels of a 64x64 input
        backbone.eval()
        with torch.no_grad():
            levels = backbone(torch.zeros(1, 3, 64, 64))
        channels = tuple(level.shape[1] for level in levels)
        strides = tuple(64 // level.shape[-1] for level in levels)
    for head in heads:
        index = head.in_index if isinstance(head.in_index, (list, tuple)) else [head.in_index]
        head_channels = (
            head.in_channels if isinstance(head.in_channels, (list, tuple)) else [head.in_channels]
        )
        assert list(head_channels) == [channels[i] for i in index], head
        if hasattr(head, 'in_strides'):
            assert list(head.in_strides) == [strides[i] for i in index]
            stream_modes = {
                getattr(b, 'pad_mode', 'same') for b in getattr(backbone, 'streams', [])
            }
            assert {head.pad_mode} == (stream_modes or {getattr(backbone, 'pad_mode', 'same')})


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_the_data_preprocessor_matches_the_weights_the_config_starts_from(path):
    """mean/std/bgr_to_rgb equal the input convention of the config's weights: the
    values the converters write into a checkpoint's meta, and the published ones."""
    cfg = Config.fromfile(str(path))
    convention = weights_convention(path, cfg)
    if convention == 'none':
        return
    preprocessor = cfg.model.data_preprocessor
    nets = {'configs/' + net.config: net for net in RELEASED_NETS.values()}
    net = nets.get(path.relative_to(REPO).as_posix())
    if net is None and 'nyudv2-40-color-d' in path.name:
        # Colour-depth (no released net): NYUDv2's colour mean (BGR), then log depth's.
        colour = RELEASED_NETS['nyud-fcn32s-color-heavy']
        assert preprocessor.type == 'MultiModalDataPreProcessor'
        assert preprocessor.bgr_to_rgb is False
        assert preprocessor.mean == pytest.approx(list(colour.mean) + [7.844], abs=1e-6)
        assert preprocessor.std == [1.0] * 4
        assert cfg.model.backbone.in_channels == 4
        return
    if net is not None and net.mean != CAFFE_MEAN_BGR:
        # NYUDv2: Caffe VGG16 weights fed the dataset's mean, as the reference does.
        assert preprocessor.bgr_to_rgb is net.bgr_to_rgb
        assert preprocessor.mean == pytest.approx(list(net.mean), abs=1e-6)
        assert preprocessor.std == [1.0] * len(net.mean)
        return
    written = dict(torchvision=TORCHVISION_PREPROCESSOR, caffe=CAFFE_PREPROCESSOR)[convention]
    assert {k: preprocessor[k] for k in written} == written
    expected = EXPECTED_PREPROCESSORS[convention]
    assert preprocessor.bgr_to_rgb is expected['bgr_to_rgb']
    assert preprocessor.mean == pytest.approx(expected['mean'], abs=0.01)
    assert preprocessor.std == pytest.approx(expected['std'], abs=0.01)


def test_every_convention_is_used_by_some_config():
    conventions = {weights_convention(p, Config.fromfile(str(p))) for p in CONFIGS}
    assert conventions == {'torchvision', 'caffe', 'none'}


COMPOSED = [
    'fcn8s-auxpool4_vgg16_4xb4-40k_voc12aug-512x512.py',
    'pspnet_vgg16_4xb4-40k_voc12aug-512x512.py',
    'fcn8s_r50-v1c_4xb4-40k_voc12aug-512x512.py',
    'fcn4s_r50-v1c_4xb4-40k_voc12aug-512x512.py',
    'fcn4s_mit-b0_4xb4-40k_voc12aug-512x512.py',
    'fcn4s_swin-t_4xb4-40k_voc12aug-512x512.py',
    'upernet_vgg16_4xb4-40k_voc12aug-512x512.py',
]


@pytest.mark.parametrize('name', COMPOSED)
def test_composed_config_trains_on_the_toy_shapes(name, toy_data_root, tmp_path, light_toy_options):
    """mmseg heads on FullyConvVGG, FCNSkipHead beside FCNHead or on ResNet."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'fcn_skip' / name))
    toy = Config.fromfile(str(REPO / 'configs' / 'fcn8s_toy.py'))
    parser = argparse.ArgumentParser()
    parser.add_argument('--options', nargs='+', action=DictAction)
    toy.merge_from_dict(parser.parse_args(['--options', *light_toy_options(2)]).options)
    for key in (
        'train_dataloader',
        'val_dataloader',
        'test_dataloader',
        'val_evaluator',
        'test_evaluator',
        'train_cfg',
        'param_scheduler',
        'optim_wrapper',
        'default_hooks',
    ):
        cfg[key] = toy[key]
    cfg.model.data_preprocessor.size = toy.model.data_preprocessor.size
    _shrink_model(cfg.model)
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    saved = torch.load(tmp_path / 'iter_2.pth', map_location='cpu', weights_only=False)
    for key, value in runner.model.state_dict().items():
        assert torch.equal(saved['state_dict'][key], value), key
    counts = confusion_matrix(runner.model, runner.val_dataloader, num_classes=5)
    reported = runner.message_hub.get_scalar('val/mIoU').current()
    assert reported == pytest.approx(scores(counts)['mIoU'], abs=0.01)


def _shrink_model(model: Config) -> None:
    """Few channels, 5 classes, plain BN: same structure, CPU-sized."""
    shrink_model(model)
    for head in (model.decode_head, model.get('auxiliary_head')):
        if head is None:
            continue
        head.num_classes = 5
        if head.get('norm_cfg') is not None:
            head.norm_cfg = dict(type='BN', requires_grad=True)
