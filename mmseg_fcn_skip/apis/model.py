"""Build a segmentor from its config and load a checkpoint that must fit it exactly."""

import re
from copy import deepcopy
from pathlib import Path
from typing import List, Mapping, Optional, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmseg.apis import init_model
from mmseg.models import BaseSegmentor
from mmseg.registry import DATASETS

from ..checkpoints import load_exact
from ..weights import resolve_checkpoint

#: Dataset meta keys of the further tasks of a ``MultiTaskEncoderDecoder``.
TASK_META_KEYS = ('task_classes', 'task_palettes')


def load_model(
    config: Union[str, Path, Config],
    checkpoint: Union[str, Path],
    device: str = 'cpu',
    cfg_options: Optional[dict] = None,
) -> BaseSegmentor:
    """Build the segmentor of ``config`` in eval mode and load ``checkpoint`` into it.

    Unlike mmseg's ``init_model``, which warns about keys that do not fit and leaves
    those weights random, the checkpoint must match the model key for key and shape
    for shape (see :func:`~mmseg_fcn_skip.checkpoints.load_exact`, whose message
    also names the converter for torchvision and Caffe weights, another FCN variant or
    class count). ``model.dataset_meta`` (classes and palette) comes
    from the checkpoint, else from the config's test dataset (see
    :func:`resolve_dataset_meta`); ``model.cfg`` is the config, as with ``init_model``.

    Args:
        config: Config file or object; its ``custom_imports`` are honoured.
        checkpoint: Checkpoint file holding a state dict or a dict with
            ``state_dict`` (and ``meta``); a ``module.`` prefix is dropped. Or a
            name in ``mmseg_fcn_skip.weights.WEIGHTS`` or an http(s) URL: the
            published file is fetched and converted on first use (see
            :func:`~mmseg_fcn_skip.weights.resolve_checkpoint`).
        device: ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        cfg_options: Config overrides, merged before the model is built.

    Raises:
        CheckpointError: (a ``ValueError``) if the checkpoint file is missing,
            damaged, holds no state dict or does not fit the model.
        WeightsError: if published weights cannot be fetched or converted.
        ValueError: if CUDA is asked for but not available.
    """
    check_device(device)
    cfg = Config.fromfile(config) if isinstance(config, (str, Path)) else deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = init_model(cfg, None, device='cpu')
    checkpoint = resolve_checkpoint(str(checkpoint))
    meta = load_exact(model, checkpoint)
    model.dataset_meta = resolve_dataset_meta(cfg, meta.get('dataset_meta'), num_classes(model))
    if not device.startswith('cuda'):
        model = revert_sync_batchnorm(model)
    return model.to(device).eval()


def check_device(device: str) -> None:
    """Fail early, with the fix, when ``device`` names CUDA on a machine without it."""
    if not re.fullmatch(r'cpu|cuda(:\d+)?', device):
        raise ValueError(f"device={device!r} is not supported; use 'cpu' or 'cuda:N'")
    if device.startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(
            f'device={device!r} but CUDA is not available on this machine '
            "(or this PyTorch build); use device 'cpu'"
        )


def resolve_dataset_meta(cfg: Config, checkpoint_meta: Optional[Mapping], class_count: int) -> dict:
    """Classes and palette to draw predictions with (and ``task_classes`` and
    ``task_palettes`` of further tasks, where the source has them).

    Taken from the checkpoint's ``dataset_meta`` if it has classes, else from the
    config's test dataset (its class ``METAINFO`` updated by its ``metainfo``), else
    numbered classes; a missing palette is made up, deterministically.

    Raises:
        ValueError: if the classes found are not ``class_count`` many.
    """
    meta = dict(checkpoint_meta or {})
    source = 'the checkpoint meta'
    if not meta.get('classes'):
        meta, source = _config_dataset_meta(cfg), "the config's test dataset"
    if not meta.get('classes'):
        meta, source = dict(classes=[f'class_{i}' for i in range(class_count)]), ''
    classes = tuple(meta['classes'])
    if len(classes) != class_count:
        raise ValueError(
            f'{source} names {len(classes)} classes but the model predicts '
            f'{class_count}; set num_classes to match the dataset'
        )
    palette = meta.get('palette')
    if not palette or len(palette) < class_count:
        palette = default_palette(class_count)
    resolved = dict(classes=classes, palette=[list(map(int, c)) for c in palette])
    # further tasks' classes and palettes (MultiTaskEncoderDecoder), as found
    resolved.update((key, meta[key]) for key in TASK_META_KEYS if meta.get(key))
    return resolved


def default_palette(class_count: int) -> List[List[int]]:
    """A fixed palette: black for class 0, then well-spread random colours."""
    colours = np.random.default_rng(0).integers(32, 256, (class_count, 3))
    colours[0] = 0
    return colours.tolist()


def num_classes(model: BaseSegmentor) -> int:
    """Number of classes the model predicts (of its last decode head)."""
    head = model.decode_head
    if isinstance(head, nn.ModuleList):
        head = head[-1]
    return int(head.num_classes)


def _config_dataset_meta(cfg: Config) -> dict:
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    dataset_type = dataset.get('type')
    dataset_class = DATASETS.get(dataset_type) if isinstance(dataset_type, str) else None
    meta = dict(getattr(dataset_class, 'METAINFO', {}))
    meta.update(dataset.get('metainfo') or {})
    return meta
