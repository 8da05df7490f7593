"""Convert the paper's FCN models into checkpoints of the plugin's Caffe-exact nets.

SRC is a released .caffemodel (read without Caffe) or a PyTorch state dict with the
reference layer names (conv1_1 .. conv5_3, fc6, fc7, score_fr, score_pool4,
score_pool3, upscore2, upscore_pool4, upscore8 / upscore16 / upscore). The released
nets with these layer names:

  PASCAL VOC (21 classes):     fcn32s-heavy-pascal, fcn16s-heavy-pascal,
                               fcn8s-heavy-pascal, fcn8s-atonce-pascal
  PASCAL-Context (60 outputs): pascalcontext-fcn32s-heavy, pascalcontext-fcn16s-heavy,
                               pascalcontext-fcn8s-heavy
  NYUDv2 (40 classes):         nyud-fcn32s-color-heavy, nyud-fcn32s-hha-heavy

the NYUDv2 colour-HHA late fusion net (nyud-fcn32s-color-hha-heavy: two VGG16 streams whose
layers carry the suffixes color and hha, conv1_1color .. fc7color, score_frcolor, the same
with hha, and one shared upscore), and FCN-AlexNet (fcn-alexnet-pascal, 21 classes) with its CaffeNet layer names (conv1 ..
conv5, fc6, fc7, score_fr, upscore).

The net is recognised from its layers and shapes (the variant from the skip layers,
the task from the class count) and printed with the config to test it with. The
NYUDv2 colour and HHA nets have identical layers and shapes: name them with --net.
Weights with the reference layer names but another class count (one's own training)
convert without class names. Files with other layers (SIFT Flow) are refused, naming
the layers found.

Classes: the converted net scores the classes of the net's mmseg dataset in that
dataset's order, each score channel moved by class name. PASCAL-Context: mmseg's
PascalContextDataset59 (alphabetical; the reference's diningtable, bedcloth, clothes
are mmseg's table, bedclothes, cloth), the released background channel dropped;
--dataset PascalContextDataset keeps it (60 classes, background first).

At-once FCN-8s: its .caffemodel holds the fixed scale_pool4/scale_pool3 factors and
is recognised; a state dict without them (a port that scales in code) has the keys
of the staged FCN-8s, so pass --variant 8s-atonce for it.

Upsampling: the released nets keep per-class bilinear kernels. These are checked and
dropped, since the plugin rebuilds them. If they are not bilinear (learned, as in
the CVPR-era models), the conversion stops; convert with --learn-upsample to keep
them and test with --cfg-options model.decode_head.learn_upsample=True.

Inputs: BGR, 0..255, minus the mean pixel (Caffe's VGG16) for PASCAL VOC and
PASCAL-Context; NYUDv2 colour: BGR minus (116.190, 97.203, 92.318); NYUDv2 HHA: the
PNG's channels as stored minus (132.431, 94.076, 118.477); colour-HHA: the 6 channels of
colour (BGR) then HHA (as stored), minus both means. The converted file records
them (meta data_preprocessor) and the configs of configs/fcn_skip_caffe/ set them.
"""

import argparse
from pathlib import Path
from typing import List, Optional

import torch

from mmseg_fcn_skip.checkpoints import CAFFE_FCN, convert, read_weights, weights_layout
from mmseg_fcn_skip.checkpoints.converters import VARIANTS
from mmseg_fcn_skip.checkpoints.converters.released import RELEASED_NETS


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        'src', metavar='SRC', help='a released .caffemodel or a .pth with the reference layer names'
    )
    parser.add_argument('dst', metavar='DST', help='output checkpoint, e.g. checkpoints/fcn8s.pth')
    parser.add_argument(
        '--variant',
        choices=VARIANTS,
        help='check the keys against this variant; needed for at-once FCN-8s weights '
        'without Scale layers (default: read from the keys)',
    )
    parser.add_argument(
        '--net',
        choices=list(RELEASED_NETS),
        help='the released net SRC is, checked against its layers and shapes; needed '
        'for nyud-fcn32s-color-heavy and nyud-fcn32s-hha-heavy (default: recognised)',
    )
    parser.add_argument(
        '--dataset',
        help='the mmseg dataset type whose classes the converted net scores, in its '
        "order (default: the net's; PascalContextDataset keeps Context's background)",
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
        state_dict,
        CAFFE_FCN,
        variant=args.variant,
        learn_upsample=args.learn_upsample,
        net=args.net,
        dataset=args.dataset,
    )
    Path(args.dst).parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, args.dst)
    if meta.get('backbone') == 'FullyConvAlexNet':
        print(f'FCN-AlexNet ({meta["variant"]}), {meta["num_classes"]} classes -> {args.dst}')
    else:
        print(f'FCN-{meta["variant"]}, {meta["num_classes"]} classes -> {args.dst}')
        print('  ' + describe(meta))
    options = ' --cfg-options model.decode_head.learn_upsample=True' if args.learn_upsample else ''
    if meta['config']:
        print(f'  test: python tools/test.py {meta["config"]} {args.dst}{options}')
    else:
        print(
            f'  test: with a config of that net whose test dataset is {meta["dataset"]} '
            f'(model.decode_head.num_classes={meta["num_classes"]}){options}'
        )


def describe(meta: dict) -> str:
    """What the converted weights are, in words."""
    if 'net' not in meta:
        return (
            'not a released net (no released net has this class count): converted '
            'without class names'
        )
    if meta.get('streams'):
        order = f'streams {" then ".join(meta["streams"])} (colour BGR, HHA as stored)'
    else:
        order = 'channels as stored' if meta['data_preprocessor']['bgr_to_rgb'] else 'BGR'
    return (
        f'released net {meta["net"]} ({meta["task"]}), scoring the classes of '
        f'{meta["dataset"]} in its order; input: {order}, '
        f'mean {meta["data_preprocessor"]["mean"]}'
    )


def layer_names(state_dict: dict) -> List[str]:
    """The layer names of a state dict's keys (``conv1.weight`` -> ``conv1``), in order."""
    return list(dict.fromkeys(key.rsplit('.', 1)[0] for key in state_dict))


if __name__ == '__main__':
    main()
