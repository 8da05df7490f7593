"""AlexNet (Caffe's CaffeNet body) with its classifier turned into convolutions, the
backbone of the paper's FCN-AlexNet (fc6 as a 6x6 conv, fc7 as 1x1)."""

from typing import List, Optional, Sequence, Tuple

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.registry import MODELS
from torch import Tensor

from .fully_conv import FullyConvBackbone, check_layer_cfg, check_positive_int
from .levels import BackboneLevels, Window, check_pad_mode, register_levels

#: Caffe rounds its poolings up; the 'same' mode rounds down after padding by 1.
POOL_CEIL = {'same': False, 'caffe': True}
#: Output channels of conv1..conv5 in CaffeNet.
CONV_CHANNELS = (96, 256, 384, 384, 256)
#: Groups of conv1..conv5: CaffeNet splits conv2, conv4 and conv5 in two (its two GPUs).
CONV_GROUPS = (1, 2, 1, 2, 2)
#: Local response normalisation after pool1 and pool2 (CaffeNet's norm1, norm2):
#: ``x / (1 + alpha / size * sum of x^2 over size channels) ** beta``. Caffe's LRN divides
#: alpha by the window size, as ``nn.LocalResponseNorm`` does, so the values carry over.
LRN = dict(size=5, alpha=1e-4, beta=0.75, k=1.0)

#: ``FullyConvAlexNet``'s levels. Pad modes:
#:
#: - ``'caffe'``: the reference FCN-AlexNet: conv1 padded by 100, 3x3/2 poolings rounding
#:   up, fc6 unpadded. Level ``pool1`` lies on ``8 * j - 91``, fc7 on ``32 * j + 13``.
#: - ``'same'``: conv1 padded by 5 and pool1/pool2 by 1 (rounding down) keep every map on
#:   the corner grid (pixel ``j`` of a stride-``s`` map on ``s * j``) with
#:   ``ceil(H / s)`` pixels; pool5 is unpadded, so it lies half a stride off that grid
#:   (on ``32 * j + 16``, one pixel fewer), and fc6's even 6x6 kernel padded by 3 puts
#:   fc7 back on the corner grid with ``ceil(H / 32)`` pixels. Head: ``in_grids='corner'``.
LEVELS = register_levels(
    BackboneLevels(
        'FullyConvAlexNet',
        'AlexNet',
        windows=(
            Window('conv1', 11, 4, padding={'same': 5, 'caffe': 100}),
            Window('pool1', 3, 2, padding={'same': 1, 'caffe': 0}, ceil=POOL_CEIL),
            Window('conv2', 5, padding=2),
            Window('pool2', 3, 2, padding={'same': 1, 'caffe': 0}, ceil=POOL_CEIL),
            Window('conv3', 3, padding=1),
            Window('conv4', 3, padding=1),
            Window('conv5', 3, padding=1),
            Window('pool5', 3, 2, ceil=POOL_CEIL),
            Window('fc6', 6, padding={'same': 3, 'caffe': 0}),
            Window('fc7', 1),
        ),
        names=('pool1', 'pool2', 'pool5', 'fc7'),
        channels=(CONV_CHANNELS[0], CONV_CHANNELS[1], CONV_CHANNELS[4], 4096),
        caffe_size_rule=(
            'gives pool levels of ceil((n - 1) / 2) pixels for n pixels before the pool '
            'and fc7 5 pixels smaller than pool5'
        ),
    )
)
#: The convs of each stage: stage ``k`` ends at level ``k`` (``frozen_stages``).
STAGES = (('conv1',), ('conv2',), ('conv3', 'conv4', 'conv5'), ('fc6', 'fc7'))


