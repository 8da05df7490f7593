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

from ..backbones.levels import BackboneLevels
from ..fusion_plan import FusionPlan, input_size_candidates, level_key
from ..utils import Upsample, is_tracing
from .loss_check import check_class_weights

SCORE_INITS = ('zeros', 'normal')


@MODELS.register_module()
class FCNSkipHead(BaseDecodeHead):
    """Skip-connection head of `Fully Convolutional Networks for Semantic Segmentation
    <https://arxiv.org/abs/1411.4038>`_.

    Each input level is scored by a 1x1 conv; from the deepest, the score is upsampled
    to the next level's stride, cropped into alignment with that level's score and
    added to it; the last sum is upsampled to the input. One input is FCN-32s, two
    FCN-16s, three FCN-8s, four FCN-4s. The strides, grids, upsamplings, crops and the
    check of the level sizes are planned once (``self.plan``, a
    ``models.fusion_plan.FusionPlan``); the logits are aligned with the input pixels
    and may extend past its bottom and right, so loss and prediction crop them. The
    theory and the error messages: docs/modules.md; other backbones' grids:
    docs/backbones.md.

    Args:
        in_channels (Sequence[int]): Channels of each input level, finest first and
            deepest last, e.g. ``(256, 512, 4096)`` for pool3, pool4, fc7.
        in_index (Sequence[int]): Backbone outputs to use, in the same order.
        in_strides (Sequence[int], optional): Stride of each input level. Each must be
            a whole multiple (at least 2x) of the previous one. Default: deepest at 32,
            each finer level at half the stride of the next.
        pad_mode (str): The sizes of the levels. ``'same'``: about ``H / s`` at stride
            ``s`` (``FullyConvVGG(pad_mode='same')`` and mmseg's backbones), lying
            where ``in_grids`` says. ``'caffe'``: the levels of ``backbone_type`` in
            its caffe pad mode (``FullyConvVGG(pad_mode='caffe')``), the
            deepest being fc7, on that net's grids. Default: ``'same'``.
        in_grids (str or Sequence, optional): Where each level lies on the input, for
            ``pad_mode='same'``: ``'centre'`` (pixel ``j`` of a stride ``s`` level on
            input pixel ``s * j + (s - 1) / 2``: ``FullyConvVGG``, Swin), ``'corner'``
            (on ``s * j``: mmseg's ResNet, ResNetV1c, MobileNetV2, MiT, which
            downsample with centred odd kernels), or one entry per level, finest
            first: a name or the offset of pixel 0 in input pixels (int, ``Fraction``,
            ``'3/2'`` or a float). ``tools/analysis_tools/probe_grids.py`` measures them for any
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
        zero_new_levels (bool): When a checkpoint loaded into the model holds this
            head's deepest score layer (``conv_seg``, same class count) but not the
            score layer of a skip level (a staged start: FCN-32s weights into an
            FCN-16s), that skip level starts at zero, as in the paper, so the net
            starts from the loaded net's predictions; False keeps ``score_init`` for
            it. Default: True.
        backbone_type (str or BackboneLevels): The backbone whose levels
            ``pad_mode='caffe'`` means, by registered type name, described in its
            module (``models.backbones.levels``). Default: ``'FullyConvVGG'``.
        **kwargs: Passed to ``BaseDecodeHead`` (``num_classes``, ``loss_decode``,
            ``ignore_index``, ...). ``channels`` is the deepest input's channel count
            and need not be given. A softmax ``CrossEntropyLoss`` in ``loss_decode``
            with a ``class_weight`` needs one weight per class (``num_classes``).

    State dict: ``conv_seg`` scores the deepest level (``score_fr``);
    ``skip_scores.stride<s>`` scores the level of stride ``s`` (``stride16``: pool4,
    ``stride8``: pool3, ``stride4``: pool2) and ``fuse_upsamples.stride<s>`` upsamples
    the sum at stride ``s`` (weights only with ``learn_upsample``); ``level_key``
    names them. A level has the same keys in every variant, so FCN-32s weights load
    into FCN-16s and those into FCN-8s key for key.

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
        zero_new_levels: bool = True,
        backbone_type: Union[str, BackboneLevels] = 'FullyConvVGG',
        init_cfg: Optional[dict] = None,
        **kwargs,
    ) -> None:
        in_channels, in_index = _as_tuple(in_channels), _as_tuple(in_index)
        _check_levels(in_channels, in_index, kwargs)
        num_levels = len(in_channels)
        plan = FusionPlan(num_levels, in_strides, pad_mode, in_grids, upsample, backbone_type)
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
        self.plan = plan
        self.in_strides = plan.in_strides
        self.pad_mode = plan.pad_mode
        self.in_grids = plan.in_grids
        self.skip_scales = None if skip_scales is None else tuple(skip_scales)
        self.score_init = score_init
        self.zero_new_levels = zero_new_levels
        # ``conv_seg`` (from the base class) scores the deepest level, as score_fr;
        # the other layers are keyed by the stride of their level (``level_key``).
        self.skip_scores = nn.ModuleDict(
            (level_key(s), nn.Conv2d(c, self.out_channels, 1))
            for c, s in zip(in_channels[:-1], plan.in_strides[:-1])
        )
        self.fuse_upsamples = nn.ModuleDict(
            (
                step.key,
                Upsample(
                    self.out_channels, step.factor, upsample, learn_upsample, step.align_corners
                ),
            )
            for step in plan.fusions
        )
        final = plan.final
        self.final_upsample = Upsample(
            self.out_channels, final.factor, upsample, learn_upsample, final.align_corners
        )

    @property
    def fuse_crops(self) -> List[Tuple[int, int]]:
        """``(up_crop, skip_crop)`` of each fusion, deepest first (``plan``)."""
        return self.plan.fuse_crops

    @property
    def final_crop(self) -> int:
        """Leading pixels dropped from the final upsampled score (``plan``)."""
        return self.plan.final.up_crop

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

    def _load_from_state_dict(
        self, state_dict: dict, prefix: str, local_metadata: dict, strict: bool, *args
    ) -> None:
        """Load as ``nn.Module`` does; then, for a staged start (the checkpoint has this
        head's ``conv_seg`` of the same shape but not some skip level's score layer),
        set those skip levels to zero (``zero_new_levels``), with every loader
        (``load_state_dict``, mmengine's ``load_checkpoint``, ``load_from``)."""
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, *args)
        deepest = state_dict.get(prefix + 'conv_seg.weight')
        if not self.zero_new_levels or deepest is None:
            return
        if deepest.shape != self.conv_seg.weight.shape:
            return
        new = [
            key for key in self.skip_scores if f'{prefix}skip_scores.{key}.weight' not in state_dict
        ]
        with torch.no_grad():
            for key in new:
                nn.init.zeros_(self.skip_scores[key].weight)
                nn.init.zeros_(self.skip_scores[key].bias)
        if new:
            print_log(
                ', '.join(f'{prefix}skip_scores.{key}' for key in new)
                + ': new skip level, starts at zero, so the net starts from the loaded '
                "net's predictions (zero_new_levels=False keeps score_init)",
                logger='current',
            )

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
        mismatch = self.plan.mismatch(sizes, input_sizes)
        if mismatch is not None:
            raise ValueError(mismatch)
        return levels


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
