"""Channels-last (NHWC) memory format for training and inference.

Convolutions on recent GPUs run fastest, in bfloat16 above all, when both the
activations and the weights are stored channels last. Two small pieces make a
config run that way:

- :class:`ChannelsLastSegDataPreProcessor` hands the batch to the model in
  channels-last format; each convolution keeps the format of its input, so the
  whole network follows.
- :class:`ChannelsLastHook` converts the model's parameters and buffers once,
  before training, validation or testing starts, so that convolutions do not
  convert their weights on every call.

Use both, as ``configs/fcn_skip/fcn8s_vgg16_4xb4-bf16-40k_voc12aug-512x512.py`` does
(``import mmseg_fcn_skip`` imports this module)::

    model = dict(data_preprocessor=dict(type='ChannelsLastSegDataPreProcessor'))
    custom_hooks = [dict(type='ChannelsLastHook')]
"""

from typing import Optional

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import HOOKS, MODELS


def to_channels_last(model: nn.Module) -> nn.Module:
    """Store every 4-D parameter and buffer of ``model`` channels last, in place.

    Parameters keep their identity, so an optimizer built before the
    conversion still updates them. Tensors of other ranks are left as they are.

    Returns:
        The same ``model``.
    """
    return model.to(memory_format=torch.channels_last)


def is_channels_last(tensor: torch.Tensor) -> bool:
    """Whether a 4-D tensor is stored channels last (NHWC)."""
    return tensor.dim() == 4 and tensor.is_contiguous(memory_format=torch.channels_last)


@MODELS.register_module()
class ChannelsLastSegDataPreProcessor(SegDataPreProcessor):
    """:class:`SegDataPreProcessor` whose batched inputs are channels last.

    Normalisation, padding and batch augmentation are unchanged, only the
    memory format of ``inputs`` differs (the values are identical).

    Args:
        non_blocking (bool): Copy each batch to the GPU asynchronously, which
            overlaps the copy with queued GPU work when the data loader has
            ``pin_memory=True``. Default: False (``SegDataPreProcessor`` does
            not expose mmengine's option).
        **kwargs: The arguments of ``SegDataPreProcessor``.
    """

    def __init__(self, non_blocking: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self._non_blocking = non_blocking

    def forward(self, data: dict, training: bool = False) -> dict:
        """Pre-process the batch as the parent does, then go channels last."""
        data = super().forward(data, training)
        data['inputs'] = data['inputs'].contiguous(memory_format=torch.channels_last)
        return data


@HOOKS.register_module()
class ChannelsLastHook(Hook):
    """Convert the runner's model to channels last before it runs.

    The conversion happens in ``before_run``, ahead of weight initialisation,
    checkpoint loading and ``torch.compile`` (``cfg.compile``); loading and
    initialising write into the existing tensors and keep their format.
    Under distributed training the runner has wrapped the model already:
    DistributedDataParallel laid out its gradient buckets for the old strides
    and copies each gradient into them (results are unchanged) until it
    rebuilds the buckets, once, early in training.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        """Convert ``runner.model`` (and the module it may wrap) in place."""
        model: Optional[nn.Module] = getattr(runner, 'model', None)
        if model is None:
            raise RuntimeError('ChannelsLastHook needs runner.model to be built')
        to_channels_last(model)
