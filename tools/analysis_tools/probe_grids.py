"""Measure where a backbone's levels lie on the input, and how far a segmentor's
logits are displaced from the pixels they score.

Usage::

    python tools/analysis_tools/probe_grids.py CONFIG [--cfg-options ...] [--size 192] [--seeds 4]
        [--batch 8] [--power 1] [--shift]

Builds ``model.backbone`` of CONFIG (no pretrained weights), randomly initialised once
per seed, and prints the measured offset of pixel 0 of each output level (pixel ``j``
of a stride-``s`` level lies on input pixel ``s * j + offset``), the grid name it
matches and the ``in_grids`` to give ``FCNSkipHead``. With ``--shift`` it also builds
``model.decode_head`` and prints the mean shift of the logits (0 when aligned).
See ``analysis_lib/grids.py`` (beside this file) for the method and docs/backbones.md for
mmseg's backbones.
"""

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

import mmseg_fcn_skip  # noqa: F401  (fills the registries)

# analysis_lib/ lies beside this file (tool code, not part of the package)
sys.path.insert(0, str(Path(__file__).resolve().parent))
from analysis_lib.grids import config_value, probe_level_grids, probe_mean_shift  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description="Measure the grid of each backbone level (and the logits' shift)"
    )
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        '--size', type=int, default=192, help='side of the square random input (default: 192)'
    )
    parser.add_argument(
        '--seeds', type=int, default=4, help='random initialisations to average over (default: 4)'
    )
    parser.add_argument(
        '--batch',
        type=int,
        default=8,
        help='probed positions per initialisation, even (default: 8)',
    )
    parser.add_argument(
        '--power', type=int, default=1, help='weigh input pixels by |gradient|**power (default: 1)'
    )
    parser.add_argument(
        '--shift', action='store_true', help="also measure the decode head's mean shift"
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings as key=value pairs',
    )
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f'--seeds {args.seeds} must be 1 or more')
    if args.batch < 2 or args.batch % 2:
        parser.error(f'--batch {args.batch} must be an even number of 2 or more')
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    """Print and return the measured grids (and shift)."""
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    backbone = cfg.model.backbone.to_dict()
    backbone['init_cfg'] = None
    backbone.pop('pretrained', None)
    seeds = tuple(range(args.seeds))
    grids = probe_level_grids(backbone, args.size, seeds, args.batch, args.power)
    print(f'{"output":>6} {"stride":>6} {"offset":>8} {"spread":>7}  grid')
    for k, grid in enumerate(grids):
        unclear = (
            '  (spread above the stride: no clear grid)' if (grid.spread > grid.stride) else ''
        )
        print(
            f'{k:>6} {grid.stride:>6} {grid.offset:>8.2f} {grid.spread:>7.2f}  '
            f'{grid.name or "-"}{unclear}'
        )
    value = config_value(grids)
    shown = value if isinstance(value, str) else tuple(str(v) for v in value)
    print(f'FCNSkipHead: in_grids={shown!r} (for the outputs it takes, in order)')
    result = dict(grids=grids, in_grids=value)
    if args.shift:
        head = cfg.model.decode_head.to_dict()
        shift, error = probe_mean_shift(backbone, head, args.size, seeds, args.batch, args.power)
        print(f'mean shift of the logits: {shift:+.2f} px (standard error {error:.2f})')
        result['shift'] = (shift, error)
    return result


if __name__ == '__main__':
    main()
