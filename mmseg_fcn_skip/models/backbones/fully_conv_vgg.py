"""VGG with its classifier turned into convolutions (fc6 as 7x7, fc7 as 1x1)."""

from typing import Dict, List, Optional, Sequence, Tuple

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmseg.registry import MODELS
from torch import Tensor

from .fully_conv import FullyConvBackbone, check_layer_cfg, check_positive_int
from .levels import BackboneLevels, Window, check_pad_mode, register_levels

#: Convolutions per block for each depth; every block ends in 2x2/2 max pooling.
VGG_BLOCKS: Dict[int, Tuple[int, ...]] = {
    11: (1, 1, 2, 2, 2),
    13: (2, 2, 2, 2, 2),
    16: (2, 2, 3, 3, 3),
    19: (2, 2, 4, 4, 4),
}
#: Width of each block relative to ``base_channels``.
BLOCK_WIDTHS = (1, 2, 4, 8, 8)

#: ``FullyConvVGG``'s levels: the 3x3 convs after conv1_1 are padded by 1 and keep size
#: and grid, so the levels do not depend on the depth.
LEVELS = register_levels(
    BackboneLevels(
        'FullyConvVGG',
        'VGG',
        windows=(
            Window('conv1_1', 3, padding={'same': 1, 'caffe': 100}),
            *(Window(f'pool{k}', 2, 2, ceil=True) for k in range(1, 6)),
            Window('fc6', 7, padding={'same': 3, 'caffe': 0}),
            Window('fc7', 1),
        ),
        names=('pool1', 'pool2', 'pool3', 'pool4', 'pool5', 'fc7'),
        channels=tuple(64 * width for width in BLOCK_WIDTHS) + (4096,),
        caffe_size_rule=(
            'gives pool levels that halve (rounding up) down to pool5 and fc7 6 '
            'pixels smaller than pool5'
        ),
    )
)


