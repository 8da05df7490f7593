"""What the fully convolutional backbones share: the levels they return, the fc6/fc7
tail, freezing and norm evaluation, and the checks of their common arguments."""

from typing import List, Optional, Tuple

import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from .levels import BackboneLevels


class FullyConvBackbone(BaseModule):
    """Base of ``FullyConvVGG`` and ``FullyConvAlexNet``.

    A subclass sets ``levels`` (its ``BackboneLevels``), ``level_channels``,
    ``out_indices``, ``frozen_stages``, ``norm_eval``, ``fc6_padding``, ``fc6``,
    ``fc7`` and ``dropout``, and lists in ``frozen_modules()`` the modules that
    ``frozen_stages`` freezes.
    """

    levels: BackboneLevels

    @property
    def out_channels(self) -> Tuple[int, ...]:
        """Channels of each returned level, in ``out_indices`` order."""
        return tuple(self.level_channels[i] for i in self.out_indices)

    @property
    def out_strides(self) -> Tuple[int, ...]:
        """Stride of each returned level, in ``out_indices`` order."""
        return tuple(self.levels.strides[i] for i in self.out_indices)

    def fully_connected(self, x: Tensor) -> Tensor:
        """fc6 (padded explicitly: an unpadded conv after ``F.pad`` has a much faster
        backward pass on CPU than a padded large kernel on small maps) and fc7, each
        followed by its activation and dropout."""
        x = F.pad(x, [self.fc6_padding] * 4)
        x = self.dropout(self.fc6(x))
        return self.dropout(self.fc7(x))

    def select(self, levels: List[Tensor]) -> Tuple[Tensor, ...]:
        """The levels chosen by ``out_indices``, in that order."""
        return tuple(levels[i] for i in self.out_indices)

    def _freeze_stages(self) -> None:
        for module in self.frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'FullyConvBackbone':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self


def check_positive_int(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f'{name}={value!r} must be a positive integer')


def check_layer_cfg(name: str, cfg: Optional[dict]) -> None:
    layer_type = None if cfg is None else cfg.get('type')
    if cfg is not None and isinstance(layer_type, str) and MODELS.get(layer_type) is None:
        raise ValueError(
            f'{name}={cfg!r}: no layer type {layer_type!r} is registered; '
            "use e.g. 'BN', 'SyncBN' or 'GN' for norm_cfg, 'ReLU' for act_cfg"
        )
