"""Evaluation metrics; importing this registers ``FCNMetric`` and ``TaskMetric`` in
mmseg's ``METRICS``."""

from .fcn_metric import SCORE_NAMES, FCNMetric, fcn_scores
from .task_metric import TaskMetric

__all__ = ['FCNMetric', 'SCORE_NAMES', 'TaskMetric', 'fcn_scores']
