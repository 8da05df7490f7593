"""Where a network's maps lie on its input, measured from input gradients.

For a map pixel ``p`` (the same index along rows and columns) the gradient of a random
projection of its channels with respect to the input shows which input pixels it sees.
The centre of mass of ``|gradient|`` along each axis is where the pixel lies. The
weights of a randomly initialised net are as likely mirrored as not, so averaged over
initialisations, positions and both axes, the centre of mass is the pixel's centre on
the input: ``stride * p + offset`` for a backbone level, ``p`` for the logits of an
aligned segmentor. Probed pixels sit near the middle of the input, so that the
receptive field is cut by the borders about equally on both sides.

``probe_level_grids`` gives the offset of each backbone level (what ``FCNSkipHead``'s
``in_grids`` takes); ``probe_mean_shift`` the displacement of a backbone and head's
logits from the pixels they score (0 when aligned).
"""

import logging
import math
from fractions import Fraction
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import revert_sync_batchnorm
from mmseg.registry import MODELS
from torch import Tensor

from mmseg_fcn_skip.models.geometry import GRID_NAMES, named_grid

#: A module to probe: its registry config, or a function that builds it.
ModuleSource = Union[dict, Callable[[], nn.Module]]


class LevelGrid(NamedTuple):
    """Measured grid of one backbone level along both axes.

    Attributes:
        stride: Input pixels per level pixel (the power of two nearest input / level).
        offset: Mean measured centre of pixel 0, in input pixels.
        spread: Standard deviation of the single measurements behind ``offset``.
        name: ``'centre'`` or ``'corner'`` where ``offset`` is within a quarter of the
            stride of that grid's offset (and nearer to it than to the other), else None.
    """

    stride: int
    offset: float
    spread: float
    name: Union[str, None]


def probe_level_grids(
    backbone: ModuleSource,
    size: int = 192,
    seeds: Sequence[int] = (0, 1, 2),
    batch: int = 4,
    power: int = 1,
    strides: Optional[Sequence[int]] = None,
) -> List[LevelGrid]:
    """Measure the grid of every output of a backbone.

    Args:
        backbone: A model config dict (built with mmseg's registry) or a function that
            builds the backbone; built afresh, randomly initialised, per seed.
        size: Side of the square random input. The deepest level should have at
            least 4 pixels along it.
        seeds: One initialisation per seed (also seeds the inputs and projections).
        batch: Images per seed, an even number; each probes another pixel of the
            middle half of each level, in pairs symmetric about its middle.
        power: Weigh input pixels by ``|gradient| ** power`` (see
            ``probe_mean_shift``). Default: 1.
        strides: Stride of each output; by default the power of two nearest to input
            size / level size (give them for levels of padded nets, e.g.
            ``FullyConvVGG(pad_mode='caffe')``).

    Returns:
        One ``LevelGrid`` per output, in the backbone's output order.
    """
    samples: List[List[Tuple[int, float]]] = []
    level_strides: List[int] = []
    _check_batch(batch)
    for seed in seeds:
        model = _build(backbone, seed)
        image = torch.randn(batch, 3, size, size, requires_grad=True)
        with torch.enable_grad():
            outputs = model(image)
        outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
        if not samples:
            samples = [[] for _ in outputs]
            level_strides = (
                list(strides)
                if strides is not None
                else [_stride(size, level.shape[-2]) for level in outputs]
            )
            if len(level_strides) != len(outputs):
                raise ValueError(
                    f'strides={tuple(strides)!r} needs one stride per '
                    f'output of the backbone ({len(outputs)})'
                )
        for k, level in enumerate(outputs):
            positions = _symmetric_positions(level.shape[-2], batch)
            centres = _centres(image, level, positions, retain=k < len(outputs) - 1, power=power)
            samples[k] += list(zip(positions * 2, centres))
    return [
        _level_grid(stride, values, (size - 1) / 2)
        for stride, values in zip(level_strides, samples)
    ]


def probe_mean_shift(
    backbone: ModuleSource,
    head: ModuleSource,
    size: int = 160,
    seeds: Sequence[int] = (0, 1, 2),
    batch: int = 4,
    power: int = 1,
) -> Tuple[float, float]:
    """Mean displacement of a backbone and decode head's logits from their pixels.

    The head's conv weights are drawn anew (normal, std 0.01; zero-initialised score
    layers would see nothing); its fixed upsampling stays. The logits are taken as the
    head gives them to the metrics (``predict_by_feat``: cropped or resized to the
    input). For logit pixel ``(i, i)`` the shift is the centre of mass of
    ``|d logit / d input|`` along rows (and columns) minus ``i``; positive is down
    (right).

    Args:
        backbone, head: Config dicts (built with mmseg's registry) or functions that
            build the modules; built afresh per seed.
        size: Side of the square random input.
        seeds: One initialisation (and input) per seed.
        batch: Images per seed, an even number: pairs of positions symmetric about
            the middle of the input, spread over its middle half.
        power: Weigh the input pixels by ``|gradient| ** power``: 1 is the plain centre
            of mass; 2 (the energy) weighs the peak more than a spread over the
            whole input (attention at initialisation), and is steadier for
            attention backbones.

    Returns:
        ``(mean shift, its standard error)`` in pixels, the error from the spread of
        the means of symmetric pairs.
    """
    _check_batch(batch)
    shifts: List[float] = []
    for seed in seeds:
        model_backbone = _build(backbone, seed)
        model_head = _build(head, seed + 1000)
        for module in model_head.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(module.weight, std=0.01)
        model_head.eval()
        image = torch.randn(batch, 3, size, size, requires_grad=True)
        logits = model_head.forward(model_backbone(image))
        metas = [dict(img_shape=(size, size), pad_shape=(size, size))] * batch
        logits = model_head.predict_by_feat(logits, metas)
        positions = _symmetric_positions(size, batch)
        centres = _centres(image, logits, positions, power=power)
        shifts += [c - p for c, p in zip(centres, positions * 2)]
    # Symmetric pairs: their mean cancels a pull towards the middle; its spread is
    # the noise of the measurement.
    pairs = [(a + b) / 2 for a, b in zip(shifts[0::2], shifts[1::2])]
    mean = sum(pairs) / len(pairs)
    return mean, _std(pairs, mean) / len(pairs) ** 0.5


