"""Segmentation scores computed by hand from a model's predictions, to check the
evaluators against."""

from typing import Callable, Dict, Iterable, Optional

import numpy as np
import torch


def confusion_matrix(
    model,
    dataloader: Iterable,
    num_classes: int,
    ignore_index: int = 255,
    truth_of: Optional[Callable] = None,
) -> np.ndarray:
    """``(C, C)`` pixel counts, row: label, column: prediction, over a data loader.

    Each batch goes through ``model.val_step``; pixels labelled ``ignore_index`` are
    left out. ``truth_of(output)`` gives an output's label map; default: the
    ``gt_sem_seg`` the loader attached.
    """
    counts = np.zeros((num_classes, num_classes), np.int64)
    model.eval()
    for batch in dataloader:
        with torch.no_grad():
            outputs = model.val_step(batch)
        for output in outputs:
            prediction = output.pred_sem_seg.data[0].numpy().ravel()
            truth = (
                (output.gt_sem_seg.data[0].numpy() if truth_of is None else truth_of(output))
                .ravel()
                .astype(np.int64)
            )
            valid = truth != ignore_index
            counts += np.bincount(
                num_classes * truth[valid] + prediction[valid], minlength=num_classes**2
            ).reshape(num_classes, -1)
    return counts


def scores(counts: np.ndarray) -> Dict[str, float]:
    """Pixel accuracy, mean accuracy, mean IU and frequency weighted IU in percent
    (section 5 of the FCN paper), rounded to 2 decimals; classes absent from labels and
    predictions are left out of the means, absent labels out of the mean accuracy."""
    counts = counts.astype(np.float64)
    hits, labelled, predicted = np.diag(counts), counts.sum(1), counts.sum(0)
    with np.errstate(invalid='ignore', divide='ignore'):
        accuracy = hits / labelled
        iu = hits / (labelled + predicted - hits)
    present = labelled > 0
    return dict(
        aAcc=round(100 * hits.sum() / labelled.sum(), 2),
        mAcc=round(100 * np.nanmean(accuracy), 2),
        mIoU=round(100 * np.nanmean(iu), 2),
        fwIoU=round(100 * (labelled[present] * iu[present]).sum() / labelled.sum(), 2),
    )
