"""Predict label maps for an image, a folder or a glob of images.

Usage: ``python tools/infer.py CONFIG CHECKPOINT INPUT [--out DIR] [--device cpu]
[--batch-size N] [--modality NAME=DIR]``. Writes ``DIR/pred/<name>.png`` (palette PNG of class indices; a
multi-task model also ``DIR/pred_<task>/<name>.png`` for each further task) and
``DIR/vis/<name>.png`` (colour overlay) per image; a rerun skips the images already
done. Images inside an output folder (this run's or an earlier one's, marked by a
``.fcn_skip_outputs`` file) are never taken as inputs. Exits with status 1 if some
images could not be read (the others are written).

A multi-modal model (colour-HHA, colour-depth) takes the colour images as INPUT and
finds each one's modality files by the config's naming rule (``modalities=dict(hha='hha')``:
``images/img_5001.png`` -> ``hha/img_5001.png``, the folder next to the image's), or
below the folder that ``--modality hha=DIR`` names (at the image's path below the
input folder, as ``.png``). A missing file stops the run before anything is predicted,
naming the file (status 2).
"""

import argparse
import sys
from pathlib import Path
from typing import List, Optional

import torch
from mmengine.config import DictAction

import mmseg_fcn_skip  # noqa: F401  (fills the registries)
from mmseg_fcn_skip.apis import find_images, infer_images, load_model
from mmseg_fcn_skip.apis.inference import BATCH_MODES, ModalityError
from mmseg_fcn_skip.engine.preflight import check_checkpoint_source, exit_on_errors


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Predict label maps (palette PNGs) and colour overlays for images'
    )
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file, a name of published weights (e.g. '
        'fcn8s-heavy-pascal, fetched and converted on first use) or an http(s) URL',
    )
    parser.add_argument(
        'input',
        help="an image, a folder (searched recursively) or a quoted glob such as 'photos/**/*.jpg'",
    )
    parser.add_argument('--out', default='outputs', help='output folder')
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu',
        help='cpu or cuda:N (default: cuda:0 if available, else cpu)',
    )
    parser.add_argument('--batch-size', type=int, default=1, help='images per batch')
    parser.add_argument(
        '--batch-mode',
        choices=BATCH_MODES,
        default='group',
        help='group: batch only equal sizes (same results as batch size 1); pad: pad '
        'mixed sizes at the bottom/right (faster, edge pixels may differ slightly)',
    )
    parser.add_argument(
        '--skip-existing',
        action=argparse.BooleanOptionalAction,
        default=True,
        help='skip images whose outputs exist, so an interrupted run can be restarted',
    )
    parser.add_argument(
        '--opacity', type=float, default=0.5, help='label colour weight in the overlay'
    )
    parser.add_argument(
        '--modality',
        action='append',
        default=[],
        metavar='NAME=DIR',
        help="multi-modal models: the folder of a modality's files, e.g. hha=my_data/hha "
        "(at the images' paths below INPUT, with the config's modality suffix, .png; repeatable; default: the config's "
        "naming rule, the folder of that name next to each image's folder)",
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings as key=value pairs',
    )
    args = parser.parse_args(argv)
    args.modality_dirs = {}
    for option in args.modality:
        name, _, folder = option.partition('=')
        if not name or not folder or name in args.modality_dirs:
            parser.error(
                f'--modality {option}: give each modality once as NAME=DIR, e.g. '
                '--modality hha=data/nyudv2/hha'
            )
        args.modality_dirs[name] = folder
    return args


def main(argv: Optional[List[str]] = None) -> int:
    """Run the inference; return the exit status."""
    args = parse_args(argv)
    # a misspelled weights name or path, a damaged file: one line, status 2
    exit_on_errors(check_checkpoint_source(args.checkpoint, 'checkpoint'))
    out_dir = Path(args.out)
    paths, root = find_images(args.input, exclude=out_dir)
    model = load_model(args.config, args.checkpoint, args.device, args.cfg_options)
    try:
        summary = infer_images(
            model,
            paths,
            root,
            out_dir,
            batch_size=args.batch_size,
            batch_mode=args.batch_mode,
            skip_existing=args.skip_existing,
            opacity=args.opacity,
            modality_dirs=args.modality_dirs,
        )
    except ModalityError as error:  # a missing HHA or depth file: one line, status 2
        exit_on_errors([str(error)])
    print(
        f'{summary.written} images written to {out_dir}, {summary.skipped} skipped '
        f'(outputs exist), {len(summary.failed)} failed'
    )
    for path, reason in summary.failed:
        print(f'failed: {path}: {reason}', file=sys.stderr)
    return 1 if summary.failed else 0


if __name__ == '__main__':
    sys.exit(main())
