"""Light SIFT Flow FCNs: the shipped two-task configs at reduced width.

The operations, crops, pad mode (Caffe's pad 100), class counts (33 semantic, 3
geometric) and preprocessing are the config's; only the VGG16's channels shrink (base
4, fc6/fc7 8) and no pretrained weights are loaded.
"""

from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch import nn

from tests.helpers import REPO

#: The shipped SIFT Flow configs by variant.
SIFTFLOW_CONFIGS = {
    variant: REPO
    / 'configs'
    / 'fcn_skip_caffe'
    / f'fcn{variant}_vgg16-caffe_1xb1-100k_siftflow-256x256.py'
    for variant in ('32s', '16s', '8s')
}
#: Channels of pool3, pool4 and fc7 of the light VGG16.
LIGHT_LEVELS = (16, 32, 8)


def light_siftflow_config(variant: str = '8s') -> Config:
    """The shipped SIFT Flow config of ``variant`` at reduced width."""
    cfg = Config.fromfile(str(SIFTFLOW_CONFIGS[variant]))
    cfg.model.backbone.update(base_channels=4, fc_channels=8, init_cfg=None)
    channels = LIGHT_LEVELS[-len(cfg.model.decode_head.in_index) :]
    for head in (cfg.model.decode_head, *cfg.model.task_heads.values()):
        head.in_channels = channels
    return cfg


def build_light(cfg: Config, seed: int = 0) -> nn.Module:
    """The model of ``cfg`` (with ``cfg`` attached): the backbone as PyTorch initialises
    it, every head's weights drawn with std 1 and zero biases; eval mode."""
    init_default_scope('mmseg')
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    model.cfg = cfg
    for head in (model.decode_head, *getattr(model, 'task_heads', {}).values()):
        for name, param in head.named_parameters():
            if name.endswith('weight'):
                nn.init.normal_(param)
            else:
                nn.init.zeros_(param)
    return model.eval()


def save_light(cfg: Config, directory: Path, seed: int = 0, fresh_tasks=()) -> tuple:
    """Write ``cfg`` and a checkpoint of ``build_light(cfg, seed)`` into ``directory``;
    the score layers of the heads in ``fresh_tasks`` (``'decode'``, ``'geo'``) are zero,
    as untrained ones start. Returns ``(config, checkpoint)`` paths."""
    model = build_light(cfg, seed)
    heads = dict(decode=model.decode_head, **model.task_heads)
    with torch.no_grad():
        for task in fresh_tasks:
            for name, param in heads[task].named_parameters():
                if name.startswith(('conv_seg.', 'skip_scores.')):
                    param.zero_()
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / 'siftflow_light.py'
    cfg.dump(str(config))
    checkpoint = directory / 'siftflow_light.pth'
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    return config, checkpoint
