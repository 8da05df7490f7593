"""Training curves and per-class scores behind the tools in ``tools/``.

Parameters and FLOPs: :mod:`mmseg_fcn_skip.benchmark.flops`.
"""
from .curves import find_scalar_logs, load_scalars, plot_curves, run_label
from .scores import (ClassScores, format_scores_table, score_checkpoint,
                     scores_from_areas, write_scores_json)

__all__ = ['ClassScores', 'find_scalar_logs', 'format_scores_table', 'load_scalars',
           'plot_curves', 'run_label', 'score_checkpoint',
           'scores_from_areas', 'write_scores_json']
