"""Write the synthetic toy shapes dataset used by configs/_base_/datasets/
toy_shapes.py."""

import argparse

from mmseg_fcn_skip.datasets import generate_toy_shapes


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Generate the synthetic toy shapes segmentation dataset '
        '(img_dir/{train,val} and ann_dir/{train,val} PNGs).'
    )
    parser.add_argument('--out', default='data/toy_shapes', help='output dataset root')
    parser.add_argument('--num-train', type=int, default=200, help='number of train images')
    parser.add_argument('--num-val', type=int, default=40, help='number of val images')
    parser.add_argument(
        '--seed', type=int, default=0, help='random seed; the same seed writes the same data'
    )
    return parser.parse_args()


def main() -> None:
    """Generate the dataset and report where it was written."""
    args = parse_args()
    root = generate_toy_shapes(
        args.out, num_train=args.num_train, num_val=args.num_val, seed=args.seed
    )
    print(f'Wrote {args.num_train} train and {args.num_val} val images to {root}')


if __name__ == '__main__':
    main()
