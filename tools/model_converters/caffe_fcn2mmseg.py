"""Convert the paper's FCN models into checkpoints of the plugin's Caffe-exact nets.

SRC is a released .caffemodel (fcn32s-heavy-pascal, fcn16s-heavy-pascal,
fcn8s-heavy-pascal, fcn8s-atonce-pascal, fcn-alexnet-pascal; read without Caffe) or a
PyTorch state dict with the reference layer names (conv1_1 .. conv5_3, fc6, fc7,
score_fr, score_pool4, score_pool3, upscore2, upscore_pool4, upscore8 / upscore16 /
upscore; FCN-AlexNet: conv1 .. conv5, fc6, fc7, score_fr, upscore). The net (VGG16 or
AlexNet body) and the variant (32s, 16s, 8s) are read from the layers and printed with
the config to test it with:
configs/fcn_skip_caffe/fcn{32s,16s,8s,8s-atonce}_vgg16-caffe_1xb1-*_seg11valid-fullsize.py,
configs/fcn_skip_caffe/fcn32s_alexnet-caffe_1xb1-acc20-2000k_seg11valid-fullsize.py.
A file with neither net's layers is refused, naming the layers it has.

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

from mmseg_fcn_skip.checkpoints import CAFFE_FCN, convert, read_weights, weights_layout
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
    state_dict = read_weights(args.src)
    if weights_layout(state_dict) != CAFFE_FCN:
        raise ValueError(
            f'{args.src} is no reference FCN net: it has the layers '
            f'{layer_names(state_dict)}, not score_fr on a VGG16 (conv1_1 .. conv5_3) or '
            'AlexNet (conv1 .. conv5) body; ImageNet weights convert with '
            'tools/model_converters/caffe_vgg2mmseg.py or torchvision_vgg2mmseg.py'
        )
    checkpoint, meta = convert(
        state_dict, CAFFE_FCN, variant=args.variant, learn_upsample=args.learn_upsample
    )
    Path(args.dst).parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, args.dst)
    variant = meta['variant']
    if meta.get('backbone') == 'FullyConvAlexNet':
        variant = f'AlexNet ({variant})'
    options = ' --cfg-options model.decode_head.learn_upsample=True' if args.learn_upsample else ''
    print(
        f'FCN-{variant}, {meta["num_classes"]} classes -> {args.dst}\n'
        f'  test: python tools/test.py {meta["config"]} {args.dst}{options}'
    )


def layer_names(state_dict: dict) -> List[str]:
    """The layer names of a state dict's keys (``conv1.weight`` -> ``conv1``), in order."""
    return list(dict.fromkeys(key.rsplit('.', 1)[0] for key in state_dict))


if __name__ == '__main__':
    main()
