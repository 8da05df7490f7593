"""Training and inference throughput against mmseg's FCN R50-D8, in one run.

Usage (GPU, the figures of docs/performance.md)::

    python tools/analysis_tools/benchmark.py --precision bf16 --channels-last --compile \
        --json work_dirs/benchmark/bf16_cl_compile.json

Without CUDA it says so and runs a small CPU measurement. FLOPs and TFLOP/s count one
multiply-add as 2 FLOPs (``analysis_lib/benchmark/flops.py`` beside this file).
``--help`` lists the options.
"""

import argparse
import sys
from pathlib import Path
from typing import List, Optional

import torch
from mmseg.utils import register_all_modules

# analysis_lib/ lies beside this file (tool code, not part of the package)
sys.path.insert(0, str(Path(__file__).resolve().parent))
from analysis_lib.benchmark.measure import HOST_TIMERS, PRECISIONS  # noqa: E402
from analysis_lib.benchmark.report import format_report, write_json  # noqa: E402
from analysis_lib.benchmark.runner import (  # noqa: E402
    DEVICE_DEFAULTS,
    BenchmarkSettings,
    default_configs,
    fill_device_defaults,
    resolve_device,
    run_benchmark,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    gpu, cpu = DEVICE_DEFAULTS['cuda'], DEVICE_DEFAULTS['cpu']
    parser = argparse.ArgumentParser(
        description='Training and inference throughput of segmentors against '
        "mmseg's FCN R50-D8, measured in one run on one device."
    )
    parser.add_argument(
        '--configs',
        nargs='+',
        default=list(default_configs()),
        metavar='CONFIG',
        help='model configs to measure (default: the FCN-8s configs '
        'fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py and '
        'fcn_skip_caffe/fcn8s_vgg16-caffe_4xb4-40k_voc12aug-512x512.py and FCN-AlexNet, '
        'fcn_skip_caffe/fcn32s_alexnet-caffe_1xb1-acc20-2000k_seg11valid-fullsize.py, '
        'shipped with the package)',
    )
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help=f'input size (default: {gpu["shape"]} on GPU, {cpu["shape"]} on CPU)',
    )
    parser.add_argument(
        '--batch',
        type=int,
        help=f'images per step (default: {gpu["batch"]} on GPU, {cpu["batch"]} on CPU)',
    )
    parser.add_argument('--num-classes', type=int, default=21, help='default: 21')
    parser.add_argument(
        '--precision',
        choices=PRECISIONS,
        default='fp32',
        help='bf16 = autocast to bfloat16 (default: fp32)',
    )
    parser.add_argument(
        '--channels-last', action='store_true', help='channels-last model and inputs'
    )
    parser.add_argument(
        '--compile',
        action='store_true',
        help="torch.compile the segmentor's loss and encode_decode",
    )
    parser.add_argument(
        '--device', help='cuda, cuda:N or cpu (default: cuda if available, else a small CPU run)'
    )
    parser.add_argument(
        '--warmup',
        type=int,
        help=f'untimed calls first (default: {gpu["warmup"]} GPU, {cpu["warmup"]} CPU)',
    )
    parser.add_argument(
        '--repeats',
        type=int,
        help=f'timed calls, median taken (default: {gpu["repeats"]} GPU, {cpu["repeats"]} CPU)',
    )
    parser.add_argument(
        '--rounds',
        type=int,
        default=1,
        help='measure every model this many times, in turn; ratios are the median '
        'of the per-round ratios (default: 1)',
    )
    parser.add_argument(
        '--timer',
        choices=tuple(HOST_TIMERS),
        default='wall',
        help='clock of CPU runs: wall (time.perf_counter) or process (CPU time of this '
        'process, steadier on a shared machine); CUDA runs use CUDA events '
        '(default: wall)',
    )
    parser.add_argument(
        '--profile',
        type=int,
        default=0,
        metavar='STEPS',
        help='also profile STEPS training steps and inference calls of each model '
        '(torch.profiler) and list the costliest operators (default: 0, no profile)',
    )
    parser.add_argument('--json', metavar='OUT.json', help='also write the report here')
    return parser.parse_args(argv)


def settings_from_args(args: argparse.Namespace) -> BenchmarkSettings:
    """Settings for the device the run ends up on (see ``resolve_device``)."""
    device, note = resolve_device(args.device)
    if device.type == 'cpu':
        print(note or 'No CUDA device requested or available.')
        print(
            f'CPU mode: a small CPU measurement ({torch.get_num_threads()} threads, '
            f'{args.timer} clock); no peak memory. The GPU figures need a CUDA '
            'machine: see docs/performance.md.'
        )
    settings = BenchmarkSettings(
        configs=tuple(args.configs),
        num_classes=args.num_classes,
        precision=args.precision,
        channels_last=args.channels_last,
        compile=args.compile,
        device=str(device),
        rounds=args.rounds,
        host_timer=args.timer,
        profile_steps=args.profile,
    )
    return fill_device_defaults(settings, vars(args))


def main(argv: Optional[List[str]] = None) -> dict:
    """Run the benchmark, print the report and return it."""
    args = parse_args(argv)
    import mmseg_fcn_skip  # noqa: F401  (fills the registries)

    register_all_modules(init_default_scope=True)
    settings = settings_from_args(args)
    report = run_benchmark(settings)
    print(format_report(report))
    if args.json:
        print(f'Report written to {write_json(report, args.json)}')
    return report


if __name__ == '__main__':
    main()
