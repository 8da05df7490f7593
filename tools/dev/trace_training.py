"""Record what a short training run sees and computes, iteration by iteration.

For comparing two environments (e.g. the maintained and the upstream OpenMMLab
packages): run the same config, data and seed in each, then ``diff`` the
outputs; the first differing line shows where the runs part. Per iteration it
writes (after a hash of the initial weights) the samples drawn, a hash of the augmented images and of their labels,
the loss and a hash of the weights after the step; then the validation metrics.

Usage::

    python tools/dev/trace_training.py configs/fcn8s_toy.py --iters 20 \\
        --cfg-options train_dataloader.dataset.data_root=data/toy_shapes > trace.txt
"""

import argparse
import hashlib
import os.path as osp
import tempfile
from typing import Dict, Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mmseg_fcn_skip  # noqa: F401  (fills the registries)


def digest(tensors: Sequence[torch.Tensor]) -> str:
    """The first 12 hex digits of the SHA-256 of the tensors' shapes and bytes."""
    sha = hashlib.sha256()
    for tensor in tensors:
        sha.update(str(tuple(tensor.shape)).encode())
        sha.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return sha.hexdigest()[:12]


class TraceHook(Hook):
    """Print one line per training iteration and one per validation."""

    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        """Print a hash of the initial weights."""
        print(f'initial weights {digest(list(runner.model.state_dict().values()))}', flush=True)

    def before_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None) -> None:
        """Note the samples, images and labels of this iteration."""
        samples = data_batch['data_samples']
        self._line = (
            f'iter {runner.iter + 1:3d} samples '
            f'{",".join(osp.basename(s.img_path) for s in samples)} '
            f'images {digest(data_batch["inputs"])} '
            f'labels {digest([s.gt_sem_seg.data for s in samples])}'
        )

    def after_train_iter(
        self,
        runner,
        batch_idx: int,
        data_batch: Optional[dict] = None,
        outputs: Optional[Dict[str, torch.Tensor]] = None,
    ) -> None:
        """Add the loss and the weights after the step, and print the line."""
        weights = digest(list(runner.model.state_dict().values()))
        print(f'{self._line} loss {outputs["loss"].item():.9f} weights {weights}', flush=True)

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        """Print the validation metrics."""
        print(f'val after iter {runner.iter}: {metrics}', flush=True)


def main() -> None:
    """Train ``--iters`` iterations of the config and print the trace."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=20, help='iterations to train')
    parser.add_argument(
        '--val-interval', type=int, default=10, help='validate every this many iterations'
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='config overrides, as for tools/train.py',
    )
    args = parser.parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.train_cfg.max_iters = args.iters
    cfg.train_cfg.val_interval = args.val_interval
    cfg.default_hooks.checkpoint.interval = args.iters + 1
    with tempfile.TemporaryDirectory() as work_dir:
        cfg.work_dir = work_dir
        runner = Runner.from_cfg(cfg)
        runner.register_hook(TraceHook())
        runner.train()


if __name__ == '__main__':
    main()
