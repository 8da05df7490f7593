"""Score several checkpoints on the validation set and print one table of their scores.

Usage: ``python tools/analysis_tools/compare_runs.py --configs a.py b.py --checkpoints a.pth b.pth``.
Each checkpoint is scored on its config's validation set with the config's
``IoUMetric`` (as ``tools/test.py`` scores it); the table gives mIoU, aAcc, mAcc and
the IoU of every class, one row per run, named after the checkpoint's folder unless
``--names`` is given. ``--json FILE`` also saves every per-class figure.
"""

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from mmengine.config import DictAction

import mmseg_fcn_skip  # noqa: F401  (fills the registries)

# analysis_lib/ lies beside this file (tool code, not part of the package)
sys.path.insert(0, str(Path(__file__).resolve().parent))
from analysis_lib.scores import format_scores_table, score_checkpoint, write_scores_json  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Score checkpoints on the validation set, class by class, in one table'
    )
    parser.add_argument('--configs', nargs='+', required=True, help='one config per run')
    parser.add_argument('--checkpoints', nargs='+', required=True, help='one checkpoint per config')
    parser.add_argument(
        '--names', nargs='+', help='row names, one per run (default: the folder of each checkpoint)'
    )
    parser.add_argument('--json', help='also save the scores to this JSON file')
    parser.add_argument('--device', default='cpu', help='cpu or cuda:N (default: cpu)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides for every config, e.g. val_dataloader.dataset.data_root=data/toy_shapes',
    )
    args = parser.parse_args(argv)
    if len(args.configs) != len(args.checkpoints):
        parser.error(
            f'{len(args.configs)} configs but {len(args.checkpoints)} '
            'checkpoints; give one checkpoint per config'
        )
    if args.names is None:
        args.names = [Path(checkpoint).parent.name for checkpoint in args.checkpoints]
    if len(args.names) != len(args.configs):
        parser.error(f'{len(args.names)} names for {len(args.configs)} runs; give one name per run')
    if len(set(args.names)) != len(args.names):
        parser.error(f'the row names {args.names} repeat; pass --names to tell the runs apart')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Score every run and print the table."""
    args = parse_args(argv)
    scores = {
        name: score_checkpoint(config, checkpoint, args.device, args.cfg_options)
        for name, config, checkpoint in zip(args.names, args.configs, args.checkpoints)
    }
    count = next(iter(scores.values())).num_images
    print(f'Scores on {count} validation images (percent; IoU per class):')
    print(format_scores_table(scores))
    if args.json:
        print(f'Saved to {write_scores_json(scores, args.json)}')


if __name__ == '__main__':
    main()
