"""Plot loss, learning rate and validation metrics of one or more training runs.

Usage: ``python tools/analysis_tools/plot_curves.py WORK_DIR [WORK_DIR ...] --out curves.png
[--labels A B] [--keys loss lr mIoU aAcc]``. Reads mmengine's
``WORK_DIR/<timestamp>/vis_data/scalars.json`` (a json file may be given instead).
"""

import argparse
import sys
from pathlib import Path
from typing import List, Optional

# analysis_lib/ lies beside this file (tool code, not part of the package)
sys.path.insert(0, str(Path(__file__).resolve().parent))
from analysis_lib.curves import (  # noqa: E402
    DEFAULT_KEYS,
    find_scalar_logs,
    load_scalars,
    plot_curves,
    run_label,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Plot training curves of mmengine work dirs, runs overlaid'
    )
    parser.add_argument(
        'runs',
        nargs='+',
        metavar='WORK_DIR',
        help='work dir, run folder (<timestamp>) or scalars.json file',
    )
    parser.add_argument('--out', default='curves.png', help='output PNG file')
    parser.add_argument(
        '--labels', nargs='+', help='legend label per run (default: work dir names)'
    )
    parser.add_argument(
        '--keys',
        nargs='+',
        default=list(DEFAULT_KEYS),
        help='scalars to plot, one panel each (default: %(default)s)',
    )
    args = parser.parse_args(argv)
    if args.labels is not None and len(args.labels) != len(args.runs):
        parser.error(f'{len(args.labels)} labels for {len(args.runs)} runs; give one label per run')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Read the logs and save the figure."""
    args = parse_args(argv)
    labels = args.labels or [run_label(run) for run in args.runs]
    if len(set(labels)) != len(labels):
        raise ValueError(f'runs with the same legend label {labels}; name them with --labels')
    runs = {label: load_scalars(find_scalar_logs(run)) for label, run in zip(labels, args.runs)}
    drawn = plot_curves(runs, args.out, args.keys)
    print(f'Saved {", ".join(drawn)} of {len(runs)} run(s) to {args.out}')


if __name__ == '__main__':
    main()
