"""Evaluation metrics; importing this registers ``FCNMetric`` in mmseg's ``METRICS``."""

from .fcn_metric import SCORE_NAMES, FCNMetric, fcn_scores

__all__ = ['FCNMetric', 'SCORE_NAMES', 'fcn_scores']
