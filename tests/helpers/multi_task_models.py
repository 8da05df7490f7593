"""Light two-task FCNs: a semantic head (``decode_head``) and a geometric one (``geo``).

The toy config's light FCN-8s (``light_models.light_settings``) with a second
``FCNSkipHead`` of 3 classes on the same levels, as ``MultiTaskEncoderDecoder``.
"""

import copy
from typing import Tuple

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch import nn

from tests.helpers.light_models import TOY_CONFIG, light_settings

#: Classes of the light models' second task.
GEO_CLASSES = 3


def light_multi_task_config(
    variant: str = '8s', num_classes: int = 5, geo_classes: int = GEO_CLASSES, **head
) -> Config:
    """The toy config as a light two-task FCN: ``light_settings(variant, num_classes,
    **head)`` and a ``geo`` head like the decode head with ``geo_classes`` classes."""
    cfg = Config.fromfile(str(TOY_CONFIG))
    cfg.merge_from_dict(dict(model=light_settings(variant, num_classes, **head)))
    geo = copy.deepcopy(cfg.model.decode_head)
    geo.num_classes = geo_classes
    cfg.model.type = 'MultiTaskEncoderDecoder'
    cfg.model.task_heads = dict(geo=geo)
    return cfg


def light_multi_task_model(*args, seed: int = 0, **kwargs) -> nn.Module:
    """The built light two-task FCN with every head drawn with std 1 and zero biases (predictions that
    vary over an image), in eval mode."""
    cfg = light_multi_task_config(*args, **kwargs)
    init_default_scope('mmseg')
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    for head in (model.decode_head, *model.task_heads.values()):
        for name, parameter in head.named_parameters():
            nn.init.normal_(parameter) if name.endswith('weight') else nn.init.zeros_(parameter)
    return model.eval()


def single_task_twin(model: nn.Module, task: str) -> nn.Module:
    """mmseg's own ``EncoderDecoder`` with the backbone of ``model`` (a
    ``light_multi_task_model()`` of the default settings) and the head of ``task``
    (``'decode'`` or ``'geo'``) as its decode head, same weights and test_cfg: the
    reference for that task's logits."""
    cfg = light_multi_task_config()
    cfg.model.type = 'EncoderDecoder'
    if task != 'decode':
        cfg.model.decode_head = cfg.model.task_heads[task]
    del cfg.model.task_heads
    init_default_scope('mmseg')
    twin = MODELS.build(cfg.model)
    twin.backbone.load_state_dict(model.backbone.state_dict())
    source = model.decode_head if task == 'decode' else model.task_heads[task]
    twin.decode_head.load_state_dict(source.state_dict())
    twin.test_cfg = model.test_cfg
    return twin.eval()


def random_batch(size: Tuple[int, int], batch: int = 1, seed: int = 0) -> torch.Tensor:
    """``(batch, 3, H, W)`` random normalised images."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, *size, generator=generator)
