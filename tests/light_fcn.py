"""Light FCN models on the toy shapes for the tool and API tests.

``configs/fcn8s_toy.py`` narrowed further (VGG11, 8..64 channels, fc6/fc7 with 32) so
that building, saving and running a model takes milliseconds. Importable as
``light_fcn``: pytest puts ``tests/`` on ``sys.path`` when it loads ``tests/conftest.py``.
"""

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Iterable, List, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from mmseg_fcn_skip.datasets import TOY_SHAPES_CLASSES, TOY_SHAPES_PALETTE

REPO = Path(__file__).resolve().parents[1]
#: Backbone levels of FCN-32s, 16s and 8s, deepest last.
OUT_INDICES = {1: (5,), 2: (3, 5), 3: (2, 3, 5)}
#: Channels of pool1..pool5 and fc7 with base_channels=8, fc_channels=32.
LEVEL_CHANNELS = (8, 16, 32, 64, 64, 32)
DATASET_META = dict(classes=TOY_SHAPES_CLASSES, palette=TOY_SHAPES_PALETTE)


def write_config(
    directory: Path, pad_mode: str = 'same', num_levels: int = 3, num_classes: int = 5
) -> Path:
    """Write a light FCN config (FCN-32s/16s/8s by ``num_levels``) and return its path."""
    out_indices = OUT_INDICES[num_levels]
    channels = tuple(LEVEL_CHANNELS[i] for i in out_indices)
    path = Path(directory) / f'fcn{32 >> (num_levels - 1)}s_{pad_mode}_{num_classes}.py'
    path.write_text(
        f'_base_ = {str(REPO / "configs" / "fcn8s_toy.py")!r}\n'
        'model = dict(\n'
        f'    backbone=dict(depth=11, pad_mode={pad_mode!r}, base_channels=8,\n'
        f'                  fc_channels=32, out_indices={out_indices!r}),\n'
        f'    decode_head=dict(in_channels={channels!r},\n'
        f'                     in_index={tuple(range(num_levels))!r},\n'
        f'                     pad_mode={pad_mode!r}, num_classes={num_classes}))\n'
    )
    return path


def save_checkpoint(config: Path, path: Path, seed: int = 0) -> Path:
    """Save random weights of ``config`` with the toy dataset meta.

    The score layers are drawn with std 1 so that the predictions vary over an image.
    """
    cfg = Config.fromfile(config)
    init_default_scope('mmseg')
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    for parameter in model.decode_head.parameters():
        torch.nn.init.normal_(parameter)
    meta = dict(dataset_meta=DATASET_META)
    torch.save({'state_dict': model.state_dict(), 'meta': meta}, path)
    return Path(path)


def light_model(
    directory: Path, pad_mode: str = 'same', num_levels: int = 3, num_classes: int = 5
) -> Tuple[Path, Path]:
    """Config and checkpoint of a light FCN, written into ``directory``."""
    config = write_config(directory, pad_mode, num_levels, num_classes)
    return config, save_checkpoint(config, config.with_suffix('.pth'))


def blob_image(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A BGR image of smooth random colour blobs (the light models' predictions vary
    over it, unlike over pixel noise)."""
    small = rng.integers(0, 256, (max(height // 16, 2), max(width // 16, 2), 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def write_images(directory: Path, sizes: Iterable[Tuple[int, int]], seed: int = 0) -> List[Path]:
    """Write blob PNG images of the given ``(height, width)`` sizes."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index, (height, width) in enumerate(sizes):
        path = directory / f'img_{index:03d}.png'
        cv2.imwrite(str(path), blob_image(height, width, rng))
        paths.append(path)
    return paths


def load_tool(name: str) -> ModuleType:
    """Import ``tools/<name>.py`` as a module, to call its ``main(argv)``.

    ``name`` may name a sub-folder, e.g. ``'analysis_tools/get_flops'``.
    """
    module_name = 'tools_' + name.replace('/', '_')
    spec = importlib.util.spec_from_file_location(module_name, REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_python(*args: str) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` in a fresh process, the repo importable."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([str(REPO)] + [p for p in [env.get('PYTHONPATH')] if p])
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=300
    )


def run_tool(name: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``python tools/<name>.py ARGS`` as a user would (``name`` as in load_tool)."""
    return run_python(str(REPO / 'tools' / f'{name}.py'), *args)


def free_port() -> int:
    """A loopback port free at the time of the call, for a process group's master."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]
