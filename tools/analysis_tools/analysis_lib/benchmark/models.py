"""The segmentors under test: project configs and mmseg's FCN R50-D8 reference."""

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, List, Sequence, Tuple

import mmseg
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_fcn_skip.apis.export import redraw_zero_weights

#: Name of the reference model in tables and JSON.
REFERENCE_NAME = 'mmseg FCN R50-D8'
#: mmseg's model definition of FCN R50-D8, inside the installed package.
REFERENCE_MODEL_FILE = Path('_base_', 'models', 'fcn_r50-d8.py')
#: Configs measured when none are given, relative to the repository root.
DEFAULT_CONFIGS = (
    'fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py',
    'fcn_skip_caffe/fcn8s_vgg16-caffe_4xb4-40k_voc12aug-512x512.py',
    # FCN-AlexNet: the paper's fast net (50 ms against FCN-VGG16's 210 ms per forward).
    'fcn_skip_caffe/fcn32s_alexnet-caffe_1xb1-acc20-2000k_seg11valid-fullsize.py',
)


@dataclass
class ModelSpec:
    """A model to measure: its display name, where it came from and its config."""

    name: str
    source: str
    model_cfg: dict


def mmseg_config_dir() -> Path:
    """The stock configs shipped inside the installed mmseg package."""
    return Path(mmseg.__file__).parent / '.mim' / 'configs'


def strip_pretrained(cfg: Any) -> Any:
    """Drop every ``Pretrained`` initialisation and ``pretrained`` path, in place.

    Walks nested dicts and lists: an ``init_cfg`` of type ``Pretrained`` (alone or
    in a list) is removed and ``pretrained`` keys are set to None, so that building
    and initialising the model reads no checkpoint.

    Returns:
        The same ``cfg``.
    """
    if isinstance(cfg, dict):
        if 'pretrained' in cfg:
            cfg['pretrained'] = None
        if 'init_cfg' in cfg:
            cfg['init_cfg'] = _without_pretrained(cfg['init_cfg'])
        for value in cfg.values():
            strip_pretrained(value)
    elif isinstance(cfg, list):
        for value in cfg:
            strip_pretrained(value)
    return cfg


def _without_pretrained(init_cfg: Any) -> Any:
    if isinstance(init_cfg, dict):
        return None if init_cfg.get('type') == 'Pretrained' else init_cfg
    if isinstance(init_cfg, list):
        kept = [item for item in init_cfg if _without_pretrained(item) is not None]
        return kept or None
    return init_cfg


def set_num_classes(model_cfg: dict, num_classes: int) -> dict:
    """Set ``num_classes`` of the decode head and of any auxiliary heads, in place."""
    heads = [model_cfg['decode_head']]
    auxiliary = model_cfg.get('auxiliary_head')
    if auxiliary is not None:
        heads += auxiliary if isinstance(auxiliary, list) else [auxiliary]
    for head in heads:
        head['num_classes'] = num_classes
    return model_cfg


def project_spec(config: str, num_classes: int) -> ModelSpec:
    """The model of a project config, with no pretrained weights."""
    model_cfg = Config.fromfile(config).model.to_dict()
    strip_pretrained(model_cfg)
    set_num_classes(model_cfg, num_classes)
    return ModelSpec(config_name(config), str(config), model_cfg)


def reference_spec(num_classes: int) -> ModelSpec:
    """mmseg's FCN R50-D8 with its auxiliary FCNHead, BN for one process, random init.

    The model file is loaded by its path in the installed package (``mmseg::``
    base paths do not resolve with these packages) and changed in code.
    """
    path = mmseg_config_dir() / REFERENCE_MODEL_FILE
    model_cfg = Config.fromfile(str(path)).model.to_dict()
    strip_pretrained(model_cfg)
    for key in ('backbone', 'decode_head', 'auxiliary_head'):
        model_cfg[key]['norm_cfg'] = dict(type='BN', requires_grad=True)
    set_num_classes(model_cfg, num_classes)
    return ModelSpec(REFERENCE_NAME, str(path), model_cfg)


def config_name(config: str) -> str:
    """Short name of a config: its path below the last ``configs`` folder (or its
    file name outside one), without the suffix."""
    parts = Path(config).with_suffix('').parts
    if 'configs' not in parts:
        return parts[-1]
    index = len(parts) - 1 - parts[::-1].index('configs')
    return '/'.join(parts[index + 1 :])


@contextmanager
def quiet_mmengine_logs() -> Iterator[None]:
    """Keep mmengine's per-parameter initialisation report off the console."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def build_segmentor(spec: ModelSpec, device: torch.device) -> nn.Module:
    """Build and initialise the segmentor of ``spec`` through the registry.

    Weights that are all zero after initialisation (FCN's score layers start at
    zero) are redrawn from N(0, 0.01^2) so that the predictions are not constant
    and a comparison of predictions means something. Timing is unaffected.
    """
    model = MODELS.build(spec.model_cfg)
    with quiet_mmengine_logs():
        model.init_weights()
    redraw_zero_weights(model)
    return model.to(device)


def random_batch(
    batch: int, shape: Sequence[int], num_classes: int, device: torch.device, seed: int = 0
) -> Tuple[torch.Tensor, List[SegDataSample]]:
    """Normalised random images and full-resolution random labels.

    Drawn on the CPU from ``seed`` and then moved, so that every device gets the
    same batch.

    Returns:
        ``(inputs, data_samples)``: inputs of shape ``(batch, 3, H, W)`` and one
        ``SegDataSample`` per image with ``gt_sem_seg`` of shape ``(1, H, W)``.
    """
    height, width = shape
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch, 3, height, width, generator=generator)
    labels = torch.randint(0, num_classes, (batch, 1, height, width), generator=generator)
    meta = dict(img_shape=(height, width), ori_shape=(height, width), pad_shape=(height, width))
    samples = []
    for label in labels:
        sample = SegDataSample(metainfo=meta)
        sample.gt_sem_seg = PixelData(data=label.to(device))
        samples.append(sample)
    return inputs.to(device), samples