@MODELS.register_module()
class FullyConvAlexNet(FullyConvBackbone):
    """AlexNet backbone of the Fully Convolutional Network (FCN-AlexNet).

    The CaffeNet body of `Fully Convolutional Networks for Semantic Segmentation
    <https://arxiv.org/abs/1411.4038>`_ (Table 1): conv1 (11x11 stride 4), ReLU, 3x3/2
    max pooling, LRN; conv2 (5x5, 2 groups), ReLU, pooling, LRN; conv3, conv4 (2
    groups), conv5 (2 groups), 3x3 each with ReLU; pool5; fc6 (6x6 conv) and fc7 (1x1
    conv), each followed by ReLU and dropout. LRN: size 5, alpha 1e-4, beta 0.75
    (``LRN``).

    Output levels, selected by ``out_indices``:

    ===== ============== ====== ===========================
    index level          stride channels (standard widths)
    ===== ============== ====== ===========================
    0     pool1 (+ LRN)  8      96
    1     pool2 (+ LRN)  16     256
    2     pool5          32     256
    3     fc7            32     fc_channels
    ===== ============== ====== ===========================

    Pad modes (the layers are built from the level description ``LEVELS``, which
    ``FCNSkipHead(backbone_type='FullyConvAlexNet')`` reads):

    - ``'caffe'``: the reference net: conv1 padded by 100, poolings rounding up, fc6
      unpadded, so that the released weights give the released outputs.
    - ``'same'``: a fast baseline: conv1 padded by 5, pool1/pool2 by 1, fc6 by 3, so
      that pool1, pool2 and fc7 have ``ceil(H / s) x ceil(W / s)`` pixels and lie on
      the corner grid (use ``in_grids='corner'`` in the head). conv1..conv5 run on
      maps of about ``H / s`` instead of ``(H + 189) / s`` pixels (fc6/fc7 on about
      as many as in ``'caffe'``). Inputs need at least 33 pixels per side
      (pool5, unpadded, is empty below).

    Args:
        pad_mode (str): ``'same'`` or ``'caffe'``. Default: ``'same'``.
        channels (Sequence[int]): Output channels of conv1..conv5; conv2, conv4 and
            conv5 are in 2 groups, so their widths and inputs must be even. Default:
            ``(96, 256, 384, 384, 256)`` (CaffeNet).
        fc_channels (int): Channels of fc6 and fc7. Default: 4096.
        out_indices (Sequence[int]): Levels to return, see the table. Default:
            ``(3,)`` (fc7: the input of FCN-32s, the paper's FCN-AlexNet).
        dropout_ratio (float): Dropout after fc6 and fc7. Default: 0.5.
        norm_cfg (dict, optional): Norm layer after conv1..conv5 (CaffeNet has none;
            e.g. ``dict(type='BN')`` for training from scratch). Default: None.
        act_cfg (dict): Activation config. Default: ``dict(type='ReLU')``.
        frozen_stages (int): Stages 0..frozen_stages are frozen (no gradient, norm in
            eval mode); stage ``k`` holds the convs up to level ``k`` (``STAGES``:
            conv1; conv2; conv3-conv5; fc6, fc7); -1 freezes nothing. Default: -1.
        norm_eval (bool): Keep norm layers in eval mode while training. Default: False.
        init_cfg (dict or list[dict], optional): Initialization config, e.g.
            ``dict(type='Pretrained', checkpoint='caffenet.pth')``. Default: None.

    Shapes:
        Input ``(N, 3, H, W)``; output a tuple with one ``(N, C_i, H_i, W_i)`` tensor
        per ``out_indices`` entry, in that order (``LEVELS.sizes(pad_mode, H)`` gives
        ``H_i``).
    """

    levels = LEVELS

    def __init__(
        self,
        pad_mode: str = 'same',
        channels: Sequence[int] = CONV_CHANNELS,
        fc_channels: int = 4096,
        out_indices: Sequence[int] = (3,),
        dropout_ratio: float = 0.5,
        norm_cfg: Optional[dict] = None,
        act_cfg: dict = dict(type='ReLU'),  # noqa: B006 (read, never changed)
        frozen_stages: int = -1,
        norm_eval: bool = False,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg)
        check_pad_mode(pad_mode)
        channels = _check_channels(channels)
        check_positive_int('fc_channels', fc_channels)
        check_layer_cfg('norm_cfg', norm_cfg)
        check_layer_cfg('act_cfg', act_cfg)
        out_indices = tuple(out_indices)
        if not out_indices or any(i not in range(len(LEVELS.names)) for i in out_indices):
            raise ValueError(
                f'out_indices={out_indices!r} must be a non-empty sequence '
                f'of level indices in 0..3 {LEVELS.names}'
            )
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f'dropout_ratio={dropout_ratio!r} must be in [0, 1)')
        if frozen_stages not in range(-1, len(STAGES)):
            raise ValueError(
                f'frozen_stages={frozen_stages!r} must be in -1..{len(STAGES) - 1} '
                '(-1: nothing frozen, 3: every conv and fc6/fc7)'
            )
        self.pad_mode = pad_mode
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.fc6_padding = LEVELS.window('fc6').pad(pad_mode)

        in_channels = 3
        for index, (width, groups) in enumerate(zip(channels, CONV_GROUPS), 1):
            window = LEVELS.window(f'conv{index}')
            conv = ConvModule(
                in_channels,
                width,
                window.kernel,
                stride=window.stride,
                padding=window.pad(pad_mode),
                groups=groups,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
            )
            self.add_module(f'conv{index}', conv)
            in_channels = width
        for name in ('pool1', 'pool2', 'pool5'):
            window = LEVELS.window(name)
            pool = nn.MaxPool2d(
                window.kernel,
                window.stride,
                padding=window.pad(pad_mode),
                ceil_mode=window.rounds_up(pad_mode),
            )
            self.add_module(name, pool)
        self.lrn = nn.LocalResponseNorm(**LRN)
        # fc6 is padded in forward (FullyConvBackbone.fully_connected).
        self.fc6 = ConvModule(
            in_channels, fc_channels, LEVELS.window('fc6').kernel, act_cfg=act_cfg
        )
        self.fc7 = ConvModule(fc_channels, fc_channels, 1, act_cfg=act_cfg)
        self.dropout = nn.Dropout(dropout_ratio)
        self.level_channels = (channels[0], channels[1], channels[4], fc_channels)
        self._freeze_stages()

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        levels: List[Tensor] = []
        x = self.lrn(self.pool1(self.conv1(x)))
        levels.append(x)
        x = self.lrn(self.pool2(self.conv2(x)))
        levels.append(x)
        x = self.pool5(self.conv5(self.conv4(self.conv3(x))))
        levels.append(x)
        if 3 in self.out_indices:
            levels.append(self.fully_connected(x))
        return self.select(levels)

    def frozen_modules(self) -> List[nn.Module]:
        """The modules of stages 0..frozen_stages (``STAGES``)."""
        return [getattr(self, name) for stage in STAGES[: self.frozen_stages + 1] for name in stage]


def _check_channels(channels: Sequence[int]) -> Tuple[int, ...]:
    channels = tuple(channels)
    # conv2, conv4 and conv5 are in 2 groups: their outputs and inputs (the outputs of
    # conv1, conv3 and conv4) split in halves, so every width must be even.
    if len(channels) != len(CONV_CHANNELS) or not all(
        isinstance(c, int) and c > 0 and c % 2 == 0 for c in channels
    ):
        raise ValueError(
            f'channels={channels!r} must be 5 even positive widths of conv1..conv5 '
            '(conv2, conv4 and conv5 are in 2 groups, which halve their inputs and '
            f'outputs); CaffeNet: {CONV_CHANNELS}'
        )
    return channels
