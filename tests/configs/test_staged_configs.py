"""The staged configs run as written: each loads the checkpoint the stage before
writes, and that checkpoint fits it as a staged start (new skip level at zero)."""

from pathlib import Path

import pytest
from mmengine.config import Config
from mmseg.registry import MODELS

from mmseg_fcn_skip.checkpoints import STAGED, check_compatible
from tests.helpers.light_models import backbone_channels

REPO = Path(__file__).resolve().parents[2]
#: (previous stage, staged config, new skip level)
STAGES = [
    (
        'fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize',
        'fcn_skip_caffe/fcn16s_vgg16-caffe_1xb1-100k_seg11valid-fullsize',
        'stride16',
    ),
    (
        'fcn_skip_caffe/fcn16s_vgg16-caffe_1xb1-100k_seg11valid-fullsize',
        'fcn_skip_caffe/fcn8s_vgg16-caffe_1xb1-100k_seg11valid-fullsize',
        'stride8',
    ),
    (
        'fcn_skip/fcn32s_vgg16_4xb4-40k_voc12aug-512x512',
        'fcn_skip/fcn16s-staged_vgg16_4xb4-20k_voc12aug-512x512',
        'stride16',
    ),
    (
        'fcn_skip/fcn16s-staged_vgg16_4xb4-20k_voc12aug-512x512',
        'fcn_skip/fcn8s-staged_vgg16_4xb4-20k_voc12aug-512x512',
        'stride8',
    ),
]


def _config(name: str) -> Config:
    return Config.fromfile(str(REPO / 'configs' / f'{name}.py'))


def _light_model(cfg: Config):
    """The config's model with fc6/fc7 of 16 channels and no pretrained weights."""
    model = cfg.model
    model.backbone.init_cfg = None
    model.backbone.fc_channels = 16
    model.decode_head.in_channels = backbone_channels(model.backbone)
    return MODELS.build(model)


@pytest.mark.parametrize('previous, staged, new', STAGES, ids=[stage for _, stage, _ in STAGES])
def test_a_staged_config_starts_from_the_stage_before(previous, staged, new):
    before, cfg = _config(previous), _config(staged)
    # tools/train.py's default work dir and the checkpoint of the last iteration
    assert before.train_cfg.max_iters % before.default_hooks.checkpoint.interval == 0
    assert cfg.load_from == (
        f'work_dirs/{Path(previous).name}/iter_{before.train_cfg.max_iters}.pth'
    )
    assert cfg.model.backbone.init_cfg is None  # every weight comes from load_from
    assert cfg.model.decode_head.get('score_init', 'zeros') == 'zeros'
    result = check_compatible(_light_model(cfg), _light_model(before).state_dict(), cfg.load_from)
    assert result.kinds == (STAGED,)
    assert list(result.initialised) == [f'decode_head.skip_scores.{new}']
