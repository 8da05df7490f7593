"""What the fully convolutional backbones share: the levels they return, the fc6/fc7
tail, freezing and norm evaluation, the input channel count (with the widening of a
3-channel first convolution when a checkpoint is loaded), and the checks of their
common arguments."""

from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from ..utils import is_tracing
from .levels import BackboneLevels


class FullyConvBackbone(BaseModule):
    """Base of ``FullyConvVGG`` and ``FullyConvAlexNet``.

    A subclass sets ``levels`` (its ``BackboneLevels``), ``level_channels``,
    ``out_indices``, ``frozen_stages``, ``norm_eval``, ``fc6_padding``, ``fc6``,
    ``fc7`` and ``dropout``, and lists in ``frozen_modules()`` the modules that
    ``frozen_stages`` freezes.
    """

    levels: BackboneLevels
    #: Channels of the input image (3 for colour; more for colour plus depth or HHA).
    in_channels: int = 3
    #: Key of the first convolution's weight, relative to the backbone; None: the
    #: backbone takes 3 channels only.
    first_conv_key: Optional[str] = None

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

    def check_input(self, x: Tensor) -> None:
        """Raise unless ``x`` ``(N, C, H, W)`` has ``C == in_channels``.

        Left out while the model is traced (``is_tracing``), as the other shape checks.

        Raises:
            ValueError: naming both counts and the pipeline step that makes them.
        """
        if is_tracing():
            return
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            got = x.shape[1] if x.dim() == 4 else f'a {x.dim()}-D tensor'
            raise ValueError(
                f'{type(self).__name__} was built for {self.in_channels} input channels '
                f'but got {got} (input shape {tuple(x.shape)}). The channels are made by '
                "the loading pipeline: LoadMultiModalImage(modalities=('hha',)) makes 6 "
                "(colour + HHA), modalities=('depth',) 4 (colour + log depth), "
                'LoadImageFromFile 3. Load the modalities the model was built for, or set '
                "model.backbone.in_channels (and the data preprocessor's mean and std) to "
                'the count the pipeline makes.'
            )

    def _load_from_state_dict(
        self,
        state_dict: dict,
        prefix: str,
        local_metadata: dict,
        strict: bool,
        missing_keys: List[str],
        unexpected_keys: List[str],
        error_msgs: List[str],
    ) -> None:
        """Widen a 3-channel first convolution to ``in_channels`` before it is loaded.

        Applies to every way a checkpoint is loaded (``init_cfg`` ``Pretrained``,
        ``load_from``, ``load_state_dict``): ``state_dict`` is changed in place, so
        the first convolution's own loading (after this one) finds the widened weight.
        """
        key = prefix + self.first_conv_key if self.first_conv_key else None
        if key is not None and key in state_dict:
            weight = state_dict[key]
            widened = widen_first_conv(weight, self.in_channels, key)
            if widened is not weight:
                state_dict[key] = widened
                print_log(
                    f"{type(self).__name__}: the checkpoint's first convolution {key} "
                    f'takes 3 channels, the model {self.in_channels}: the '
                    f'{self.in_channels - 3} extra input channel(s) start as the mean of '
                    'its 3 colour filters',
                    logger='current',
                )
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

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


def widen_first_conv(weight: Tensor, in_channels: int, name: str = 'conv1_1') -> Tensor:
    """The first convolution's weight for ``in_channels`` input channels.

    A weight for 3 channels (colour, from ImageNet VGG16 or a converted FCN) gets
    ``in_channels - 3`` more input channels whose filters are the mean of its three
    colour filters, as the reference's ``nyud-fcn32s-color-d`` (``conv1_1_bgrd``)
    starts its depth channel. A weight that already has ``in_channels`` is returned
    as it is (the same object).

    Args:
        weight: ``(C_out, C_in, k, k)``.
        in_channels: The model's input channels.
        name: The weight's name in the checkpoint, for the error.

    Returns:
        Tensor: ``(C_out, in_channels, k, k)``.

    Raises:
        ValueError: for any other ``C_in``, naming both counts.
    """
    found = weight.shape[1] if weight.dim() == 4 else None
    if found == in_channels:
        return weight
    if found != 3 or in_channels < 3:
        raise ValueError(
            f'checkpoint weight {name} {tuple(weight.shape)} takes {found} input channels '
            f'but the model takes {in_channels}: only a 3-channel (colour) first convolution '
            'is widened to more channels. Use a checkpoint of a model with '
            f'{in_channels} input channels, or a colour one.'
        )
    mean = weight.mean(dim=1, keepdim=True)
    extra = mean.expand(-1, in_channels - 3, -1, -1)
    return torch.cat([weight, extra], dim=1).contiguous()


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
