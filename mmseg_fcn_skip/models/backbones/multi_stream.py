"""Several backbones side by side, each on its own channels of one input (late fusion).

A multi-modal input is one image whose channels are the modalities' channels
concatenated, colour's first (``LoadMultiModalImage`` makes it). ``MultiStreamBackbone``
cuts the channels apart in that order and runs one backbone per modality, as the
two-stream colour-HHA FCN of Long, Shelhamer and Darrell does (two VGG16s, one on the
colour image, one on the HHA image). The decode head (``LateFusionHead``) scores each
stream and sums the scores.
"""

from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule, ModuleList
from mmseg.registry import MODELS
from torch import Tensor

from ..utils import is_tracing

#: The pipeline step that concatenates the modalities' channels, named in messages.
CHANNEL_STEP = "LoadMultiModalImage(modalities=(...)) in the data pipeline (e.g. ('hha',))"


@MODELS.register_module()
class MultiStreamBackbone(BaseModule):
    """One backbone per group of input channels; their outputs one after the other.

    The input's channels are split in order into groups of ``in_channels[i]``
    channels (colour first); stream ``i`` (any mmseg backbone) runs on group ``i``.
    The output is one flat tuple: stream 0's outputs, then stream 1's, and so on, so a
    decode head selects any stream's levels by ``in_index`` as usual. With streams of
    one output each (``out_indices=(5,)``, fc7), output ``i`` is stream ``i``'s;
    :meth:`stream_indices` gives the positions of a stream's outputs in general.

    Each stream is a whole backbone as its config builds it: a ``FullyConvVGG``
    stream keeps its ``pad_mode`` and its described levels (``levels.py``), which
    an ``FCNSkipHead`` on that stream reads as on a single-stream net
    (``backbone_type``).

    Args:
        streams (Sequence[dict]): One backbone config per stream, in channel order.
        in_channels (Sequence[int], optional): Input channels of each stream, in the
            same order. Default: 3 for every stream.
        init_cfg (dict or list[dict], optional): Initialization config of the whole
            backbone. Each stream's own ``init_cfg`` (e.g.
            ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')`` to start
            it from a single-stream net) is honoured too. Default: None.

    Attributes:
        stream_outputs (tuple[int]): How many outputs each stream returns, read from
            each stream's ``out_indices``; a stream without ``out_indices`` counts
            as None until the first forward pass, which records every count.

    State dict: stream ``i``'s weights are under ``streams.<i>.`` with the keys of
    that backbone alone.

    Shapes:
        Input ``(N, sum(in_channels), H, W)``; output the streams' output tuples
        concatenated in stream order.
    """

    def __init__(
        self,
        streams: Sequence[dict],
        in_channels: Optional[Sequence[int]] = None,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg)
        if isinstance(streams, dict) or not streams:
            raise ValueError(
                f'streams={streams!r} must be a non-empty list of backbone configs, '
                "one per modality, colour first (e.g. [dict(type='FullyConvVGG', ...), "
                "dict(type='FullyConvVGG', ...)])"
            )
        if in_channels is None:
            in_channels = (3,) * len(streams)
        in_channels = tuple(in_channels)
        if len(in_channels) != len(streams) or not all(
            isinstance(c, int) and c > 0 for c in in_channels
        ):
            raise ValueError(
                f'in_channels={in_channels!r} must give one positive channel count per '
                f'stream ({len(streams)} streams), in the order of the input channels'
            )
        self.in_channels = in_channels
        self.streams = ModuleList(MODELS.build(cfg) for cfg in streams)
        self.stream_outputs: Tuple[Optional[int], ...] = tuple(
            _declared_outputs(stream) for stream in self.streams
        )

    @property
    def total_channels(self) -> int:
        """Channels of the whole input: ``sum(in_channels)``."""
        return sum(self.in_channels)

    @property
    def out_channels(self) -> Tuple[int, ...]:
        """Channels of each output, in output order (streams that declare them)."""
        return tuple(
            c for stream in self.streams for c in _stream_attribute(stream, 'out_channels')
        )

    @property
    def out_strides(self) -> Tuple[int, ...]:
        """Stride of each output, in output order (streams that declare them)."""
        return tuple(s for stream in self.streams for s in _stream_attribute(stream, 'out_strides'))

    def stream_indices(self, stream: int) -> Tuple[int, ...]:
        """Positions of stream ``stream``'s outputs in the flat output tuple.

        Raises:
            ValueError: if the stream does not exist, or a stream before it (or it)
                has an unknown output count (no ``out_indices``, no forward yet).
        """
        if stream not in range(len(self.streams)):
            raise ValueError(f'stream={stream!r} must be in 0..{len(self.streams) - 1}')
        counts = self.stream_outputs[: stream + 1]
        if any(count is None for count in counts):
            raise ValueError(
                f'the output counts {self.stream_outputs} are not all known: a stream '
                'without out_indices is counted at the first forward pass; run one first'
            )
        start = sum(counts[:-1])
        return tuple(range(start, start + counts[-1]))

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        if not is_tracing() and x.shape[1] != self.total_channels:
            raise ValueError(
                f'the input has {x.shape[1]} channels but MultiStreamBackbone takes '
                f'{self.total_channels} (in_channels={self.in_channels}, one group per '
                f'stream, colour first); the channels come from {CHANNEL_STEP}: make its '
                'modalities give these channels, and the data preprocessor one mean '
                'and std per channel'
            )
        outputs: List[Tensor] = []
        counts = []
        for stream, channels in zip(self.streams, torch.split(x, self.in_channels, dim=1)):
            levels = tuple(stream(channels))
            counts.append(len(levels))
            outputs.extend(levels)
        if None in self.stream_outputs:
            self.stream_outputs = tuple(counts)
        return tuple(outputs)


def _declared_outputs(stream: nn.Module) -> Optional[int]:
    out_indices = getattr(stream, 'out_indices', None)
    if out_indices is None:
        return None
    return 1 if isinstance(out_indices, int) else len(tuple(out_indices))


def _stream_attribute(stream: nn.Module, name: str) -> Tuple[int, ...]:
    value = getattr(stream, name, None)
    if value is None:
        raise AttributeError(
            f'{type(stream).__name__} does not declare {name}; read the outputs of a '
            'forward pass instead'
        )
    return tuple(value)
