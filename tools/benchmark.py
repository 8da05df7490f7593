"""Training and inference throughput against mmseg's FCN R50-D8, in one run.

Usage (GPU, the figures of docs/performance.md)::

    python tools/benchmark.py --precision bf16 --channels-last --compile \
        --json work_dirs/benchmark/bf16_cl_compile.json

Without CUDA it says so and runs a small CPU measurement. ``--help`` lists the
options.
"""
from mmseg_fcn_skip.benchmark.cli import main

if __name__ == '__main__':
    main()
