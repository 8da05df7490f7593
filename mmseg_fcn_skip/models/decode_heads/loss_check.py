"""Whether a head's losses fit its class count: one class weight per class.

mmseg's ``CrossEntropyLoss`` keeps ``class_weight`` as given and hands it to
``F.cross_entropy`` at the first training step, which then fails with "weight tensor
should be defined either for all or no classes", naming neither the config key nor
the counts. :func:`check_class_weights` finds it when the head is built.
"""

from typing import Iterable, Union

import torch.nn as nn
from mmseg.models.losses import CrossEntropyLoss


def check_class_weights(losses: Union[nn.Module, Iterable[nn.Module]], num_classes: int) -> None:
    """Check that each softmax cross-entropy loss weights every class once.

    Args:
        losses (nn.Module or iterable of nn.Module): The head's ``loss_decode``, one
            loss or an ``nn.ModuleList`` of them.
        num_classes (int): The head's class count (its score channels).

    Raises:
        ValueError: naming ``loss_decode.class_weight``, its length and
            ``num_classes``, if they differ.
    """
    if isinstance(losses, nn.Module) and not isinstance(losses, nn.ModuleList):
        losses = [losses]
    for loss in losses:
        weight = getattr(loss, 'class_weight', None)
        # Sigmoid and mask modes score one map per class in other layouts; only the
        # softmax mode's weight is per class of the head.
        if (
            weight is None
            or not isinstance(loss, CrossEntropyLoss)
            or loss.use_sigmoid
            or loss.use_mask
        ):
            continue
        if len(weight) != num_classes:
            raise ValueError(
                f'loss_decode.class_weight has {len(weight)} values but '
                f'num_classes={num_classes}: give one weight per class, in the order '
                "of the dataset's classes (or class_weight=None for equal weights)"
            )