@MODELS.register_module()
class FullyConvVGG(FullyConvBackbone):
    """VGG backbone of the Fully Convolutional Network (FCN).

    Implements the "convolutionalized" VGG of `Fully Convolutional Networks for Semantic
    Segmentation <https://arxiv.org/abs/1411.4038>`_: five blocks of 3x3 convolutions,
    each followed by 2x2/2 max pooling that rounds up, then fc6 (7x7 conv) and fc7
    (1x1 conv), each followed by ReLU and dropout.

    Output levels, selected by ``out_indices``:

    ===== ======= ====== =============================
    index level   stride channels (base_channels=64)
    ===== ======= ====== =============================
    0     pool1   2      64
    1     pool2   4      128
    2     pool3   8      256
    3     pool4   16     512
    4     pool5   32     512
    5     fc7     32     fc_channels
    ===== ======= ====== =============================

    Pad modes:

    - ``'same'``: every 3x3 conv is padded by 1 and fc6 by 3, so the level of stride
      ``s`` has size ``ceil(H / s) x ceil(W / s)``.
    - ``'caffe'``: the reference net: conv1_1 padded by 100 and fc6 unpadded, so that
      the reference weights give the reference outputs; about 1.7x the arithmetic.

    The levels as data (names, strides, channels, grids and sizes per pad mode) are
    ``FullyConvVGG.levels`` (``LEVELS``), which ``FCNSkipHead`` reads.

    Args:
        depth (int): VGG depth, one of 11, 13, 16, 19. Default: 16.
        in_channels (int): Channels of the input: 3 for colour, 4 for colour and
            log depth, 6 for colour and HHA (``LoadMultiModalImage``). A checkpoint
            whose conv1_1 takes 3 channels loads into any ``in_channels > 3``: the
            extra channels' filters start as the mean of the 3 colour filters (as
            the reference's ``nyud-fcn32s-color-d``), logged in one line. Default: 3.
        pad_mode (str): ``'same'`` or ``'caffe'``. Default: ``'same'``.
        base_channels (int): Width of the first block; later blocks are 2, 4, 8, 8
            times as wide. 64 is VGG; smaller values give light models. Default: 64.
        fc_channels (int): Channels of fc6 and fc7. Default: 4096.
        out_indices (Sequence[int]): Levels to return, see the table. Default:
            ``(2, 3, 5)`` (pool3, pool4, fc7: the inputs of FCN-8s).
        dropout_ratio (float): Dropout after fc6 and fc7. Default: 0.5.
        norm_cfg (dict, optional): Norm layer after each 3x3 conv (e.g.
            ``dict(type='BN')`` for the VGG-BN weights). Default: None.
        act_cfg (dict): Activation config. Default: ``dict(type='ReLU')``.
        frozen_stages (int): Blocks 0..frozen_stages are frozen (no gradient, norm in
            eval mode); 5 also freezes fc6/fc7; -1 freezes nothing. Default: -1.
        norm_eval (bool): Keep norm layers in eval mode while training. Default: False.
        init_cfg (dict or list[dict], optional): Initialization config, e.g.
            ``dict(type='Pretrained', checkpoint='vgg16_fcn.pth')``. Default: None.

    Shapes:
        Input ``(N, in_channels, H, W)`` (another channel count is a ``ValueError``
        naming both counts); output a tuple with one ``(N, C_i, H_i, W_i)`` tensor
        per ``out_indices`` entry, in that order.
    """

    levels = LEVELS
    first_conv_key = 'blocks.0.0.conv.weight'

    def __init__(
        self,
        depth: int = 16,
        in_channels: int = 3,
        pad_mode: str = 'same',
        base_channels: int = 64,
        fc_channels: int = 4096,
        out_indices: Sequence[int] = (2, 3, 5),
        dropout_ratio: float = 0.5,
        norm_cfg: Optional[dict] = None,
        act_cfg: dict = dict(type='ReLU'),  # noqa: B006 (read, never changed)
        frozen_stages: int = -1,
        norm_eval: bool = False,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg)
        if depth not in VGG_BLOCKS:
            raise ValueError(f'depth={depth!r} is not supported; use one of {tuple(VGG_BLOCKS)}')
        check_pad_mode(pad_mode)
        check_positive_int('in_channels', in_channels)
        check_positive_int('base_channels', base_channels)
        check_positive_int('fc_channels', fc_channels)
        check_layer_cfg('norm_cfg', norm_cfg)
        check_layer_cfg('act_cfg', act_cfg)
        out_indices = tuple(out_indices)
        if not out_indices or any(i not in range(len(LEVELS.names)) for i in out_indices):
            raise ValueError(
                f'out_indices={out_indices!r} must be a non-empty sequence '
                f'of level indices in 0..5 {LEVELS.names}'
            )
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f'dropout_ratio={dropout_ratio!r} must be in [0, 1)')
        if frozen_stages not in range(-1, 6):
            raise ValueError(
                f'frozen_stages={frozen_stages!r} must be in -1..5 '
                '(-1: nothing frozen, 5: every block and fc6/fc7)'
            )
        self.depth = depth
        self.pad_mode = pad_mode
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.fc6_padding = LEVELS.window('fc6').pad(pad_mode)
        self.in_channels = in_channels

        blocks = []
        for block_index, (num_convs, width) in enumerate(zip(VGG_BLOCKS[depth], BLOCK_WIDTHS)):
            out_channels = base_channels * width
            convs = []
            for conv_index in range(num_convs):
                padding = (
                    LEVELS.window('conv1_1').pad(pad_mode) if block_index == conv_index == 0 else 1
                )
                convs.append(
                    ConvModule(
                        in_channels,
                        out_channels,
                        3,
                        padding=padding,
                        norm_cfg=norm_cfg,
                        act_cfg=act_cfg,
                    )
                )
                in_channels = out_channels
            blocks.append(nn.Sequential(*convs))
        self.blocks = nn.ModuleList(blocks)
        self.pool = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        # fc6 is padded in forward (FullyConvBackbone.fully_connected).
        self.fc6 = ConvModule(
            in_channels, fc_channels, LEVELS.window('fc6').kernel, act_cfg=act_cfg
        )
        self.fc7 = ConvModule(fc_channels, fc_channels, 1, act_cfg=act_cfg)
        self.dropout = nn.Dropout(dropout_ratio)
        block_channels = [base_channels * w for w in BLOCK_WIDTHS]
        self.level_channels = tuple(block_channels + [fc_channels])
        self._freeze_stages()

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        self.check_input(x)
        levels: List[Tensor] = []
        for block in self.blocks:
            x = self.pool(block(x))
            levels.append(x)
        if 5 in self.out_indices:
            levels.append(self.fully_connected(x))
        return self.select(levels)

    def frozen_modules(self) -> List[nn.Module]:
        """Blocks 0..frozen_stages, and fc6/fc7 at 5."""
        frozen = list(self.blocks[: self.frozen_stages + 1])
        if self.frozen_stages == 5:
            frozen += [self.fc6, self.fc7]
        return frozen
