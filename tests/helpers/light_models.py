"""Light FCNs on the toy shapes: configs, built models and checkpoints.

Every light model is ``configs/fcn8s_toy.py`` narrowed (``LIGHT_BACKBONE``: 4..32
channels, fc6/fc7 with 16) as one of the variants FCN-32s/16s/8s/4s. The decode head's
``in_channels`` are read from the built backbone, so a change of the backbone's
settings needs no table of channels. Tests whose expected values name the channels
of a light VGG11 (parameter counts, shapes in messages) pass ``VGG11_BACKBONE``.
"""

from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch import nn

from mmseg_fcn_skip.datasets import TOY_SHAPES_CLASSES, TOY_SHAPES_PALETTE
from tests.helpers import REPO

TOY_CONFIG = REPO / 'configs' / 'fcn8s_toy.py'
#: A light toy config for the training subprocesses (32x32 crops, 8 iterations).
TINY_CONFIG = Path(__file__).resolve().parent / 'tiny_fcn8s_toy.py'
#: Backbone levels (pool1..pool5, fc7 = 0..5) that each variant's head fuses, deepest last.
VARIANT_LEVELS = {'32s': (5,), '16s': (3, 5), '8s': (2, 3, 5), '4s': (1, 2, 3, 5)}
#: Backbone settings of the light models (the toy config's VGG16 with BN, narrowed).
LIGHT_BACKBONE = dict(base_channels=4, fc_channels=16)
#: Backbone settings of a light VGG11 (8..64 channels, fc6/fc7 with 32).
VGG11_BACKBONE = dict(depth=11, base_channels=8, fc_channels=32)
DATASET_META = dict(classes=TOY_SHAPES_CLASSES, palette=TOY_SHAPES_PALETTE)


def backbone_channels(backbone: dict) -> Tuple[int, ...]:
    """Channels of each output of the backbone config ``backbone``, in output order.

    Backbones with an ``out_channels`` attribute (``FullyConvVGG``) answer without a
    forward pass; others are run once on a zero 64x64 image.
    """
    init_default_scope('mmseg')
    module = MODELS.build(dict(backbone, init_cfg=None))
    if hasattr(module, 'out_channels'):
        return tuple(module.out_channels)
    module.eval()  # mmseg's ResNet.train returns None: no chained call
    with torch.no_grad():
        outputs = module(torch.zeros(1, 3, 64, 64))
    return tuple(output.shape[1] for output in outputs)


def light_settings(
    variant: str = '8s',
    num_classes: int = 5,
    pad_mode: Optional[str] = None,
    backbone: Optional[dict] = None,
    **head,
) -> dict:
    """The ``model`` settings that make ``configs/fcn8s_toy.py`` a light ``variant``.

    Args:
        variant: ``'32s'``, ``'16s'``, ``'8s'`` or ``'4s'`` (the levels of
            ``VARIANT_LEVELS``).
        num_classes: Classes of the decode head.
        pad_mode: Padding mode of backbone and head; None keeps the config's.
        backbone: Backbone settings that update ``LIGHT_BACKBONE``.
        **head: Decode head settings; ``in_channels`` defaults to the backbone's.

    Returns:
        ``dict(backbone=..., decode_head=...)`` of plain values, to merge into the
        toy config's ``model``.
    """
    backbone = dict(LIGHT_BACKBONE, **(backbone or {}))
    backbone.setdefault('out_indices', VARIANT_LEVELS[variant])
    head = dict(num_classes=num_classes, **head)
    if pad_mode is not None:
        backbone['pad_mode'] = head['pad_mode'] = pad_mode
    toy = Config.fromfile(str(TOY_CONFIG)).model.backbone
    channels = backbone_channels(dict(toy, **backbone))
    head.setdefault('in_channels', channels)
    head.setdefault('in_index', tuple(range(len(channels))))
    return dict(backbone=backbone, decode_head=head)


def light_config(*args, **kwargs) -> Config:
    """``configs/fcn8s_toy.py`` with the settings of ``light_settings(...)`` (same
    arguments)."""
    cfg = Config.fromfile(str(TOY_CONFIG))
    cfg.merge_from_dict(dict(model=light_settings(*args, **kwargs)))
    return cfg


def light_model(*args, **kwargs) -> nn.Module:
    """The randomly initialised segmentor of ``light_config(...)`` (same arguments as
    ``light_settings``)."""
    cfg = light_config(*args, **kwargs)
    init_default_scope('mmseg')
    return MODELS.build(cfg.model)


def write_config(directory: Path, variant: str = '8s', num_classes: int = 5, **kwargs) -> Path:
    """Write a config file inheriting ``configs/fcn8s_toy.py`` with the settings of
    ``light_settings(variant, num_classes, **kwargs)``; return its path,
    ``directory/fcn<variant>_<pad_mode>_<num_classes>.py``."""
    settings = light_settings(variant, num_classes, **kwargs)
    pad_mode = settings['backbone'].get('pad_mode', 'same')
    path = Path(directory) / f'fcn{variant}_{pad_mode}_{num_classes}.py'
    path.write_text(f'_base_ = {str(TOY_CONFIG)!r}\nmodel = {settings!r}\n')
    return path


def save_checkpoint(
    path: Union[str, Path],
    model_or_state: Union[nn.Module, Dict[str, torch.Tensor]],
    meta: Optional[dict] = None,
    **extra,
) -> Path:
    """Save a model's (or a state dict's) tensors as an mmengine-style checkpoint.

    Args:
        path: File to write.
        model_or_state: A module, or a state dict saved as it is.
        meta: The checkpoint's ``meta``; default ``dict(iter=1)``.
        **extra: More top-level entries (``optimizer=...``).
    """
    state = model_or_state.state_dict() if isinstance(model_or_state, nn.Module) else model_or_state
    torch.save(dict(state_dict=state, meta=dict(iter=1) if meta is None else meta, **extra), path)
    return Path(path)


def random_checkpoint(config: Path, path: Path, seed: int = 0) -> Path:
    """Save random weights of the model of ``config`` with the toy dataset meta.

    The decode head is drawn with std 1 so that the predictions vary over an image.
    """
    cfg = Config.fromfile(config)
    init_default_scope('mmseg')
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    for parameter in model.decode_head.parameters():
        torch.nn.init.normal_(parameter)
    return save_checkpoint(path, model, meta=dict(dataset_meta=DATASET_META))


def light_checkpoint(directory: Path, *args, seed: int = 0, **kwargs) -> Tuple[Path, Path]:
    """Config file and random checkpoint of a light model, written into ``directory``;
    the other arguments are those of ``light_settings``."""
    config = write_config(directory, *args, **kwargs)
    return config, random_checkpoint(config, config.with_suffix('.pth'), seed)


def light_toy_options(data_root: str, max_iters: int = 4) -> List[str]:
    """``--cfg-options`` for ``configs/fcn8s_toy.py`` that make it train in seconds on
    the data at ``data_root`` (``LIGHT_BACKBONE``, no loader workers)."""
    channels = list(light_settings()['decode_head']['in_channels'])
    options = {
        **{f'model.backbone.{key}': value for key, value in LIGHT_BACKBONE.items()},
        'model.decode_head.in_channels': str(channels).replace(' ', ''),
        'train_cfg.max_iters': max_iters,
        'train_cfg.val_interval': max_iters // 2,
        'default_hooks.checkpoint.interval': max_iters // 2,
        'default_hooks.logger.interval': 1,
    }
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.dataset.data_root'] = data_root
        options[f'{loader}.num_workers'] = 0
        options[f'{loader}.persistent_workers'] = False
    return [f'{key}={value}' for key, value in options.items()]
