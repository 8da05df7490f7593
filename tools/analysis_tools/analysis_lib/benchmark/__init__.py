"""The project's measurements: parameters and FLOPs (one counter, :mod:`.flops`: one
multiply-add = 2 FLOPs), and throughput, memory and arithmetic rate of segmentors
against mmseg's FCN R50-D8.

``tools/analysis_tools/get_flops.py`` and ``tools/analysis_tools/benchmark.py`` are the
command lines; :func:`model_complexity` and :func:`run_benchmark` the entry points for
code. See docs/performance.md.
"""

from .flops import FLOP_CONVENTION, count_flops, model_complexity
from .measure import inference_flops, matmul_tflops, measure, prediction_agreement, training_flops
from .models import (
    REFERENCE_NAME,
    build_segmentor,
    project_spec,
    random_batch,
    reference_spec,
    strip_pretrained,
)
from .runner import BenchmarkSettings, run_benchmark

__all__ = [
    'FLOP_CONVENTION',
    'REFERENCE_NAME',
    'BenchmarkSettings',
    'build_segmentor',
    'count_flops',
    'inference_flops',
    'matmul_tflops',
    'measure',
    'model_complexity',
    'prediction_agreement',
    'project_spec',
    'random_batch',
    'reference_spec',
    'run_benchmark',
    'strip_pretrained',
    'training_flops',
]
