"""Export an FCN model of this plugin to ONNX with dynamic batch, height and width.

Usage: ``python tools/deployment/export_onnx.py CONFIG CHECKPOINT OUT.onnx [--shape H W]
[--opset 17]``. The graph takes ``image``: float32 (N, 3, H, W), 0..255, BGR as loaded
by OpenCV (normalisation included) and returns ``logits``: float32 (N, classes, H, W)
at the input size; a multi-task model (SIFT Flow) returns one output per task,
``logits`` for the first and ``<task>_logits`` for each further one (``geo_logits``).
If onnxruntime is installed, the file is checked against PyTorch at the export size
and two odd sizes, every output. A model whose logits are all equal (untrained score
layers start at zero, so every logit is 0), in any output, would make that comparison
check nothing: the tool says so and checks the graph on a copy of the model with its
all-zero weights redrawn at random, exported the same way to a temporary file.
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
from typing import Dict, List, Optional

import mmseg_fcn_skip  # noqa: F401  (fills the registries)
from mmseg_fcn_skip.apis import load_model
from mmseg_fcn_skip.apis.export import (
    ONNX_TOLERANCE,
    check_onnx,
    constant_outputs,
    export_onnx,
    exported_heads,
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
    heads = exported_heads(model)
    if len(heads) == 1:
        outputs = 'output logits: float32 N x classes x H x W'
    else:
        outputs = 'outputs ' + ', '.join(
            f'{name}: float32 N x {head.num_classes} x H x W' for name, head in heads.items()
        )
    print(f'Exported {out_file} (input image: float32 N x 3 x H x W, 0..255 BGR; {outputs})')
    if not args.check:
        return 0
    if importlib.util.find_spec('onnxruntime') is None:
        print('onnxruntime is not installed, not checked (pip install onnxruntime)')
        return 0
    shapes = [tuple(args.shape), *CHECK_SHAPES]
    constant = constant_outputs(model, tuple(args.shape))
    if not constant:
        errors = check_onnx(model, out_file, shapes, per_output=True)
    else:
        errors = check_with_random_scores(model, constant, args, shapes)
    worst = 0.0
    for (height, width), by_output in errors.items():
        for name, error in by_output.items():
            worst = max(worst, error)
            verdict = 'ok' if error <= ONNX_TOLERANCE else 'MISMATCH'
            which = '' if len(by_output) == 1 else f' {name}'
            print(
                f'  {height}x{width}{which}: max |ONNX - PyTorch| / (1 + max |logit|) = '
                f'{error:.2e} {verdict}'
            )
    if worst > ONNX_TOLERANCE:
        print(f'ONNX and PyTorch disagree beyond {ONNX_TOLERANCE:g}', file=sys.stderr)
        return 1
    return 0


def check_with_random_scores(
    model, constant: Dict[str, float], args: argparse.Namespace, shapes: List[tuple]
) -> dict:
    """Check the graph on a copy whose all-zero weights are redrawn (see the module).

    Args:
        constant: The outputs whose logits are one value, with it (``constant_outputs``).
    """
    probe = copy.deepcopy(model)
    redrawn = redraw_zero_weights(probe)
    values = set(constant.values())
    if len(constant) == len(exported_heads(model)) and len(values) == 1:
        which = f'Every logit of this model is {values.pop():g}'
    else:
        which = 'Every logit of ' + ', '.join(
            f'output {name} is {value:g}' for name, value in constant.items()
        )
    print(
        f'{which} (all-zero weights: {", ".join(redrawn) or "none"}; untrained score '
        'layers start at zero), so comparing its logits would check nothing. Checking the '
        'graph on a copy with those weights drawn at random instead.'
    )
    still = constant_outputs(probe, tuple(args.shape))
    if still:
        raise ValueError(
            f'the logits of {", ".join(still)} stay equal everywhere with random score '
            'layers; the check cannot compare them. Export a trained checkpoint.'
        )
    with tempfile.TemporaryDirectory() as tmp:
        probe_file = export_onnx(probe, Path(tmp) / 'probe.onnx', tuple(args.shape), args.opset)
        return check_onnx(probe, probe_file, shapes, per_output=True)


if __name__ == '__main__':
    sys.exit(main())
