"""The four segmentation scores of the FCN paper, as an mmseg metric."""

from collections import OrderedDict
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.logging import MMLogger, print_log
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS
from prettytable import PrettyTable
from torch import Tensor

#: Reported names (mmseg's, so ``save_best='mIoU'`` works) and the paper's names.
SCORE_NAMES = OrderedDict(
    [
        ('aAcc', 'pixel accuracy'),
        ('mAcc', 'mean accuracy'),
        ('mIoU', 'mean IU'),
        ('fwIoU', 'frequency weighted IU'),
    ]
)


@METRICS.register_module()
class FCNMetric(IoUMetric):
    """Pixel accuracy, mean accuracy, mean IU and frequency weighted IU.

    The scores of `Fully Convolutional Networks for Semantic Segmentation
    <https://arxiv.org/abs/1411.4038>`_ (section 5). With ``n_ij`` the number of
    pixels of class ``i`` predicted as class ``j`` and ``t_i = sum_j n_ij`` the
    pixels of class ``i``, summed over the whole dataset:

    - pixel accuracy ``sum_i n_ii / sum_i t_i``
    - mean accuracy ``mean_i n_ii / t_i``
    - mean IU ``mean_i n_ii / (t_i + sum_j n_ji - n_ii)``
    - frequency weighted IU ``sum_i t_i n_ii / (t_i + sum_j n_ji - n_ii) / sum_k t_k``

    As in the paper's evaluation code, a class absent from the ground truth is left
    out of the mean accuracy; it counts in the mean IU with IU 0 if it is predicted
    anywhere, and is left out if it is not; it has no weight in the frequency
    weighted IU. Pixels labelled ``ignore_index`` count nowhere.

    ``exclude_classes`` leaves named classes out of the mean accuracy, mean IU and
    frequency weighted IU whatever is predicted, as the FCN paper does for SIFT Flow's
    cow, desert and moon (absent from its test set); pixel accuracy still counts every
    pixel, and the table lists every class.

    Scores are reported in percent, rounded to 2 decimals like mmseg's
    ``IoUMetric``, under mmseg's names: ``aAcc``, ``mAcc``, ``mIoU`` and ``fwIoU``.
    The per-class IU and accuracy are logged as a table.

    Args:
        ignore_index (int): Label of pixels left out. Default: 255.
        collect_device (str): ``'cpu'`` or ``'gpu'``, for collecting results across
            processes. Default: ``'cpu'``.
        output_dir (str, optional): Directory to write predicted label maps to.
            Default: None.
        format_only (bool): Only write predictions, compute nothing (for test sets
            without labels). Default: False.
        prefix (str, optional): Prefix of the score names. Default: None.
        exclude_classes (Sequence[str]): Names of classes left out of the means (see
            above); each must be one of the dataset's classes. Default: ().
    """

    def __init__(
        self,
        ignore_index: int = 255,
        collect_device: str = 'cpu',
        output_dir: Optional[str] = None,
        format_only: bool = False,
        prefix: Optional[str] = None,
        exclude_classes: Sequence[str] = (),
    ) -> None:
        if isinstance(exclude_classes, str):
            exclude_classes = (exclude_classes,)
        self.exclude_classes = tuple(exclude_classes)
        super().__init__(
            ignore_index=ignore_index,
            iou_metrics=['mIoU'],
            collect_device=collect_device,
            output_dir=output_dir,
            format_only=format_only,
            prefix=prefix,
        )

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Scores from the per-image ``(intersect, union, pred, label)`` areas.

        Args:
            results (list): One tuple of four ``(num_classes,)`` tensors per image, as
                written by ``IoUMetric.process``.

        Returns:
            dict[str, float]: ``aAcc``, ``mAcc``, ``mIoU``, ``fwIoU`` in percent.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        if self.format_only:
            logger.info(f'results are saved to {self.output_dir}')
            return OrderedDict()
        intersect, union, _, label = (sum(areas) for areas in zip(*results))
        classes = list(self.dataset_meta['classes'])
        keep = self._kept_classes(classes)
        scores = fcn_scores(intersect, union, label, keep)
        if self.exclude_classes:
            print_log(f'left out of the means: {", ".join(self.exclude_classes)}', logger=logger)
        table = PrettyTable()
        table.add_column('Class', classes)
        for name, values in (
            ('IoU', _class_iu(intersect, union)),
            ('Acc', _class_accuracy(intersect, label)),
        ):
            table.add_column(name, np.round(values.numpy() * 100, 2).tolist())
        print_log('per class results:', logger)
        print_log('\n' + table.get_string(), logger=logger)
        return OrderedDict(
            (name, float(np.round(value * 100, 2))) for name, value in scores.items()
        )

    def _kept_classes(self, classes: Sequence[str]) -> Tensor:
        """``(num_classes,)`` bool: the classes that count in the means.

        Raises:
            ValueError: naming the ``exclude_classes`` the dataset does not have.
        """
        unknown = [name for name in self.exclude_classes if name not in classes]
        if unknown:
            raise ValueError(
                f'exclude_classes {unknown} are not classes of the dataset '
                f'({", ".join(classes)}); fix their spelling or drop them'
            )
        return torch.tensor([name not in self.exclude_classes for name in classes])


def fcn_scores(
    intersect: Tensor, union: Tensor, label: Tensor, keep: Optional[Tensor] = None
) -> Dict[str, float]:
    """The four FCN scores, as fractions, from per-class pixel counts.

    Args:
        intersect (Tensor): ``(num_classes,)`` pixels of each class predicted as it,
            ``n_ii``.
        union (Tensor): ``(num_classes,)`` pixels labelled or predicted as each class,
            ``t_i + sum_j n_ji - n_ii``.
        label (Tensor): ``(num_classes,)`` pixels labelled as each class, ``t_i``.
        keep (Tensor, optional): ``(num_classes,)`` bool, the classes that count in
            the mean accuracy, mean IU and f.w. IU; default: all. Pixel accuracy
            counts every pixel.

    Returns:
        dict[str, float]: ``aAcc``, ``mAcc``, ``mIoU``, ``fwIoU`` (see
        ``SCORE_NAMES``); NaN for a score with nothing to average.
    """
    intersect, union, label = (t.double() for t in (intersect, union, label))
    pixel_accuracy = (intersect.sum() / label.sum()).item()
    if keep is not None:
        intersect, union, label = (t[keep] for t in (intersect, union, label))
    iu = _class_iu(intersect, union)
    present = label > 0
    total = label.sum()
    return OrderedDict(
        [
            ('aAcc', pixel_accuracy),
            ('mAcc', _class_accuracy(intersect, label).nanmean().item()),
            ('mIoU', iu.nanmean().item()),
            ('fwIoU', ((label[present] * iu[present]).sum() / total).item()),
        ]
    )


def _class_iu(intersect: Tensor, union: Tensor) -> Tensor:
    return intersect.double() / union.double()


def _class_accuracy(intersect: Tensor, label: Tensor) -> Tensor:
    return intersect.double() / label.double()
