"""Export an FCN model of this plugin to ONNX with dynamic batch, height and width.

Usage: ``python tools/deployment/export_onnx.py CONFIG CHECKPOINT OUT.onnx [--shape H W]
[--opset 17]``. The graph takes ``image``: float32 (N, 3, H, W), 0..255, BGR as loaded
by OpenCV (normalisation included) and returns ``logits``: float32 (N, classes, H, W)
at the input size. If onnxruntime is installed, the file is checked against PyTorch
at the export size and two odd sizes. A model whose logits are all equal (untrained
score layers start at zero, so every logit is 0) would make that comparison check
nothing: the tool says so and checks the graph on a copy of the model with its all-zero
weights redrawn at random, exported the same way to a temporary file.
A model whose graph would work only at the traced size (backbones such as MiT and
Swin, or any graph onnxruntime cannot run at two other sizes with batch 2) stops with
one line and status 2, and nothing is written.
"""

import argparse
import copy
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

import mmseg_fcn_skip  # noqa: F401  (fills the registries)
from mmseg_fcn_skip.apis import load_model
from mmseg_fcn_skip.apis.export import (
    ONNX_TOLERANCE,
    check_onnx,
    constant_logit,
    export_onnx,
    redraw_zero_weights,
)
from mmseg_fcn_skip.apis.export_sizes import first_size_failure, fixed_size_reason

#: Sizes checked besides the export size: odd, and of both aspect ratios.
CHECK_SHAPES = ((37, 53), (101, 67))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Export a model to ONNX (raw BGR image in, logits at input size '
        'out; dynamic batch, height and width)'
    )
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file, a name of published weights (e.g. '
        'fcn8s-heavy-pascal, fetched and converted on first use) or an http(s) URL',
    )
    parser.add_argument('out', help='ONNX file to write')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        default=[512, 512],
        metavar=('H', 'W'),
        help='size of the example image traced (any size works afterwards)',
    )
    parser.add_argument('--opset', type=int, default=17, help='ONNX opset version')
    parser.add_argument(
        '--check',
        action=argparse.BooleanOptionalAction,
        default=True,
        help='compare with PyTorch in onnxruntime (skipped if it is not installed)',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Export, then check; return the exit status."""
    args = parse_args(argv)
    model = load_model(args.config, args.checkpoint, 'cpu')
    traced = 'x'.join(map(str, args.shape))
    reason = fixed_size_reason(model)
    if reason is not None:
        print(
            f'error: {args.config} does not export with dynamic sizes: {reason}, so its graph '
            f'would work only at the traced {traced}; nothing written (docs/export.md lists '
            'the configs that export)',
            file=sys.stderr,
        )
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        # Written into place only once it is known to work at other sizes.
        exported = export_onnx(model, Path(tmp) / 'model.onnx', tuple(args.shape), args.opset)
        if args.check and importlib.util.find_spec('onnxruntime') is not None:
            failure = first_size_failure(model, exported, CHECK_SHAPES)
            if failure is not None:
                print(
                    f'error: the graph of {args.config} works only at the traced {traced}: '
                    f'{failure}; nothing written (docs/export.md lists the configs that export)',
                    file=sys.stderr,
                )
                return 2
        out_file = Path(args.out)
        out_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(exported), str(out_file))
    print(
        f'Exported {out_file} (input image: float32 N x 3 x H x W, 0..255 BGR; '
        'output logits: float32 N x classes x H x W)'
    )
    if not args.check:
        return 0
    if importlib.util.find_spec('onnxruntime') is None:
        print('onnxruntime is not installed, not checked (pip install onnxruntime)')
        return 0
    shapes = [tuple(args.shape), *CHECK_SHAPES]
    value = constant_logit(model, tuple(args.shape))
    if value is None:
        errors = check_onnx(model, out_file, shapes)
    else:
        errors = check_with_random_scores(model, value, args, shapes)
    for (height, width), error in errors.items():
        verdict = 'ok' if error <= ONNX_TOLERANCE else 'MISMATCH'
        print(
            f'  {height}x{width}: max |ONNX - PyTorch| / (1 + max |logit|) = {error:.2e} {verdict}'
        )
    if max(errors.values()) > ONNX_TOLERANCE:
        print(f'ONNX and PyTorch disagree beyond {ONNX_TOLERANCE:g}', file=sys.stderr)
        return 1
    return 0


def check_with_random_scores(
    model, value: float, args: argparse.Namespace, shapes: List[tuple]
) -> dict:
    """Check the graph on a copy whose all-zero weights are redrawn (see the module)."""
    probe = copy.deepcopy(model)
    redrawn = redraw_zero_weights(probe)
    print(
        f'Every logit of this model is {value:g} (all-zero weights: '
        f'{", ".join(redrawn) or "none"}; untrained score layers start at zero), so '
        'comparing its logits would check nothing. Checking the graph on a copy with '
        'those weights drawn at random instead.'
    )
    if constant_logit(probe, tuple(args.shape)) is not None:
        raise ValueError(
            'the logits stay equal everywhere with random score layers; '
            'the check cannot compare them. Export a trained checkpoint.'
        )
    with tempfile.TemporaryDirectory() as tmp:
        probe_file = export_onnx(probe, Path(tmp) / 'probe.onnx', tuple(args.shape), args.opset)
        return check_onnx(probe, probe_file, shapes)


if __name__ == '__main__':
    sys.exit(main())
