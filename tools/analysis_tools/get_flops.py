"""Parameters and FLOPs of a segmentor at a given input size.

Usage: ``python tools/analysis_tools/get_flops.py CONFIG --shape H W``. FLOPs are counted with the
project's one counter (``analysis_lib/benchmark/flops.py``: one multiply-add = 2 FLOPs,
matrix products and convolutions) over a forward pass on CPU of the whole model up to
the logits at the input size, decode head included, auxiliary heads left out. Tools
that count a multiply-add as one FLOP (mmengine's ``get_model_complexity_info``)
report half.
"""

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from mmengine.config import Config, DictAction

import mmseg_fcn_skip  # noqa: F401  (fills the registries)

# analysis_lib/ lies beside this file (tool code, not part of the package)
sys.path.insert(0, str(Path(__file__).resolve().parent))
from analysis_lib.benchmark.flops import FLOP_CONVENTION, model_complexity  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Count the parameters and FLOPs of a segmentor')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=[512, 512],
        metavar='SIZE',
        help='input size: H W, or one number for a square (default: 512 512)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings as key=value pairs',
    )
    args = parser.parse_args(argv)
    if len(args.shape) not in (1, 2):
        parser.error(f'--shape takes H W or one size, got {len(args.shape)} numbers')
    return args


def main(argv: Optional[List[str]] = None) -> dict:
    """Print and return the counts for the config."""
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    height, width = args.shape * 2 if len(args.shape) == 1 else args.shape
    result = model_complexity(cfg, (height, width))
    print(
        f'Config: {args.config}\nInput shape: 3 x {height} x {width}\n'
        f'FLOPs: {result["flops"] / 1e9:.2f} GFLOP ({FLOP_CONVENTION})\n'
        f'Params: {result["params"] / 1e6:.2f} M'
    )
    return result


if __name__ == '__main__':
    main()
