"""Late fusion: one decode head per stream, their logits summed with fixed weights."""

from typing import List, Optional, Sequence, Tuple

import torch.nn as nn
from mmengine.model import ModuleList
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from .fcn_skip_head import FCNSkipHead


@MODELS.register_module()
class LateFusionHead(BaseDecodeHead):
    """Decode heads of several streams whose logits are summed: late fusion.

    The two-stream colour-HHA FCN of `Fully Convolutional Networks for Semantic
    Segmentation <https://arxiv.org/abs/1411.4038>`_ scores each stream's fc7
    (``score_frcolor``, ``score_frhha``), sums the scores with weights 0.5 and 0.5
    (``score_fused``) and upsamples the sum once (``upscore``, then the crop to the
    input). Here each stream's head scores and upsamples its own stream and the
    upsampled logits are summed with ``weights``. The reference's upsampling (a
    fixed bilinear deconvolution without bias) and crop are linear and the same for
    both streams, so the sum of the upsampled scores equals the upsampling of the
    summed scores: the same logits, from heads that are each an ordinary head.

    Each stream head picks its levels from the backbone's flat output tuple by its
    own ``in_index`` (``MultiStreamBackbone`` returns stream 0's outputs, then
    stream 1's: with one output per stream, ``in_index=(0,)`` and ``(1,)``).
    Stream heads must give logits aligned with the input's top-left pixel at the
    same scale (``FCNSkipHead``: at the input's resolution, possibly extending past
    its bottom and right, as in its own ``forward``); the logits are summed over
    their common extent. Loss and prediction are the first stream head's
    (``FCNSkipHead`` crops the logits to the labels and the input there), so every
    stream head must score the same classes with the same ``ignore_index``.

    Args:
        streams (Sequence[dict]): One decode head config per stream, in stream order
            (e.g. ``FCNSkipHead`` configs). The first one's ``loss_decode`` is the
            loss.
        weights (Sequence[float]): Factor of each stream's logits in the sum.
            Default: ``(0.5, 0.5)`` (the released colour-HHA net).
        init_cfg (dict or list[dict], optional): Initialization config of the whole
            head; each stream head's own ``init_cfg`` (e.g.
            ``dict(type='Pretrained', checkpoint=..., prefix='decode_head.')``) is
            honoured too. Default: None.

    State dict: stream ``i``'s head is under ``streams.<i>.`` with that head's own
    keys (for ``FCNSkipHead``: ``conv_seg`` is the stream's ``score_fr``).

    Shapes:
        Inputs: the backbone's flat tuple. Output of ``forward``: the weighted sum of
        the stream heads' logits, ``(N, num_classes, H', W')`` over their common
        extent.
    """

    def __init__(
        self,
        streams: Sequence[dict],
        weights: Sequence[float] = (0.5, 0.5),
        init_cfg: Optional[dict] = None,
    ) -> None:
        if isinstance(streams, dict) or not streams or len(streams) < 2:
            raise ValueError(
                f'streams={streams!r} must be a list of at least two decode head configs, '
                'one per backbone stream (late fusion sums their logits)'
            )
        weights = tuple(float(w) for w in weights)
        if len(weights) != len(streams):
            raise ValueError(
                f'weights={weights!r} must give one factor per stream ({len(streams)} '
                'streams), e.g. (0.5, 0.5) as the released colour-HHA net'
            )
        heads = [MODELS.build(cfg) for cfg in streams]
        _check_heads(heads)
        first = heads[0]
        in_index, in_channels = [], []
        for head in heads:
            indices = _as_list(head.in_index)
            channels = _as_list(head.in_channels)
            if len(channels) != len(indices):  # 'resize_concat' heads sum their channels
                channels = [None] * len(indices)
            in_index += indices
            in_channels += channels
        super().__init__(
            in_channels,
            first.channels,
            num_classes=first.num_classes,
            out_channels=first.out_channels,
            threshold=first.threshold,
            dropout_ratio=0.0,
            in_index=in_index,
            input_transform='multiple_select',
            loss_decode=[],
            ignore_index=first.ignore_index,
            align_corners=first.align_corners,
            init_cfg=init_cfg,
        )
        # The stream heads score, lose and predict: no score layer or loss of its own.
        del self.conv_seg
        del self.loss_decode
        self.streams = ModuleList(heads)
        self.weights = weights

    @property
    def loss_decode(self) -> nn.Module:
        """The loss: the first stream head's ``loss_decode``."""
        return self.streams[0].loss_decode

    @property
    def in_strides(self) -> Tuple[int, ...]:
        """The first stream head's ``in_strides`` (the FCN variant of the net)."""
        return self.streams[0].in_strides

    @property
    def skip_scales(self) -> Optional[Tuple[float, ...]]:
        """The first stream head's ``skip_scales``."""
        return getattr(self.streams[0], 'skip_scales', None)

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """The weighted sum of the stream heads' logits (see the class docstring)."""
        fused = None
        for head, weight in zip(self.streams, self.weights):
            logits = weight * head(inputs)
            fused = logits if fused is None else _add_common(fused, logits)
        return fused

    def loss(
        self, inputs: Tuple[Tensor], batch_data_samples: SampleList, train_cfg: ConfigType
    ) -> dict:
        """``BaseDecodeHead.loss``, after each ``FCNSkipHead`` stream checks its levels
        against the input."""
        self._check_levels(inputs, [s.metainfo for s in batch_data_samples])
        return super().loss(inputs, batch_data_samples, train_cfg)

    def predict(
        self, inputs: Tuple[Tensor], batch_img_metas: List[dict], test_cfg: ConfigType
    ) -> Tensor:
        """``BaseDecodeHead.predict``, after each ``FCNSkipHead`` stream checks its
        levels against the input."""
        self._check_levels(inputs, batch_img_metas)
        return super().predict(inputs, batch_img_metas, test_cfg)

    def loss_by_feat(self, seg_logits: Tensor, batch_data_samples: SampleList) -> dict:
        """The first stream head's losses of the fused logits."""
        return self.streams[0].loss_by_feat(seg_logits, batch_data_samples)

    def predict_by_feat(self, seg_logits: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """The first stream head's prediction from the fused logits (``FCNSkipHead``:
        the crop to the input)."""
        return self.streams[0].predict_by_feat(seg_logits, batch_img_metas)

    def _check_levels(self, inputs: Sequence[Tensor], batch_img_metas: List[dict]) -> None:
        for head in self.streams:
            if isinstance(head, FCNSkipHead):
                head._select_levels(inputs, batch_img_metas)


def _add_common(fused: Tensor, logits: Tensor) -> Tensor:
    """Sum of two top-left aligned maps over their common extent.

    Each map is sliced to the other's extent (a slice end past the size stops at
    the size), which keeps traced sizes symbolic, as ``FCNSkipHead`` does.
    """
    fused = fused[..., : logits.shape[-2], : logits.shape[-1]]
    return fused + logits[..., : fused.shape[-2], : fused.shape[-1]]


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _check_heads(heads: List[nn.Module]) -> None:
    for index, head in enumerate(heads):
        if not isinstance(head, BaseDecodeHead):
            raise ValueError(
                f'streams[{index}] builds a {type(head).__name__}, not a decode head; '
                "give each stream a decode head config (e.g. type='FCNSkipHead')"
            )
    first = heads[0]
    for index, head in enumerate(heads[1:], 1):
        for name in ('num_classes', 'out_channels', 'ignore_index'):
            if getattr(head, name) != getattr(first, name):
                raise ValueError(
                    f'streams[{index}].{name}={getattr(head, name)!r} but '
                    f'streams[0].{name}={getattr(first, name)!r}; the streams are summed '
                    f'class by class and lose as the first one: give every stream the '
                    f'same {name}'
                )
