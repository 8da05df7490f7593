"""Convert Caffe's ImageNet VGG weights into a FullyConvVGG backbone checkpoint.

SRC is either the .caffemodel itself (e.g. VGG_ILSVRC_16_layers.caffemodel, read
without Caffe) or a PyTorch state dict with the Caffe layer names: conv1_1 ..
conv5_3, fc6 (4096x25088 or 4096x512x7x7), fc7, optionally fc8 (dropped). The depth
is read from the conv names. The result is what configs/fcn_skip_caffe/ load as
checkpoints/vgg16_caffe_mmseg.pth.

Caffe's VGG weights expect BGR images, 0..255, minus the mean pixel, unscaled: in
mmseg's preprocessor bgr_to_rgb=False, mean=[104.00699, 116.66877, 122.67892],
std=[1, 1, 1] (configs/fcn_skip_caffe/). The first conv keeps its BGR channel order.
"""

import argparse
from pathlib import Path
from typing import List, Optional

import torch

from mmseg_fcn_skip.checkpoints import CAFFE_VGG, convert, read_weights


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        'src',
        metavar='SRC',
        help='VGG_ILSVRC_16_layers.caffemodel or a .pth with Caffe layer names',
    )
    parser.add_argument(
        'dst', metavar='DST', help='output checkpoint, e.g. checkpoints/vgg16_caffe_mmseg.pth'
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Convert SRC and write DST."""
    args = parse_args(argv)
    checkpoint, meta = convert(read_weights(args.src), CAFFE_VGG)
    Path(args.dst).parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, args.dst)
    print(
        f'{meta["source"]} -> {args.dst}\n  backbone: {meta["backbone"]}\n'
        f'  data_preprocessor: {meta["data_preprocessor"]}'
    )


if __name__ == '__main__':
    main()
