"""Tiny training runs of ``tools/train.py`` (data, configs, commands) and what they
leave (checkpoints)."""

import sys
from pathlib import Path
from typing import Dict, List, Sequence

import torch

from mmseg_fcn_skip.datasets import generate_toy_shapes
from tests.helpers import REPO
from tests.helpers.light_models import TINY_CONFIG


def make_toy_data(root: Path, num_train: int = 8, num_val: int = 2) -> Path:
    """A tiny toy shapes dataset of odd-sized images (33..71 px)."""
    return generate_toy_shapes(
        root, num_train=num_train, num_val=num_val, seed=0, size_range=(33, 71)
    )


def data_options(data_root: Path) -> List[str]:
    """``--cfg-options`` pointing the tiny config at ``data_root``."""
    return [
        f'{loader}.dataset.data_root={data_root}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]


def train_command(
    work_dir: Path, options: Sequence[str], *extra: str, config: Path = TINY_CONFIG
) -> List[str]:
    """``python tools/train.py`` on ``config`` with ``--cfg-options options``."""
    return [
        sys.executable,
        str(REPO / 'tools' / 'train.py'),
        str(config),
        '--work-dir',
        str(work_dir),
        *extra,
        '--cfg-options',
        *options,
    ]


def state_dict(path: Path) -> Dict[str, torch.Tensor]:
    """The model weights of an mmengine checkpoint."""
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


def truncate(path: Path, fraction: float = 0.5) -> None:
    """Cut ``path`` to ``fraction`` of its size, as a kill mid-write would."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def derived_config(directory: Path, name: str, body: str, base: Path = TINY_CONFIG) -> Path:
    """Write ``directory/name.py``: ``base`` updated by the Python lines ``body``."""
    path = directory / f'{name}.py'
    path.write_text(f'_base_ = {str(base)!r}\n{body}')
    return path


def with_probes(*hooks: str) -> str:
    """Config lines importing ``tests.helpers.training_probes`` and adding ``hooks`` to
    the default ones (the process needs the repository on ``PYTHONPATH``)."""
    return (
        "custom_imports = dict(imports=['mmseg_fcn_skip', 'tests.helpers.training_probes'],"
        ' allow_failed_imports=False)\n'
        "custom_hooks = [dict(type='NonFiniteLossHook'), "
        f"dict(type='IterationSeedHook'), {', '.join(hooks)}]\n"
    )
