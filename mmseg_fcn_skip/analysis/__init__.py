"""Training curves, per-class scores and level grids behind the tools in ``tools/``.

Parameters and FLOPs: :mod:`mmseg_fcn_skip.benchmark.flops`.
"""

from .curves import find_scalar_logs, load_scalars, plot_curves, run_label
from .grids import LevelGrid, config_value, probe_level_grids, probe_mean_shift
from .scores import (
    ClassScores,
    format_scores_table,
    score_checkpoint,
    scores_from_areas,
    write_scores_json,
)

__all__ = [
    'ClassScores',
    'LevelGrid',
    'config_value',
    'find_scalar_logs',
    'format_scores_table',
    'load_scalars',
    'plot_curves',
    'probe_level_grids',
    'probe_mean_shift',
    'run_label',
    'score_checkpoint',
    'scores_from_areas',
    'write_scores_json',
]
