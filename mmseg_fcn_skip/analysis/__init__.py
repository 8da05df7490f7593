"""Model complexity, training curves and per-class scores behind the tools in ``tools/``."""
from .complexity import model_complexity
from .curves import find_scalar_logs, load_scalars, plot_curves, run_label
from .scores import (ClassScores, format_scores_table, score_checkpoint,
                     scores_from_areas, write_scores_json)

__all__ = ['ClassScores', 'find_scalar_logs', 'format_scores_table', 'load_scalars',
           'model_complexity', 'plot_curves', 'run_label', 'score_checkpoint',
           'scores_from_areas', 'write_scores_json']
