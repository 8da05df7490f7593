"""The FCN decode head: score maps of several levels fused coarse to fine."""

from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import accuracy
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from ..geometry import LEVEL_STRIDES, PAD_MODES, Grid, crop_offsets, in_level_grids, level_grids
from ..utils import Upsample, is_tracing, upsample_alignment
from .level_check import input_size_candidates, level_mismatch
from .level_names import default_strides, level_name, positional_renames
from .loss_check import check_class_weights

SCORE_INITS = ('zeros', 'normal')


@MODELS.register_module()
class FCNSkipHead(BaseDecodeHead):
    """Skip-connection head of `Fully Convolutional Networks for Semantic Segmentation
    <https://arxiv.org/abs/1411.4038>`_.

    Each input level is scored by a 1x1 conv. Starting from the deepest, the score map
    is upsampled to the next level's stride, cropped into alignment with that level's
    score and added to it; the last sum is upsampled to the input resolution. One input
    is FCN-32s, two FCN-16s (+pool4), three FCN-8s (+pool3), four FCN-4s (+pool2).

    The upsampling kernels and the crops follow from where each level lies on the input
    (``in_grids``, see ``geometry``), so the returned logits are aligned with the input
    pixels: ``logits[..., i, j]`` scores input pixel ``(i, j)``, on ``FullyConvVGG``
    (both pad modes) and on mmseg's backbones given their grid (docs/backbones.md).
    The logits may extend past the bottom and right of the input; loss and prediction
    crop them to the image size.

    The level sizes are checked against ``in_strides`` and ``pad_mode`` (see
    ``level_check``): relative to each other in every forward, and to the network
    input in ``loss`` and ``predict``. Levels of another pad mode, of a dilated
    backbone or of other strides raise a ``ValueError`` that names the fix. The check
    runs in eager mode, once per combination of sizes; under ``torch.jit.trace``,
    ``torch.onnx.export``, ``torch.compile`` and ``torch.export`` it is skipped and
    every size, including the crop to the image size in ``predict``, stays symbolic.

    Args:
        in_channels (Sequence[int]): Channels of each input level, finest first and
            deepest last, e.g. ``(256, 512, 4096)`` for pool3, pool4, fc7.
        in_index (Sequence[int]): Backbone outputs to use, in the same order.
        in_strides (Sequence[int], optional): Stride of each input level. Each must be
            a whole multiple (at least 2x) of the previous one. Default: deepest at 32,
            each finer level at half the stride of the next.
        pad_mode (str): The sizes of the levels. ``'same'``: about ``H / s`` at stride
            ``s`` (``FullyConvVGG(pad_mode='same')`` and mmseg's backbones), lying
            where ``in_grids`` says. ``'caffe'``: the levels of
            ``FullyConvVGG(pad_mode='caffe')``, the deepest being fc7, on that net's
            grids. Default: ``'same'``.
        in_grids (str or Sequence, optional): Where each level lies on the input, for
            ``pad_mode='same'``: ``'centre'`` (pixel ``j`` of a stride ``s`` level on
            input pixel ``s * j + (s - 1) / 2``: ``FullyConvVGG``, Swin), ``'corner'``
            (on ``s * j``: mmseg's ResNet, ResNetV1c, MobileNetV2, MiT, which
            downsample with centred odd kernels), or one entry per level, finest
            first: a name or the offset of pixel 0 in input pixels (int, ``Fraction``,
            ``'3/2'`` or a float). ``tools/probe_grids.py`` measures them for any
            backbone; docs/backbones.md lists mmseg's. Default: None (``'centre'``;
            the ``'caffe'`` grids with ``pad_mode='caffe'``). The upsampling follows:
            see ``upsample``.
        skip_scales (Sequence[float], optional): Fixed factor applied to each skip level
            (all inputs but the deepest, in input order) before scoring it; FCN-8s
            at-once uses ``(0.0001, 0.01)`` for pool3, pool4. Default: None (no scaling).
        upsample (str): ``'deconv'`` (bilinear-initialised transposed convolution, as in
            the reference) or ``'bilinear'`` (interpolation). Default: ``'deconv'``.
            Each upsampling suits the grids of its two levels (``Upsample``): on
            centre-aligned grids (and the ``'caffe'`` ones) a ``2f`` kernel or
            ``align_corners=False``, on corner-aligned grids a ``2f - 1`` kernel or
            ``align_corners=True``; both modes support both. Levels whose offsets are
            a fraction of a pixel apart either way raise a ``ValueError``.
        learn_upsample (bool): Learn the deconv weights instead of keeping them fixed.
            Default: False.
        score_init (str): ``'zeros'`` (reference) or ``'normal'`` (std 0.01, mmseg's
            usual) for the 1x1 score convs; used when ``init_cfg`` is None.
            Default: ``'zeros'``.
        dropout_ratio (float): Dropout before the score convs. Default: 0 (the VGG
            backbone already drops out after fc6 and fc7).
        **kwargs: Passed to ``BaseDecodeHead`` (``num_classes``, ``loss_decode``,
            ``ignore_index``, ...). ``channels`` is the deepest input's channel count
            and need not be given. A softmax ``CrossEntropyLoss`` in ``loss_decode``
            with a ``class_weight`` needs one weight per class (``num_classes``).

    State dict: ``conv_seg`` scores the deepest level (``score_fr``);
    ``skip_scores.stride<s>`` scores the level of stride ``s`` (``stride16``: pool4,
    ``stride8``: pool3, ``stride4``: pool2) and ``fuse_upsamples.stride<s>`` upsamples
    the sum at stride ``s`` (weights only with ``learn_upsample``). A level has the
    same names in every variant, so FCN-32s weights load into FCN-16s and those into
    FCN-8s key for key; checkpoints that number these layers by position load too
    (see ``level_names``).

    Shapes:
        Inputs: the backbone's tuple; level ``k`` is ``(N, in_channels[k], H_k, W_k)``.
        Output of ``forward``: ``(N, num_classes, H', W')`` with ``H' >= H``, aligned
        with the input's top-left pixel.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        in_index: Sequence[int],
        in_strides: Optional[Sequence[int]] = None,
        pad_mode: str = 'same',
        in_grids: Optional[Union[str, Sequence]] = None,
        skip_scales: Optional[Sequence[float]] = None,
        upsample: str = 'deconv',
        learn_upsample: bool = False,
        score_init: str = 'zeros',
        dropout_ratio: float = 0.0,
        init_cfg: Optional[dict] = None,
        **kwargs,
    ) -> None:
        in_channels, in_index = _as_tuple(in_channels), _as_tuple(in_index)
        _check_levels(in_channels, in_index, kwargs)
        num_levels = len(in_channels)
        in_strides = _check_strides(in_strides, num_levels)
        if pad_mode not in PAD_MODES:
            raise ValueError(
                f'pad_mode={pad_mode!r} is not supported; use one of '
                f"{PAD_MODES} (the backbone's pad mode)"
            )
        if in_grids is not None and pad_mode == 'caffe':
            raise ValueError(
                f"in_grids={in_grids!r} with pad_mode='caffe': the caffe "
                "levels have FullyConvVGG's grids; leave in_grids out"
            )
        in_level_grids('centre' if in_grids is None else in_grids, in_strides)
        if skip_scales is not None and (
            len(skip_scales) != num_levels - 1 or any(s <= 0 for s in skip_scales)
        ):
            raise ValueError(
                f'skip_scales={tuple(skip_scales)!r} needs one positive factor per skip '
                f'level ({num_levels - 1} for {num_levels} inputs, the deepest not scaled)'
            )
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f'dropout_ratio={dropout_ratio!r} must be in [0, 1)')
        if score_init not in SCORE_INITS:
            raise ValueError(
                f'score_init={score_init!r} is not supported; use one of {SCORE_INITS}'
            )
        super().__init__(
            in_channels,
            in_channels[-1],
            in_index=in_index,
            input_transform='multiple_select',
            dropout_ratio=dropout_ratio,
            init_cfg=init_cfg,
            **kwargs,
        )
        check_class_weights(self.loss_decode, self.num_classes)
        self.in_strides = in_strides
        self.pad_mode = pad_mode
        self.in_grids = (
            in_grids if in_grids is None or isinstance(in_grids, str) else tuple(in_grids)
        )
        self.skip_scales = None if skip_scales is None else tuple(skip_scales)
        self.score_init = score_init
        # ``conv_seg`` (from the base class) scores the deepest level, as score_fr.
        # The other layers are named by the stride of their level (see
        # ``level_names``), so a coarser variant's weights load into a finer one key
        # for key: ``skip_scores.stride16`` is pool4's score in FCN-16s and FCN-8s.
        self.skip_scores = nn.ModuleDict(
            (level_name(s), nn.Conv2d(c, self.out_channels, 1))
            for c, s in zip(in_channels[:-1], in_strides[:-1])
        )
        grids = self._input_grids()
        corners = _upsample_corners(grids, upsample)
        steps = list(zip(in_strides[:-1], in_strides[1:], corners[1:]))
        self.fuse_upsamples = nn.ModuleDict(
            (
                level_name(deep),
                Upsample(self.out_channels, deep // fine, upsample, learn_upsample, corner),
            )
            for fine, deep, corner in reversed(steps)
        )
        self.final_upsample = Upsample(
            self.out_channels, in_strides[0], upsample, learn_upsample, corners[0]
        )
        self._plan_crops(grids)

    def _input_grids(self) -> List[Grid]:
        """Grid of each input level, finest first, from ``pad_mode`` and ``in_grids``."""
        if self.pad_mode == 'same':
            return list(in_level_grids(self.in_grids or 'centre', self.in_strides))
        vgg_strides = LEVEL_STRIDES[:4]
        if self.in_strides[-1] != 32 or any(s not in vgg_strides for s in self.in_strides[:-1]):
            raise ValueError(
                f"in_strides={self.in_strides!r} with pad_mode='caffe' must be VGG "
                f'pool levels of strides {vgg_strides} followed by fc7 (stride 32)'
            )
        vgg_grids = level_grids('caffe')
        return [vgg_grids[vgg_strides.index(s)] for s in self.in_strides[:-1]] + [vgg_grids[-1]]

    def _plan_crops(self, grids: List[Grid]) -> None:
        """Derive, once, the leading crops of every fusion and of the final map."""
        self.fuse_crops: List[Tuple[int, int]] = []
        grid = grids[-1]
        for upsample, skip_grid in zip(self.fuse_upsamples.values(), reversed(grids[:-1])):
            up_grid = upsample.output_grid(grid)
            up_crop, skip_crop = crop_offsets(up_grid, skip_grid)
            self.fuse_crops.append((up_crop, skip_crop))
            grid = Grid(up_grid.stride, up_grid.offset + up_grid.stride * up_crop)
        final_crop, input_crop = crop_offsets(self.final_upsample.output_grid(grid), Grid.input())
        if input_crop:
            raise ValueError(
                f'with pad_mode={self.pad_mode!r} and in_grids={self.in_grids!r} the '
                f'upsampled scores start {input_crop} px inside the image and cannot '
                'cover it; check pad_mode, in_grids and in_strides against the backbone '
                '(tools/probe_grids.py measures its grids)'
            )
        self.final_crop = final_crop

    def forward(self, inputs: Sequence[Tensor], num_levels: Optional[int] = None) -> Tensor:
        """Fuse the levels and upsample to input resolution (see the class docstring).

        ``num_levels`` keeps only the deepest ``num_levels`` inputs: the finer skips are
        left out and the same score layers, upsampling and crops are reused, so 1 gives
        the FCN-32s and 2 the FCN-16s prediction of an FCN-8s head. Default: all levels.
        """
        levels = self._select_levels(inputs)
        if num_levels is None:
            num_levels = len(levels)
        elif not 1 <= num_levels <= len(levels):
            raise ValueError(
                f'num_levels={num_levels!r} must be in 1..{len(levels)} '
                '(the number of input levels of this head)'
            )
        score = self.cls_seg(levels[-1])
        skip_scores = list(self.skip_scores.values())
        skips = list(zip(levels[:-1], skip_scores, self.skip_scales or [None] * len(skip_scores)))
        fusions = zip(self.fuse_upsamples.values(), self.fuse_crops, reversed(skips))
        for step, (upsample, crops, (level, score_conv, scale)) in enumerate(fusions):
            up_crop, skip_crop = crops
            if step >= num_levels - 1:
                # A left-out skip adds nothing: keep the aligned upsampled score.
                score = upsample(score)[..., up_crop:, up_crop:]
                continue
            if scale is not None:
                level = level * scale
            if self.dropout is not None:
                level = self.dropout(level)
            score = _add_aligned(upsample(score), up_crop, score_conv(level), skip_crop)
        score = self.final_upsample(score)
        return score[..., self.final_crop :, self.final_crop :]

    def loss(
        self, inputs: Tuple[Tensor], batch_data_samples: SampleList, train_cfg: ConfigType
    ) -> dict:
        """``BaseDecodeHead.loss``, after checking the levels against the input."""
        self._select_levels(inputs, [s.metainfo for s in batch_data_samples])
        return super().loss(inputs, batch_data_samples, train_cfg)

    def predict(
        self, inputs: Tuple[Tensor], batch_img_metas: List[dict], test_cfg: ConfigType
    ) -> Tensor:
        """``BaseDecodeHead.predict``, after checking the levels against the input."""
        self._select_levels(inputs, batch_img_metas)
        return super().predict(inputs, batch_img_metas, test_cfg)

    def loss_by_feat(self, seg_logits: Tensor, batch_data_samples: SampleList) -> dict:
        """Losses of ``BaseDecodeHead.loss_by_feat`` on the logits cropped to the labels.

        The base class would resize the crop to the label size, which it already has:
        a full-resolution copy in the forward and the backward pass for nothing. The
        crop goes to the sampler and the losses as it is; the values are the same.
        """
        seg_label = self._stack_batch_gt(batch_data_samples)
        seg_logits = crop_to_size(seg_logits, seg_label.shape[2:])
        seg_weight = None
        if self.sampler is not None:
            seg_weight = self.sampler.sample(seg_logits, seg_label)
        seg_label = seg_label.squeeze(1)
        losses_decode = self.loss_decode
        if not isinstance(losses_decode, nn.ModuleList):
            losses_decode = [losses_decode]
        loss = dict()
        for loss_decode in losses_decode:
            value = loss_decode(
                seg_logits, seg_label, weight=seg_weight, ignore_index=self.ignore_index
            )
            if loss_decode.loss_name in loss:
                loss[loss_decode.loss_name] += value
            else:
                loss[loss_decode.loss_name] = value
        loss['acc_seg'] = accuracy(seg_logits, seg_label, ignore_index=self.ignore_index)
        return loss

    def predict_by_feat(self, seg_logits: Tensor, batch_img_metas: List[dict]) -> Tensor:
        meta = batch_img_metas[0]
        # Same rule as the base class: slide inference passes the crop's torch.Size.
        if isinstance(meta['img_shape'], torch.Size) or 'pad_shape' not in meta:
            size = meta['img_shape']
        else:
            size = meta['pad_shape']
        # The crop has the size the base class would resize to: no resize (no copy).
        return crop_to_size(seg_logits, size[:2])

    def init_weights(self) -> None:
        super().init_weights()
        if self.init_cfg is not None:
            return
        for conv in [self.conv_seg, *self.skip_scores.values()]:
            if self.score_init == 'zeros':
                nn.init.zeros_(conv.weight)
            else:
                nn.init.normal_(conv.weight, std=0.01)
            nn.init.zeros_(conv.bias)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        """Load as ``nn.Module`` does, after renaming positional keys to level names.

        Checkpoints written before the layers were named by level number the skip
        scores and fusion upsamplings by position (see ``level_names``); their keys
        are mapped in ``state_dict`` itself, so every loader (``load_state_dict``,
        mmengine's ``load_checkpoint``, ``init_model``, ``load_from``) reads them,
        and one log line says so.
        """
        renames = positional_renames(list(state_dict), prefix, self.in_strides)
        for old, new in renames.items():
            state_dict[new] = state_dict.pop(old)
        if renames:
            pairs = ', '.join(
                f'{old[len(prefix) :]} -> {new[len(prefix) :]}'
                for old, new in sorted(renames.items())
            )
            print_log(
                f'{prefix[:-1] or "FCNSkipHead"}: the checkpoint names the skip '
                f'layers by position (an older format); mapped {pairs}',
                logger='current',
            )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _select_levels(
        self, inputs: Sequence[Tensor], batch_img_metas: Optional[List[dict]] = None
    ) -> List[Tensor]:
        """The levels chosen by ``in_index``, checked against the head's arguments.

        Channels and sizes are checked in eager runs only (not while tracing, see
        ``is_tracing``); the size check is cached per combination of sizes. With
        ``batch_img_metas`` the sizes are also checked against the network input.
        """
        if not all(-len(inputs) <= i < len(inputs) for i in self.in_index):
            raise ValueError(
                f'in_index={self.in_index!r} but the backbone returns '
                f'{len(inputs)} outputs; check in_index against the '
                "backbone's out_indices"
            )
        levels = self._transform_inputs(inputs)
        if is_tracing():
            return levels
        for k, (level, channels) in enumerate(zip(levels, self.in_channels)):
            if level.shape[1] != channels:
                raise ValueError(
                    f'in_channels[{k}]={channels} but backbone output '
                    f'{self.in_index[k]} has {level.shape[1]} channels; set in_channels '
                    "to the backbone's channels of the outputs chosen by in_index"
                )
        sizes = tuple((level.shape[-2], level.shape[-1]) for level in levels)
        input_sizes = input_size_candidates(batch_img_metas[0]) if batch_img_metas else ()
        mismatch = level_mismatch(self.pad_mode, self.in_strides, sizes, input_sizes)
        if mismatch is not None:
            raise ValueError(mismatch)
        return levels


def _upsample_corners(grids: Sequence[Grid], mode: str) -> List[bool]:
    """``align_corners`` of each upsampling, finest first: entry 0 upsamples level 0
    to the input, entry ``k`` level ``k`` to level ``k - 1`` (``upsample_alignment``).

    A fused map lies on the grid of its finer level up to whole pixels, so each step
    depends on its two levels only."""
    targets = [Grid.input()] + list(grids[:-1])
    return [
        upsample_alignment(source, target, int(source.stride / target.stride), mode)
        for source, target in zip(grids, targets)
    ]


def crop_to_size(logits: Tensor, size: Sequence[int]) -> Tensor:
    """Keep the top-left ``size`` of input-aligned logits ``(N, C, H', W')``.

    Trace-safe: ``size`` may hold traced sizes (e.g. ``x.shape[2:]`` under
    ``torch.jit.trace``); they are used as slice ends as they are, so an exported graph
    crops to the size of each input. The coverage check runs in eager mode only.
    """
    height, width = size[0], size[1]
    if not is_tracing() and (logits.shape[-2] < height or logits.shape[-1] < width):
        raise ValueError(
            f'scores of size {tuple(logits.shape[-2:])} do not cover the input of size '
            f'{(int(height), int(width))}; the backbone outputs are smaller than '
            'in_strides promise, check in_strides and pad_mode against the backbone'
        )
    return logits[..., :height, :width]


def _add_aligned(up: Tensor, up_crop: int, skip: Tensor, skip_crop: int) -> Tensor:
    """Sum of two maps after dropping their leading crops, over their common extent.

    The common extent comes from slicing each map to the other's extent (a slice end
    past the size stops at the size), not from Python ``min`` on sizes, so that traced
    graphs keep it symbolic; two slices, as many as with ``min``.
    """
    up = up[
        ...,
        up_crop : up_crop + skip.shape[-2] - skip_crop,
        up_crop : up_crop + skip.shape[-1] - skip_crop,
    ]
    return (
        up + skip[..., skip_crop : skip_crop + up.shape[-2], skip_crop : skip_crop + up.shape[-1]]
    )


def _as_tuple(value: Union[int, Sequence[int]]) -> tuple:
    return (value,) if isinstance(value, int) else tuple(value)


def _check_levels(in_channels: tuple, in_index: tuple, kwargs: dict) -> None:
    if not in_channels or len(in_channels) != len(in_index):
        raise ValueError(
            f'in_channels={in_channels!r} and in_index={in_index!r} must be non-empty '
            'and of equal length: one channel count per selected backbone output'
        )
    if not all(isinstance(c, int) and c > 0 for c in in_channels):
        raise ValueError(
            f'in_channels={in_channels!r} must be positive integers: the '
            'channels of the selected backbone outputs'
        )
    if kwargs.get('input_transform', 'multiple_select') != 'multiple_select':
        raise ValueError(
            f'input_transform={kwargs["input_transform"]!r}: FCNSkipHead '
            "always uses 'multiple_select'; leave it out"
        )
    if 'channels' in kwargs and kwargs.pop('channels') != in_channels[-1]:
        raise ValueError(
            f"channels must equal the deepest input's in_channels ({in_channels[-1]}); leave it out"
        )
    num_classes = kwargs.get('num_classes')
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f'num_classes={num_classes!r} must be a positive integer')


def _check_strides(in_strides: Optional[Sequence[int]], num_levels: int) -> tuple:
    if in_strides is None:
        if num_levels > 5:
            raise ValueError(f'{num_levels} input levels need explicit in_strides')
        return default_strides(num_levels)
    in_strides = tuple(in_strides)
    if len(in_strides) != num_levels:
        raise ValueError(
            f'in_strides={in_strides!r} needs one stride per input level ({num_levels})'
        )
    steps_ok = all(
        deep % fine == 0 and deep >= 2 * fine for fine, deep in zip(in_strides[:-1], in_strides[1:])
    )
    if in_strides[0] < 2 or not steps_ok:
        raise ValueError(
            f'in_strides={in_strides!r} must start at 2 or more and each '
            'stride must be a whole multiple (2x or more) of the previous; '
            "levels of one stride (a dilated backbone) need mmseg's "
            'FCNHead instead'
        )
    return in_strides
