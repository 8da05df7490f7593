"""Throughput, memory and arithmetic rate of segmentors against mmseg's FCN R50-D8.

``tools/benchmark.py`` is the command line; :func:`run_benchmark` the entry point
for code. See docs/performance.md.
"""
from .measure import (count_flops, inference_flops, matmul_tflops, measure,
                      prediction_agreement, training_flops)
from .models import (REFERENCE_NAME, build_segmentor, project_spec, random_batch,
                     reference_spec, strip_pretrained)
from .runner import BenchmarkSettings, run_benchmark

__all__ = [
    'REFERENCE_NAME', 'BenchmarkSettings', 'build_segmentor', 'count_flops',
    'inference_flops', 'matmul_tflops', 'measure', 'prediction_agreement',
    'project_spec', 'random_batch', 'reference_spec', 'run_benchmark',
    'strip_pretrained', 'training_flops'
]
