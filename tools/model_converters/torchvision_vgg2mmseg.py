"""Convert torchvision's ImageNet VGG weights into a FullyConvVGG backbone checkpoint.

Works for vgg11, vgg13, vgg16, vgg19 and their _bn variants (the depth and batch norm
are read from the keys). fc6/fc7 become 7x7/1x1 convolutions; the 1000-class layer
is dropped. Load the result with

    backbone=dict(type='FullyConvVGG', depth=16,
                  init_cfg=dict(type='Pretrained', checkpoint=DST))

(add norm_cfg=dict(type='BN') for the _bn weights). torchvision's weights expect RGB
images in 0..1 normalised by the ImageNet mean/std, i.e. in mmseg's preprocessor:
bgr_to_rgb=True, mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], as in
configs/_base_/models/fcn8s_vgg16.py. Do not use them with the Caffe configs (BGR,
mean pixel, std 1): a mismatched input costs several points of mean IU.

Some ports publish Caffe's VGG16 in torchvision's key layout; convert such a file with
--caffe-input, which records Caffe's input convention in the checkpoint's meta, and
use it with configs/fcn_skip_caffe/.
"""

import argparse
from pathlib import Path
from typing import List, Optional

import torch

from mmseg_fcn_skip.checkpoints import TORCHVISION_VGG, convert, read_weights


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        'src', metavar='SRC', help='torchvision VGG weights, e.g. vgg16-397923af.pth'
    )
    parser.add_argument(
        'dst', metavar='DST', help='output checkpoint, e.g. checkpoints/vgg16_torchvision_mmseg.pth'
    )
    parser.add_argument(
        '--caffe-input',
        action='store_true',
        help="SRC holds Caffe's weights in torchvision's layout (they expect BGR, "
        '0..255 minus the mean pixel)',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Convert SRC and write DST."""
    args = parse_args(argv)
    convention = 'caffe' if args.caffe_input else 'torchvision'
    checkpoint, meta = convert(read_weights(args.src), TORCHVISION_VGG, convention)
    Path(args.dst).parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, args.dst)
    print(
        f'{meta["source"]} -> {args.dst}\n  backbone: {meta["backbone"]}\n'
        f'  data_preprocessor: {meta["data_preprocessor"]}'
    )


if __name__ == '__main__':
    main()
