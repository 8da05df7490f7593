"""What a backbone tells the head about its output levels (as timm's ``feature_info``).

A backbone describes its levels once, as data: their names, strides and channels, and
the windows (convolutions and poolings) that move or resize the maps, with their
padding in each pad mode. The grids and sizes of the levels follow from the windows;
``FCNSkipHead`` reads them (``levels=<type name>``) for ``pad_mode='caffe'`` instead
of knowing any backbone itself. A new backbone plugs in by building a
:class:`BackboneLevels` and passing it to :func:`register_levels`.
"""

from typing import Dict, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from ..geometry import Grid

#: The pad modes: ``'same'`` (each level about ``H / stride``) and ``'caffe'`` (the
#: reference net's padding, e.g. conv1_1 padded by 100).
PAD_MODES = ('same', 'caffe')


class Window(NamedTuple):
    """A convolution or pooling window along one axis (dilation 1).

    Attributes:
        name: The layer's name, e.g. ``'conv1_1'``, ``'pool1'``.
        kernel: Kernel size.
        stride: Stride. Default: 1.
        padding: Padding on each side, one int for every pad mode or one per pad mode
            (``{'same': 1, 'caffe': 100}``). Default: 0.
        ceil: Round the output size up (Caffe's pooling, ``ceil_mode=True``), one
            bool for every pad mode or one per pad mode (``{'same': False,
            'caffe': True}``). Default: False.
    """

    name: str
    kernel: int
    stride: int = 1
    padding: Union[int, Mapping[str, int]] = 0
    ceil: Union[bool, Mapping[str, bool]] = False

    def pad(self, pad_mode: str) -> int:
        """The padding in ``pad_mode``."""
        return self.padding if isinstance(self.padding, int) else self.padding[pad_mode]

    def rounds_up(self, pad_mode: str) -> bool:
        """Whether the output size is rounded up in ``pad_mode``."""
        return self.ceil if isinstance(self.ceil, bool) else self.ceil[pad_mode]

    def size(self, size: int, pad_mode: str) -> int:
        """Output size along one axis for an input of ``size`` pixels."""
        span = size + 2 * self.pad(pad_mode) - self.kernel
        steps = -(-span // self.stride) if self.rounds_up(pad_mode) else span // self.stride
        return steps + 1


class BackboneLevels:
    """The output levels of a backbone type, as data.

    Args:
        type_name (str): The registered type, e.g. ``'FullyConvVGG'``.
        family (str): Short name of the architecture in messages, e.g. ``'VGG'``.
        windows (Sequence[Window]): The layers that move or resize the maps, input
            first (layers that keep the size and grid, e.g. 3x3 convs padded by 1
            after the first, may be left out).
        names (Sequence[str]): The windows whose outputs are the levels, finest
            first (the index of a name is the backbone's ``out_indices`` entry).
        channels (Sequence[int]): Channels of each level in the standard widths.
        caffe_size_rule (str): How the ``'caffe'`` level sizes relate, in words, for
            error messages.

    Attributes:
        strides (tuple): Stride of each level.
    """

    def __init__(
        self,
        type_name: str,
        family: str,
        windows: Sequence[Window],
        names: Sequence[str],
        channels: Sequence[int],
        caffe_size_rule: str,
    ) -> None:
        self.type_name = type_name
        self.family = family
        self.windows = tuple(windows)
        self.names = tuple(names)
        self.channels = tuple(channels)
        self.caffe_size_rule = caffe_size_rule
        layer_names = [w.name for w in self.windows]
        self._ends = tuple(layer_names.index(name) + 1 for name in self.names)
        strides, stride = [], 1
        for window in self.windows:
            stride *= window.stride
            if window.name in self.names:
                strides.append(stride)
        self.strides = tuple(strides)

    def window(self, name: str) -> Window:
        """The window of the layer ``name``."""
        return next(w for w in self.windows if w.name == name)

    def grids(self, pad_mode: str) -> Tuple[Grid, ...]:
        """Sampling grid of each level in ``pad_mode``, finest first."""
        check_pad_mode(pad_mode)
        grid, grids = Grid.input(), []
        for end, window in enumerate(self.windows, 1):
            grid = grid.conv(window.kernel, window.stride, window.pad(pad_mode))
            if end in self._ends:
                grids.append(grid)
        return tuple(grids)

    def sizes(self, pad_mode: str, length: int) -> Tuple[int, ...]:
        """Size of each level along one axis for an input of ``length`` pixels."""
        check_pad_mode(pad_mode)
        return self._sizes_from(0, length, pad_mode)

    def deepest_size(self, level: int, size: int, pad_mode: str) -> int:
        """Size of the deepest level when level ``level`` has ``size`` pixels."""
        return self._sizes_from(self._ends[level], size, pad_mode)[-1]

    def _sizes_from(self, start: int, size: int, pad_mode: str) -> Tuple[int, ...]:
        sizes = []
        for end, window in enumerate(self.windows[start:], start + 1):
            size = window.size(size, pad_mode)
            if end in self._ends:
                sizes.append(size)
        return tuple(sizes)

    def __repr__(self) -> str:
        return f'BackboneLevels({self.type_name!r}, names={self.names}, strides={self.strides})'


_DESCRIBED: Dict[str, BackboneLevels] = {}


def register_levels(levels: BackboneLevels) -> BackboneLevels:
    """Make ``levels`` known to the head under its type name; returns it."""
    _DESCRIBED[levels.type_name] = levels
    return levels


def backbone_levels(type_name: Union[str, BackboneLevels]) -> BackboneLevels:
    """The registered description of the backbone type ``type_name`` (a description
    is returned as it is).

    Raises:
        ValueError: naming the described types, if ``type_name`` is none of them.
    """
    if isinstance(type_name, BackboneLevels):
        return type_name
    levels: Optional[BackboneLevels] = _DESCRIBED.get(type_name)
    if levels is None:
        raise ValueError(
            f'backbone_type={type_name!r} is no described backbone; use one of '
            f'{tuple(_DESCRIBED)} or register its BackboneLevels (register_levels)'
        )
    return levels


def check_pad_mode(pad_mode: str) -> None:
    """Raise a ``ValueError`` naming the pad modes if ``pad_mode`` is none of them."""
    if pad_mode not in PAD_MODES:
        raise ValueError(
            f'pad_mode={pad_mode!r} is not supported; use one of '
            f"{PAD_MODES} (the backbone's pad mode)"
        )
