"""Train a segmentor from a config file.

Usage: ``python tools/train.py CONFIG [--work-dir DIR] [--resume] [--amp]``.

``load_from`` (a file, a short name such as ``fcn8s-heavy-pascal`` or a URL) may be
the model itself, a coarser FCN variant (staged training: the new skip levels keep
their initialisation) or a model with another class count (fine-tuning: the score
layers start afresh); the log lists what was loaded and what was initialised. A
finer variant, whose extra trained layers would be dropped, needs
``load_from_drop_layers = True`` in the config. ``--resume`` needs the model itself.
For several processes use ``tools/dist_train.sh`` (torchrun), which also
works on CPU-only machines.
"""

import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

import mmseg_fcn_skip  # noqa: F401  (fills the registries)
from mmseg_fcn_skip.checkpoints import (
    DROP_LAYERS_KEY,
    check_load_from,
    resolve_resume,
    use_atomic_checkpoints,
)
from mmseg_fcn_skip.cli import hide_dependency_warnings
from mmseg_fcn_skip.engine import exit_on_errors, preflight_train
from mmseg_fcn_skip.utils import close_distributed, enable_amp, prepare_cpu_distributed
from mmseg_fcn_skip.weights import resolve_checkpoint


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the newest intact checkpoint in the work_dir (or '
        'from load_from, if the config sets it); damaged ones are passed over',
    )
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic mixed precision training (bfloat16 on CPU)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings as key=value pairs, e.g. '
        'train_cfg.max_iters=100 or key="[a,b]" for lists',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    # torch.distributed.launch passes --local-rank (torch>=2.0) or
    # --local_rank (older); torchrun sets LOCAL_RANK instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main() -> None:
    """Build the runner from the config and train."""
    args = parse_args()
    hide_dependency_warnings()  # mmseg's advice on avg_non_ignore, when the model is built
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir priority: command line > config > config file name
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

    # one line per mistake (classes, data, load_from), before anything is built
    exit_on_errors(preflight_train(cfg))
    if args.amp:
        enable_amp(cfg)
    if cfg.get('load_from'):
        # a short name or URL of published weights: fetched and converted once
        cfg.load_from = resolve_checkpoint(cfg.load_from)
    cfg.resume = args.resume
    if args.resume:
        resolve_resume(cfg)
    use_atomic_checkpoints(cfg)
    prepare_cpu_distributed(cfg, args.launcher)

    if 'runner_type' in cfg:
        runner = RUNNERS.build(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    if cfg.get('load_from'):
        # Checked before the first iteration: mmengine would skip weights that do
        # not fit with a warning. Resuming needs the same model; load_from may be a
        # coarser FCN variant (staged training) or have other classes (fine-tuning).
        check_load_from(
            runner.model,
            cfg.load_from,
            exact=args.resume,
            drop_layers=bool(cfg.get(DROP_LAYERS_KEY, False)),
        )
    runner.train()


if __name__ == '__main__':
    main()
    close_distributed()  # once the runner and its model are gone
