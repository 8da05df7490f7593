"""Test (and evaluate) a trained segmentor.

Usage: ``python tools/test.py CONFIG CHECKPOINT [--show-dir DIR] [--tta]``.
For several processes use ``tools/dist_test.sh`` (torchrun), which also
works on CPU-only machines.
"""

import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mmseg_fcn_skip  # noqa: F401  (fills the registries)
from mmseg_fcn_skip.checkpoints import verify_checkpoint
from mmseg_fcn_skip.cli import hide_dependency_warnings
from mmseg_fcn_skip.engine import exit_on_errors, preflight_test
from mmseg_fcn_skip.utils import close_distributed, prepare_cpu_distributed
from mmseg_fcn_skip.weights import resolve_checkpoint


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Test (and evaluate) a segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file, a name of published weights (e.g. '
        'fcn8s-heavy-pascal, fetched and converted on first use) or an http(s) URL',
    )
    parser.add_argument(
        '--work-dir', help='the dir to save logs and the evaluation metrics as json'
    )
    parser.add_argument('--out', help='the dir to save predicted label maps for offline use')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='dir to save painted predictions in; a relative path is taken '
        'relative to the work dir',
    )
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds each result is shown for with --show'
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings as key=value pairs, e.g. '
        'test_dataloader.batch_size=1 or key="[a,b]" for lists',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    parser.add_argument('--tta', action='store_true', help='test time augmentation')
    # torch.distributed.launch passes --local-rank (torch>=2.0) or
    # --local_rank (older); torchrun sets LOCAL_RANK instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def enable_visualization(cfg: Config, args: argparse.Namespace) -> None:
    """Turn on drawing of every test image in the config's visualization hook.

    ``interval=1``: upstream mmseg 1.2.2's hook draws one batch in every
    ``interval`` (default 50) also when testing; newer ones draw every image.
    """
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise ValueError(
            'default_hooks.visualization is missing, so --show/--show-dir '
            "cannot draw; add visualization=dict(type='SegVisualizationHook')"
            ' to default_hooks.'
        )
    hook['draw'] = True
    hook['interval'] = 1
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = osp.join(cfg.work_dir, args.show_dir)


def main() -> None:
    """Build the runner from the config and test the checkpoint."""
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
    # one line per mistake (checkpoint, classes, data), before anything is built
    exit_on_errors(preflight_test(cfg, args.checkpoint))
    checkpoint = resolve_checkpoint(args.checkpoint)
    cfg.load_from = checkpoint

    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    prepare_cpu_distributed(cfg, args.launcher)

    runner = Runner.from_cfg(cfg)
    verify_checkpoint(runner.model, checkpoint)
    runner.test()


if __name__ == '__main__':
    main()
    close_distributed()  # once the runner and its model are gone
