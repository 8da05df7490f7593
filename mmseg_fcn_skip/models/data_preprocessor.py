"""The data preprocessor of multi-modal inputs: a mean and a std for every channel.

mmseg's ``SegDataPreProcessor`` (through mmengine's ``ImgDataPreprocessor``) takes 1
or 3 means and stds only. An image made by ``LoadMultiModalImage`` has the colour's
3 channels and then each modality's (HHA 3, depth 1), so the colour-HHA nets need 6
and the colour-depth net 4::

    data_preprocessor = dict(
        type='MultiModalDataPreProcessor',
        mean=[116.190, 97.203, 92.318, 132.431, 94.076, 118.477],
        std=[1.0] * 6,
        bgr_to_rgb=False,
    )
"""

from typing import Any, Dict, Optional, Sequence

import torch
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS

#: The pipeline step that makes the channels, named in the errors.
PIPELINE_STEP = 'LoadMultiModalImage'


@MODELS.register_module()
class MultiModalDataPreProcessor(SegDataPreProcessor):
    """``SegDataPreProcessor`` with one mean and one std per input channel.

    Normalises every channel, ``(x - mean[c]) / std[c]``, then pads and stacks as
    ``SegDataPreProcessor`` does (``size``, ``size_divisor``, ``pad_val``,
    ``seg_pad_val``, ``test_cfg``: every channel alike).

    Args:
        mean (Sequence[float]): One value per channel, in the order the pipeline
            makes them (``LoadMultiModalImage``: colour BGR, then each modality's).
        std (Sequence[float]): As many values as ``mean``.
        bgr_to_rgb (bool): Swap the first and third channel of 3-channel inputs
            (mmseg's rule); refused for more channels, which it would leave as they
            are. Default: False.
        rgb_to_bgr (bool): As ``bgr_to_rgb``. Default: False.
        **kwargs: Passed on to ``SegDataPreProcessor``.

    Shapes:
        Each input ``(C, H, W)`` with ``C == len(mean)`` (another count is a
        ``ValueError`` naming both); output ``(N, C, H', W')`` float32.

    Raises:
        ValueError: for means and stds of different lengths, a channel swap asked
            for more than 3 channels, or inputs of another channel count.
    """

    def __init__(
        self,
        mean: Sequence[float],
        std: Sequence[float],
        bgr_to_rgb: bool = False,
        rgb_to_bgr: bool = False,
        **kwargs,
    ) -> None:
        mean, std = list(mean or []), list(std or [])
        if not mean or len(mean) != len(std):
            raise ValueError(
                f'MultiModalDataPreProcessor: mean={mean} and std={std} must give one value '
                'per input channel each (e.g. 6 for colour + HHA, 4 for colour + depth)'
            )
        if (bgr_to_rgb or rgb_to_bgr) and len(mean) != 3:
            raise ValueError(
                f'MultiModalDataPreProcessor: bgr_to_rgb/rgb_to_bgr swap 3-channel inputs '
                f'only, and the inputs here have {len(mean)} channels; set both False and '
                f'order the channels in the pipeline ({PIPELINE_STEP} gives colour as BGR, '
                'HHA as stored)'
            )
        super().__init__(
            mean=None, std=None, bgr_to_rgb=bgr_to_rgb, rgb_to_bgr=rgb_to_bgr, **kwargs
        )
        self._enable_normalize = True
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1), False)

    @property
    def in_channels(self) -> int:
        """The channel count of the inputs (the length of ``mean``)."""
        return self.mean.shape[0]

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        """Check the channel count, then normalise, pad and stack as mmseg does."""
        inputs = data['inputs']
        first: Optional[torch.Tensor] = inputs[0] if len(inputs) else None
        if first is not None and first.shape[-3] != self.in_channels:
            raise ValueError(
                f'MultiModalDataPreProcessor has {self.in_channels} means (one per channel) '
                f'but the input has {first.shape[-3]} channels (shape {tuple(first.shape)}). '
                f'The channels are made by the loading pipeline ({PIPELINE_STEP}); load the '
                'modalities the config was written for, or give one mean and std per '
                'channel it makes.'
            )
        return super().forward(data, training)
