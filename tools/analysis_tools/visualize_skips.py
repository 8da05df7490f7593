"""Separately trained FCN-32s, 16s, 8s (and 4s) side by side (Figure 4 of the paper).

Usage: ``python tools/analysis_tools/visualize_skips.py IMAGE --configs c32.py c16.py c8.py
--checkpoints a.pth b.pth c.pth``: one panel per model, coarsest first as given.
``--gt LABEL.png`` adds the ground truth and each prediction's pixel accuracy.

``--remove-skips`` with one config and checkpoint draws another view: that one net
with its finer skips left out (e.g. "FCN-8s without the stride-8 skip"), which shows
what each skip adds to it; it is not a separately trained FCN-16s or FCN-32s.
"""

import argparse
from pathlib import Path
from typing import List, Optional

import torch

import mmseg_fcn_skip  # noqa: F401  (fills the registries)
from mmseg_fcn_skip.apis import load_model
from mmseg_fcn_skip.apis.inference import read_image
from mmseg_fcn_skip.apis.skips import (
    draw_skip_figure,
    predict_each_model,
    predict_skip_variants,
    read_label_map,
    variant_name,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Draw an image with the predictions of FCN-32s/16s/8s/4s models side by side'
    )
    parser.add_argument('image', help='image file')
    parser.add_argument(
        '--configs',
        nargs='+',
        required=True,
        help='one config per model (with --remove-skips: exactly one)',
    )
    parser.add_argument('--checkpoints', nargs='+', required=True, help='one checkpoint per config')
    parser.add_argument(
        '--remove-skips',
        action='store_true',
        help='one net only: draw it with its finer skips left out, one panel per '
        'number of fused levels (not separately trained nets)',
    )
    parser.add_argument('--gt', help='ground-truth label map (PNG of class indices)')
    parser.add_argument('--out', default='skips.png', help='output PNG file')
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu',
        help='cpu or cuda:N (default: cuda:0 if available, else cpu)',
    )
    args = parser.parse_args(argv)
    if len(args.configs) != len(args.checkpoints):
        parser.error(
            f'{len(args.configs)} configs but {len(args.checkpoints)} '
            'checkpoints; give one checkpoint per config'
        )
    if args.remove_skips and len(args.configs) != 1:
        parser.error(
            f'--remove-skips takes one config and checkpoint, got '
            f'{len(args.configs)}; drop --remove-skips to draw one panel per '
            'model'
        )
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Predict with every model (or every skip removal) and save the figure."""
    args = parse_args(argv)
    image = read_image(Path(args.image))
    models = [
        load_model(config, checkpoint, args.device)
        for config, checkpoint in zip(args.configs, args.checkpoints)
    ]
    if args.remove_skips:
        labels = predict_skip_variants(models[0], image)
        title = (
            f'One {variant_name(models[0])} net with its finer skips left out '
            '(not separately trained nets)'
        )
    else:
        labels = predict_each_model(models, image)
        title = 'Separately trained nets' if len(models) > 1 else None
    ground_truth = read_label_map(Path(args.gt)) if args.gt else None
    meta = models[-1].dataset_meta
    out_file = draw_skip_figure(
        image[..., ::-1],
        labels,
        meta['classes'],
        meta['palette'],
        Path(args.out),
        ground_truth,
        title,
    )
    print(f'Saved {", ".join(labels)} for {args.image} to {out_file}')


if __name__ == '__main__':
    main()
