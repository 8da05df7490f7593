"""FCN-32s, FCN-16s and FCN-8s predictions side by side (Figure 4 of the paper).

Usage, from one FCN-8s checkpoint (the coarser predictions leave out its finer skips):
``python tools/visualize_skips.py IMAGE --configs fcn8s.py --checkpoints fcn8s.pth``;
from three trained models: ``--configs c32.py c16.py c8.py --checkpoints a.pth b.pth
c.pth``. ``--gt LABEL.png`` adds the ground truth and each prediction's pixel accuracy.
"""
import argparse
from pathlib import Path
from typing import List, Optional

import torch

import mmseg_fcn_skip  # noqa: F401  (fills the registries)
from mmseg_fcn_skip.apis import load_model
from mmseg_fcn_skip.apis.inference import read_image
from mmseg_fcn_skip.apis.skips import (draw_skip_figure, predict_each_model,
                                       predict_skip_variants, read_label_map)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Draw an image with its FCN-32s/16s/8s predictions side by side')
    parser.add_argument('image', help='image file')
    parser.add_argument(
        '--configs', nargs='+', required=True,
        help='one FCN config (its coarser variants are drawn too) or one per model')
    parser.add_argument(
        '--checkpoints', nargs='+', required=True, help='one checkpoint per config')
    parser.add_argument('--gt', help='ground-truth label map (PNG of class indices)')
    parser.add_argument('--out', default='skips.png', help='output PNG file')
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu',
        help='cpu or cuda:N (default: cuda:0 if available, else cpu)')
    args = parser.parse_args(argv)
    if len(args.configs) != len(args.checkpoints):
        parser.error(f'{len(args.configs)} configs but {len(args.checkpoints)} '
                     'checkpoints; give one checkpoint per config')
    return args


def main(argv: Optional[List[str]] = None) -> None:
    """Predict with every variant and save the figure."""
    args = parse_args(argv)
    image = read_image(Path(args.image))
    models = [load_model(config, checkpoint, args.device)
              for config, checkpoint in zip(args.configs, args.checkpoints)]
    if len(models) == 1:
        labels = predict_skip_variants(models[0], image)
    else:
        labels = predict_each_model(models, image)
    ground_truth = read_label_map(Path(args.gt)) if args.gt else None
    meta = models[-1].dataset_meta
    out_file = draw_skip_figure(image[..., ::-1], labels, meta['classes'],
                                meta['palette'], Path(args.out), ground_truth)
    print(f'Saved {", ".join(labels)} for {args.image} to {out_file}')


if __name__ == '__main__':
    main()
