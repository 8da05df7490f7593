"""Convert the paper's FCN models into checkpoints of the plugin's Caffe-exact nets.

SRC is a released .caffemodel (fcn32s-heavy-pascal, fcn16s-heavy-pascal,
fcn8s-heavy-pascal, fcn8s-atonce-pascal; read without Caffe) or a PyTorch state
dict with the reference layer names (conv1_1 .. conv5_3, fc6, fc7, score_fr,
score_pool4, score_pool3, upscore2, upscore_pool4, upscore8 / upscore16 / upscore).
The variant (32s, 16s, 8s) is read from the keys and printed with the config to test
it with: configs/fcn_skip_caffe/fcn{32s,16s,8s,8s-atonce}_vgg16-caffe_1xb1-*_seg11valid-fullsize.py.

At-once FCN-8s: its .caffemodel holds the fixed scale_pool4/scale_pool3 factors and
is recognised; a state dict without them (a port that scales in code) has the keys
of the staged FCN-8s, so pass --variant 8s-atonce for it.

Upsampling: the released nets keep per-class bilinear kernels. These are checked and
dropped, since the plugin rebuilds them. If they are not bilinear (learned, as in
the CVPR-era models), the conversion stops; convert with --learn-upsample to keep
them and test with --cfg-options model.decode_head.learn_upsample=True.

The inputs follow Caffe's VGG16: BGR, 0..255, minus the mean pixel (configs/fcn_skip_caffe/).
"""

import argparse
from pathlib import Path
from typing import List, Optional

import torch

from mmseg_fcn_skip.checkpoints import CAFFE_FCN, convert, read_weights
from mmseg_fcn_skip.checkpoints.converters import VARIANTS


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        'src', metavar='SRC', help='fcn*-pascal.caffemodel or a .pth with the reference layer names'
    )
    parser.add_argument('dst', metavar='DST', help='output checkpoint, e.g. checkpoints/fcn8s.pth')
    parser.add_argument(
        '--variant',
        choices=VARIANTS,
        help='check the keys against this variant; needed for at-once FCN-8s weights '
        'without Scale layers (default: read from the keys)',
    )
    parser.add_argument(
        '--learn-upsample',
        action='store_true',
        help='keep the upsampling weights as learnable weights (for a config with '
        'decode_head.learn_upsample=True) instead of requiring bilinear kernels',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Convert SRC and write DST."""
    args = parse_args(argv)
    checkpoint, meta = convert(
        read_weights(args.src), CAFFE_FCN, variant=args.variant, learn_upsample=args.learn_upsample
    )
    Path(args.dst).parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, args.dst)
    variant = meta['variant']
    options = ' --cfg-options model.decode_head.learn_upsample=True' if args.learn_upsample else ''
    print(
        f'FCN-{variant}, {meta["num_classes"]} classes -> {args.dst}\n'
        f'  test: python tools/test.py {meta["config"]} {args.dst}{options}'
    )


if __name__ == '__main__':
    main()