def config_value(grids: Sequence[LevelGrid]) -> Union[str, Tuple[Fraction, ...]]:
    """What to give ``FCNSkipHead(in_grids=...)`` for these levels: a grid name when
    every level has it, else each level's offset to the nearest half pixel."""
    names = {grid.name for grid in grids}
    if len(names) == 1 and None not in names:
        return names.pop()
    return tuple(Fraction(round(2 * grid.offset), 2) for grid in grids)


def _build(source: ModuleSource, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    if isinstance(source, dict):
        model = revert_sync_batchnorm(MODELS.build(dict(source)))
        if hasattr(model, 'init_weights'):
            _quiet_init(model)
    elif callable(source):
        model = source()
    else:
        raise ValueError(
            f'model {source!r} must be a config dict or a function that builds the model'
        )
    model.eval()
    return model


def _check_batch(batch: int) -> None:
    if not isinstance(batch, int) or batch < 2 or batch % 2:
        raise ValueError(
            f'batch={batch!r} must be an even number of 2 or more: the '
            'probed positions come in symmetric pairs'
        )


def _quiet_init(model: nn.Module) -> None:
    """The model's own ``init_weights`` (as at the start of training), without its
    report of every parameter."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)


def _stride(size: int, length: int) -> int:
    if length < 1:
        raise ValueError(f'a level of size {length} for an input of {size}: use a larger size')
    return 2 ** round(math.log2(size / length))


def _symmetric_positions(length: int, count: int) -> List[int]:
    """``count`` positions spread over the middle half of ``0..length-1``, in pairs
    symmetric about its middle (so that a pull towards the middle cancels in their
    mean, and positions fall at every phase of a coarse level or an attention
    window)."""
    last = length - 1
    pairs = max(count // 2, 1)
    start, end = last / 4, last / 2
    positions = []
    for k in range(count):
        low = int(start + (end - start) * (k // 2) / pairs)
        positions.append(low if k % 2 == 0 else last - low)
    return positions


def _centres(
    image: Tensor, output: Tensor, positions: Sequence[int], retain: bool = False, power: int = 1
) -> List[float]:
    """Centre of mass along rows (one per image), then along columns, of the
    ``|gradient|`` of a random projection of ``output[b, :, p_b, p_b]``."""
    batch, channels = output.shape[:2]
    index = torch.arange(batch)
    rows = torch.tensor(positions)
    picked = output[index, :, rows, rows]  # (batch, channels)
    projection = torch.randn(batch, channels)
    (grad,) = torch.autograd.grad((picked * projection).sum(), image, retain_graph=retain)
    magnitude = grad.double().abs().pow(power).sum(1)  # (batch, H, W)
    centres = []
    for profile in (magnitude.sum(2), magnitude.sum(1)):
        coords = torch.arange(profile.shape[1], dtype=torch.float64)
        centres.append((profile * coords).sum(1) / profile.sum(1).clamp_min(1e-300))
    return torch.cat(centres).tolist()


def _level_grid(stride: int, samples: List[Tuple[int, float]], middle: float) -> LevelGrid:
    """Offset from centres of mass ``(position, centre)``: the line through them has
    slope ``stride * (1 - pull)`` where the receptive field is cut by the borders or
    spread over the whole input (pulled towards the ``middle`` of the input); the pull
    is undone before reading the offset at position 0."""
    positions = [float(p) for p, _ in samples]
    centres = [c for _, c in samples]
    mean_p = sum(positions) / len(positions)
    mean_c = sum(centres) / len(centres)
    var_p = sum((p - mean_p) ** 2 for p in positions)
    pull = 0.0
    if var_p > 0:
        covariance = sum((p - mean_p) * (c - mean_c) for p, c in zip(positions, centres))
        slope = covariance / var_p
        pull = min(max(1 - slope / stride, 0.0), 0.9)
    # centre = (1 - pull) * (stride * p + offset) + pull * middle
    values = [(c - pull * middle) / (1 - pull) - stride * p for p, c in samples]
    mean = sum(values) / len(values)
    distances = {name: abs(mean - float(named_grid(name, stride).offset)) for name in GRID_NAMES}
    nearest = min(distances, key=distances.get)
    name = nearest if distances[nearest] <= stride / 4 else None
    return LevelGrid(stride, mean, _std(values, mean), name)


def _std(values: Sequence[float], mean: float) -> float:
    return (sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1)) ** 0.5
