"""Write HHA images (horizontal disparity, height above ground, angle with gravity)
computed from depth maps, as NYUDv2's released HHA PNGs are, for your own RGB-D data.

Reads every ``*.png`` in DEPTH_DIR (single-channel, 16-bit; ``--depth-scale`` mm per
unit, 1 for millimetres) and writes ``OUT_DIR/<same name>.png``, 3 channels stored in
the order disparity, height, angle (``mmseg_fcn_skip.datasets.transforms.hha`` gives
the scalings, those of Gupta et al.'s release). Point a dataset's HHA folder at
OUT_DIR (``NYUDv2Dataset(modalities=dict(hha=OUT_DIR))`` or ``img_path`` of the HHA
config); computing them once here is cheaper than ``DepthToHHA`` in every epoch.

Example (NYUDv2's Kinect, 640x480 frames, as the NYU toolbox gives its colour camera):
    python tools/dataset_converters/depth_to_hha.py my_rgbd/depth my_rgbd/hha \\
        --intrinsics 518.86 519.47 325.58 253.74
"""

import argparse
from pathlib import Path
from typing import List, Optional

import numpy as np
from PIL import Image

from mmseg_fcn_skip.datasets.transforms.hha import depth_to_hha

#: Pillow modes of single-channel 16- and 32-bit images.
DEPTH_MODES = ('I;16', 'I;16B', 'I;16L', 'I', 'F')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('depth_dir', help='folder of depth PNGs (single-channel, 16-bit)')
    parser.add_argument('out_dir', help='where to write the HHA PNGs (same names)')
    parser.add_argument(
        '--intrinsics',
        type=float,
        nargs=4,
        required=True,
        metavar=('FX', 'FY', 'CX', 'CY'),
        help="the depth maps' camera in pixels (first pixel's centre at 0, 0)",
    )
    parser.add_argument(
        '--depth-scale', type=float, default=1.0, help='millimetres per unit of the depth PNGs'
    )
    parser.add_argument(
        '--gravity',
        type=float,
        nargs=3,
        default=None,
        metavar=('GX', 'GY', 'GZ'),
        help='the down direction in camera coordinates (x right, y down, z forward) if '
        'known; else estimated per image from the surface normals',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Convert every depth PNG of DEPTH_DIR."""
    args = parse_args(argv)
    depth_dir, out_dir = Path(args.depth_dir), Path(args.out_dir)
    paths = sorted(depth_dir.glob('*.png'))
    if not paths:
        raise FileNotFoundError(f'{depth_dir} holds no .png depth maps; check DEPTH_DIR')
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in paths:
        with Image.open(path) as image:
            if image.mode not in DEPTH_MODES:
                raise ValueError(
                    f'depth map {path} is a {image.mode!r} image; depth maps are '
                    'single-channel 16-bit PNGs (set --depth-scale for units other than mm)'
                )
            depth = np.asarray(image, dtype=np.float64) * args.depth_scale
        hha = depth_to_hha(depth, args.intrinsics, gravity=args.gravity)
        Image.fromarray(hha).save(out_dir / path.name)  # stored as disparity, height, angle
    print(f'{len(paths)} HHA images written to {out_dir}')


if __name__ == '__main__':
    main()
