"""Score checkpoints on their validation set with mmseg's ``IoUMetric``, class by class.

``Runner.val()`` logs the per-class table but returns only the means; this module keeps
the per-class IoU and accuracy so that several runs can be put in one table (the demo
compares FCN-32s, 16s, 8s and 4s this way).
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmseg.evaluation import IoUMetric

from mmseg_fcn_skip.apis import load_model


@dataclass(frozen=True)
class ClassScores:
    """Per-class scores of one model on one dataset, as fractions in [0, 1].

    Attributes:
        classes: Class names, in label order.
        iou: ``(num_classes,)`` intersection over union; NaN for a class that is
            neither in the labels nor in the predictions.
        acc: ``(num_classes,)`` accuracy (recall); NaN for a class absent from the
            labels.
        aacc: Fraction of the labelled pixels predicted right.
        num_images: Number of images scored.
    """

    classes: Tuple[str, ...]
    iou: np.ndarray
    acc: np.ndarray
    aacc: float
    num_images: int

    def summary(self) -> Dict[str, float]:
        """``aAcc``, ``mIoU`` and ``mAcc`` in percent, rounded as ``IoUMetric`` does."""
        return {
            'aAcc': float(np.round(self.aacc * 100, 2)),
            'mIoU': float(np.round(np.nanmean(self.iou) * 100, 2)),
            'mAcc': float(np.round(np.nanmean(self.acc) * 100, 2)),
        }

    def to_dict(self) -> dict:
        """The summary and the per-class IoU and accuracy, in percent (JSON-ready)."""

        def per_class(values: np.ndarray) -> Dict[str, Optional[float]]:
            return {
                name: None if np.isnan(v) else float(np.round(v * 100, 2))
                for name, v in zip(self.classes, values)
            }

        return dict(
            self.summary(),
            IoU=per_class(self.iou),
            Acc=per_class(self.acc),
            num_images=self.num_images,
        )


def scores_from_areas(
    results: Sequence[Tuple[torch.Tensor, ...]],
    classes: Sequence[str],
    nan_to_num: Optional[float] = None,
) -> ClassScores:
    """Per-class scores from the per-image areas that ``IoUMetric.process`` collects.

    Args:
        results: ``IoUMetric.results``: one ``(intersect, union, pred_label, label)``
            tuple of ``(num_classes,)`` pixel counts per image.
        classes: Class names, in label order.
        nan_to_num: ``IoUMetric``'s setting: the value that replaces NaN, if any.
    """
    if not results:
        raise ValueError(
            'no image was scored; check that the validation set is not '
            'empty (data_root and data_prefix of val_dataloader)'
        )
    totals = [sum(area) for area in zip(*results)]
    metrics = IoUMetric.total_area_to_metrics(*totals, metrics=['mIoU'], nan_to_num=nan_to_num)
    return ClassScores(
        classes=tuple(classes),
        iou=np.asarray(metrics['IoU'], float),
        acc=np.asarray(metrics['Acc'], float),
        aacc=float(metrics['aAcc']),
        num_images=len(results),
    )


@torch.no_grad()
def score_checkpoint(
    config: Union[str, Path],
    checkpoint: Union[str, Path],
    device: str = 'cpu',
    cfg_options: Optional[dict] = None,
) -> ClassScores:
    """Score a checkpoint on its config's validation set with its ``val_evaluator``.

    The model, ``val_dataloader`` and ``val_evaluator`` are built from the config as the
    Runner builds them, and each batch goes through ``model.val_step``, so the means
    equal those that ``tools/test.py`` (or the validation during training) reports.

    Args:
        config: Config file.
        checkpoint: Checkpoint that fits the config (see ``load_model``).
        device: ``'cpu'`` or ``'cuda:N'``.
        cfg_options: Config overrides, e.g. ``{'val_dataloader.dataset.data_root': ...}``.

    Raises:
        ValueError: if the config's ``val_evaluator`` is not an ``IoUMetric``.
    """
    cfg = Config.fromfile(str(config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    evaluator = Evaluator(cfg.val_evaluator)
    metric = evaluator.metrics[0]
    if len(evaluator.metrics) != 1 or not isinstance(metric, IoUMetric):
        raise ValueError(
            f'{config}: val_evaluator must be one IoUMetric to score per '
            f'class, got {[type(m).__name__ for m in evaluator.metrics]}'
        )
    model = load_model(cfg, checkpoint, device)
    dataloader = Runner.build_dataloader(cfg.val_dataloader)
    classes = dataloader.dataset.metainfo['classes']
    evaluator.dataset_meta = dataloader.dataset.metainfo
    for batch in dataloader:
        evaluator.process(data_samples=model.val_step(batch), data_batch=batch)
    return scores_from_areas(metric.results, classes, metric.nan_to_num)


def format_scores_table(scores: Mapping[str, ClassScores]) -> str:
    """A Markdown table: one row per run, means then the IoU of each class (percent).

    Raises:
        ValueError: if the runs were scored on different classes.
    """
    class_lists = {run.classes for run in scores.values()}
    if len(class_lists) != 1:
        raise ValueError(
            f'the runs have different classes {sorted(class_lists)}; '
            'compare runs of the same dataset'
        )
    classes = class_lists.pop()
    header = ['model', 'mIoU', 'aAcc', 'mAcc'] + [f'IoU {name}' for name in classes]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for name, run in scores.items():
        summary = run.summary()
        cells = [name] + [f'{summary[key]:.2f}' for key in ('mIoU', 'aAcc', 'mAcc')]
        cells += ['-' if np.isnan(v) else f'{100 * v:.2f}' for v in run.iou]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def write_scores_json(scores: Mapping[str, ClassScores], path: Union[str, Path]) -> Path:
    """Save ``{run name: ClassScores.to_dict()}`` as JSON; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({name: run.to_dict() for name, run in scores.items()}, indent=2) + '\n'
    )
    return path
