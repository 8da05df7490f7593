"""Compatibility of a checkpoint's state dict with a model: one decision for every tool.

mmengine loads ``load_from`` key by key and non-strictly: weights that do not fit
are skipped with a warning and stay at their initialisation. The functions here
decide before anything is loaded, from the keys and shapes alone, and name the fix
when the checkpoint is refused:

- exact: every key and shape of the model, nothing else (what testing and
  inference need: :func:`check_exact_match`, :func:`verify_checkpoint`,
  :func:`load_exact`);
- staged: a coarser FCN variant into a finer one (FCN-32s -> 16s -> 8s, the
  paper's training): the new skip levels start at zero (``FCNSkipHead``'s
  ``zero_new_levels``), so the net starts from the loaded one's predictions;
- new classes: another class count (fine-tuning on other data): the score
  layers are initialised afresh, everything else is loaded;
- widened input: a colour (3-channel) checkpoint into a backbone built for more
  input channels (colour plus depth or HHA): the backbone widens its first
  convolution when loading (``FullyConvBackbone``), the extra channels' filters
  starting as the mean of the colour filters;
- refused: another backbone (depth or width), weights of a published layout that
  need a converter, bare backbone weights, or a finer variant into a coarser one,
  which would drop trained layers unless the config says so
  (``load_from_drop_layers = True``).

:func:`check_compatible` allows staged and new classes (``tools/train.py``'s
``load_from``); :func:`check_load_from` also reads the file and logs what is
loaded and what is newly initialised. The FCN variants are named by the strides
of the skip levels each state dict holds (``skip_scores.stride<s>``).
"""

import math
import re
from typing import Dict, FrozenSet, List, Mapping, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmseg.models.decode_heads.decode_head import BaseDecodeHead

from ..models.decode_heads import FCNSkipHead
from ..models.fusion_plan import variant_name
from .layouts import CAFFE_FCN, CAFFE_VGG, CONVERTERS, TORCHVISION_VGG, weights_layout
from .reader import MAX_LISTED_KEYS, CheckpointError, PathLike, read_checkpoint, read_state_dict
from .released import check_released_net

Shapes = Dict[str, Tuple[int, ...]]
#: The top-level config key that lets ``load_from`` drop trained layers.
DROP_LAYERS_KEY = 'load_from_drop_layers'
#: The kinds of compatibility besides an exact match.
STAGED = 'staged'
NEW_CLASSES = 'new classes'
DROPPED = 'dropped layers'
WIDENED = 'widened input'
_LEVEL_LAYER = re.compile(r'(skip_scores|fuse_upsamples)\.stride(\d+)')
_HEAD_LAYERS = ('conv_seg', 'skip_scores', 'fuse_upsamples', 'final_upsample')
#: The class score layer of every mmseg decode head, relative to the head.
_CLASS_SCORES = 'conv_seg.weight'
#: The deepest level's stride where the model has no skip head to tell it.
_DEEPEST_STRIDE = 32


class Compatibility(NamedTuple):
    """How a checkpoint's state dict loads into a model.

    Attributes:
        kinds (tuple[str]): Empty for an exact match, else some of ``STAGED``,
            ``NEW_CLASSES``, ``DROPPED``, ``WIDENED``.
        description (str): What the checkpoint is against the model, e.g.
            ``'FCN-16s into FCN-8s; 5 -> 7 classes'``.
        loaded (list[str]): Model keys the checkpoint fills.
        initialised (dict[str, str]): Model layers that keep their
            initialisation, with the reason.
        dropped (dict[str, str]): Checkpoint layers left out, with the reason.
    """

    kinds: Tuple[str, ...]
    description: str
    loaded: List[str]
    initialised: Dict[str, str]
    dropped: Dict[str, str]

    def summary(self, path: PathLike) -> str:
        """The log lines: what was loaded and what was newly initialised, and why."""
        if not self.kinds:
            return (
                f'load_from {path} fits the model exactly: all {len(self.loaded)} '
                'tensors are loaded from it'
            )
        lines = [
            f'load_from {path}: {self.description}',
            f'  loaded from it: {_layer_listing(self.loaded)}',
        ]
        if self.initialised:
            lines.append(
                '  newly initialised: '
                + ', '.join(f'{layer} ({why})' for layer, why in self.initialised.items())
            )
        if self.dropped:
            lines.append(
                f'  dropped from the checkpoint ({DROP_LAYERS_KEY}=True): '
                + ', '.join(f'{layer} ({why})' for layer, why in self.dropped.items())
            )
        return '\n'.join(lines)


def check_exact_match(
    model: nn.Module, state_dict: Mapping[str, torch.Tensor], path: PathLike
) -> Compatibility:
    """Raise unless ``state_dict`` fits ``model`` exactly (keys and shapes).

    ``model`` may be wrapped (DDP, TTA). The message first says what the
    checkpoint looks like when it recognises it (another FCN variant or class
    count, torchvision or Caffe weights needing a converter, bare backbone
    weights), then lists the shapes that differ and the keys only one side has.

    Raises:
        CheckpointError: if any key is missing, unexpected or of another shape.
    """
    return _compare(model, state_dict, path, exact=True, drop_layers=False)


def check_compatible(
    model: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    path: PathLike,
    drop_layers: bool = False,
) -> Compatibility:
    """How ``state_dict`` fits ``model`` as ``load_from`` of a training.

    Accepted: an exact match, a coarser FCN variant (its skip levels are the
    deepest of the model's), another class count (score layers start afresh),
    a colour checkpoint into a backbone for more input channels (its first
    convolution widened), and these at once; with ``drop_layers`` also a finer variant (its extra skip
    levels are left out).

    Raises:
        CheckpointError: for any other mismatch, with what the checkpoint is and
            the fix.
    """
    return _compare(model, state_dict, path, exact=False, drop_layers=drop_layers)


def check_load_from(
    model: nn.Module, path: PathLike, exact: bool = False, drop_layers: bool = False
) -> Compatibility:
    """Check the ``load_from`` file and how it fits ``model``; log the summary.

    Cheap: the tensors are memory-mapped, not read.

    Args:
        model: The model built from the config (may be wrapped).
        path: The checkpoint file.
        exact: Require an exact match (resuming), else see :func:`check_compatible`.
        drop_layers: Allow a finer variant (the config's ``DROP_LAYERS_KEY``).

    Raises:
        CheckpointError: if the file is damaged or its weights do not fit.
    """
    state_dict = read_state_dict(path)
    compatibility = (
        check_exact_match(model, state_dict, path)
        if exact
        else check_compatible(model, state_dict, path, drop_layers)
    )
    print_log(compatibility.summary(path), logger='current')
    return compatibility


def verify_checkpoint(model: nn.Module, path: PathLike) -> None:
    """Check that ``path`` is intact and its weights fit ``model`` exactly.

    Cheap: the tensors are memory-mapped, not read. A converted released net
    must meet a model built as that net (``released.check_released_net``).

    Raises:
        CheckpointError: see ``reader.check_checkpoint_file``,
            ``released.check_released_net`` and :func:`check_exact_match`.
    """
    state_dict, meta = read_checkpoint(path)
    check_released_net(model, meta, path)
    check_exact_match(model, state_dict, path)


def load_exact(model: nn.Module, path: PathLike) -> dict:
    """Load the checkpoint ``path`` into ``model``, which it must fit exactly (and,
    for a converted released net, be built as that net).

    Returns:
        dict: The checkpoint's ``meta`` (empty for a plain state dict).

    Raises:
        CheckpointError: see ``reader.read_checkpoint``,
            ``released.check_released_net`` and :func:`check_exact_match`.
    """
    state_dict, meta = read_checkpoint(path)
    check_released_net(model, meta, path)
    check_exact_match(model, state_dict, path)
    model.load_state_dict(state_dict)
    return meta


class _Heads:
    """The model's decode heads by prefix, and how keys belong to them.

    ``heads`` are its ``FCNSkipHead`` modules (their skip levels and upsamplings
    are compared by level), ``class_heads`` the prefixes of every mmseg decode
    head (their ``conv_seg`` scores the classes).
    """

    def __init__(self, model: nn.Module) -> None:
        modules = list(model.named_modules())
        self.heads = {
            f'{name}.': module for name, module in modules if isinstance(module, FCNSkipHead)
        }
        self.class_heads = [
            f'{name}.' for name, module in modules if isinstance(module, BaseDecodeHead)
        ]
        deepest = [head.in_strides[-1] for head in self.heads.values()]
        self.deepest_stride = deepest[0] if deepest else _DEEPEST_STRIDE
        backbone = getattr(model, 'backbone', None)
        self.vgg = type(backbone).__name__ == 'FullyConvVGG'

    def part(self, key: str) -> Optional[str]:
        """The key relative to its skip head, or None if it is in none."""
        for prefix in self.heads:
            if key.startswith(prefix):
                return key[len(prefix) :]
        return None

    def is_class_layer(self, key: str) -> bool:
        """Whether the key's tensor has one entry per class (a score layer)."""
        part = self.part(key)
        if part is not None:
            return part.split('.')[0] in _HEAD_LAYERS
        return any(
            key in (prefix + 'conv_seg.weight', prefix + 'conv_seg.bias')
            for prefix in self.class_heads
        )

    def level(self, key: str) -> Optional[Tuple[str, int]]:
        """``(layer kind, stride)`` of a skip score or fusion upsampling key."""
        part = self.part(key)
        match = _LEVEL_LAYER.match(part) if part is not None else None
        return (match.group(1), int(match.group(2))) if match else None

    def level_label(self, stride: int) -> str:
        if self.vgg and stride in (2, 4, 8, 16):
            return f'pool{int(math.log2(stride))} (stride {stride})'
        return f'the stride {stride} level'

    def zero_start(self, key: str, found: Shapes, expected: Shapes) -> str:
        """``', starts at zero ...'`` where the head of ``key`` zeroes a new skip level:
        it has ``zero_new_levels`` and the checkpoint holds its ``conv_seg`` as it is."""
        for prefix, head in self.heads.items():
            deepest = prefix + _CLASS_SCORES
            if (
                key.startswith(prefix)
                and head.zero_new_levels
                and deepest in found
                and found[deepest] == expected.get(deepest)
            ):
                return ", starts at zero: the net starts from the loaded net's predictions"
        return ''

    def skip_strides(self, shapes: Shapes) -> FrozenSet[int]:
        """Strides of the skip levels whose score layers ``shapes`` holds."""
        levels = (self.level(key) for key in shapes)
        return frozenset(level[1] for level in levels if level and level[0] == 'skip_scores')

    def variant(self, shapes: Shapes) -> str:
        """The FCN variant a state dict's skip levels make, e.g. ``'FCN-8s'``."""
        return variant_name(sorted(self.skip_strides(shapes)) + [self.deepest_stride])

    def class_counts(self, found: Shapes, expected: Shapes) -> Optional[Tuple[int, int]]:
        """(checkpoint, config) class counts of the first head both have, if they differ."""
        for prefix in self.class_heads:
            key = prefix + _CLASS_SCORES
            if key in found and key in expected:
                counts = found[key][0], expected[key][0]
                return counts if counts[0] != counts[1] else None
        return None

    def has_class_scores(self, shapes: Shapes) -> bool:
        """Whether ``shapes`` holds the class scores of one of the model's heads."""
        return any(prefix + _CLASS_SCORES in shapes for prefix in self.class_heads)


def _compare(
    model: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    path: PathLike,
    exact: bool,
    drop_layers: bool,
) -> Compatibility:
    model = _bare_model(model)
    heads = _Heads(model)
    found = _shapes(state_dict)
    expected = _shapes(model.state_dict())
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    differing = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])
    variant = (heads.variant(found), heads.variant(expected))
    classes = heads.class_counts(found, expected)
    if not (missing or unexpected or differing):
        return Compatibility((), 'exact', sorted(expected), {}, {})
    if exact:
        _refuse(
            path,
            _diagnose(found, expected, str(path), heads),
            found,
            expected,
            differing,
            missing,
            unexpected,
        )
    foreign = _foreign_layout(found, expected, str(path))
    if foreign:
        _refuse(path, [foreign], found, expected, differing, missing, unexpected)

    initialised: Dict[str, str] = {}
    dropped: Dict[str, str] = {}
    bad_differing, bad_missing, bad_unexpected, finer, widened = [], [], [], [], []
    first_conv = _first_conv_key(model)
    found_layers = {_layer(key) for key in found}
    expected_layers = {_layer(key) for key in expected}
    for key in differing:
        if classes and heads.is_class_layer(key):
            initialised[_layer(key)] = f'{classes[0]} -> {classes[1]} classes'
        elif heads.part(key) == 'final_upsample.weight' and variant[0] != variant[1]:
            initialised[_layer(key)] = (
                f'upsamples x{expected[key][-1] // 2} in the {variant[1]}, x'
                f'{found[key][-1] // 2} in the {variant[0]}: starts bilinear'
            )
        elif key == first_conv and _widens(found[key], expected[key]):
            widened.append(key)
        else:
            bad_differing.append(key)
    for key in missing:
        level = heads.level(key)
        if level and _layer(key) not in found_layers:
            kind, stride = level
            initialised[_layer(key)] = (
                f'new skip level {heads.level_label(stride)}'
                + heads.zero_start(key, found, expected)
                if kind == 'skip_scores'
                else f'new fusion from stride {stride}'
            )
        elif not key.endswith('num_batches_tracked'):
            bad_missing.append(key)
    for key in unexpected:
        level = heads.level(key)
        if level and _layer(key) not in expected_layers:
            kind, stride = level
            why = (
                f'skip level {heads.level_label(stride)}'
                if kind == 'skip_scores'
                else f'fusion from stride {stride}'
            ) + ' the config does not build'
            if drop_layers:
                dropped[_layer(key)] = why
            else:
                finer.append((_layer(key), why))
        else:
            bad_unexpected.append(key)
    lines = []
    if bad_differing or bad_missing or bad_unexpected:
        lines.append(_backbone_hint(bad_differing + bad_missing + bad_unexpected))
    if finer:
        layers = ', '.join(f'{layer} ({why})' for layer, why in dict(finer).items())
        lines.append(
            f'The checkpoint is an {variant[0]} but the config builds an {variant[1]}: '
            f'loading it would drop its trained layers {layers}. Use a config that '
            f'builds an {variant[0]}, or set {DROP_LAYERS_KEY} = True in the config '
            f'(--cfg-options {DROP_LAYERS_KEY}=True) to drop them on purpose.'
        )
    if lines:
        _refuse(
            path,
            lines,
            found,
            expected,
            bad_differing,
            bad_missing,
            bad_unexpected + [k for k in unexpected if _layer(k) in dict(finer)],
        )
    kinds, parts = [], []
    if variant[0] != variant[1] and not dropped:
        kinds.append(STAGED)
        parts.append(f'{variant[0]} into {variant[1]} (staged)')
    if dropped:
        kinds.append(DROPPED)
        parts.append(f'{variant[0]} into {variant[1]}, its extra layers dropped')
    if classes:
        kinds.append(NEW_CLASSES)
        parts.append(f'{classes[0]} -> {classes[1]} classes')
    if widened:
        kinds.append(WIDENED)
        parts.append(
            f'{_layer(first_conv)} widened from 3 to {expected[first_conv][1]} input '
            'channels (the extra ones start as the mean of the colour filters)'
        )
    if not kinds:  # e.g. only BN batch counters missing
        parts.append('the same model, some buffers missing')
    loaded = sorted(k for k in expected if k in found and (expected[k] == found[k] or k in widened))
    return Compatibility(tuple(kinds), '; '.join(parts), loaded, initialised, dropped)


def _first_conv_key(model: nn.Module) -> Optional[str]:
    """The model key of its backbone's first convolution weight, if the backbone
    widens it when loading (``first_conv_key``)."""
    key = getattr(getattr(model, 'backbone', None), 'first_conv_key', None)
    return f'backbone.{key}' if key else None


def _widens(found: Tuple[int, ...], expected: Tuple[int, ...]) -> bool:
    """Whether a first convolution of shape ``found`` is widened to ``expected``: 3
    input channels to more, the other sizes equal."""
    return (
        len(found) == len(expected) == 4
        and found[1] == 3
        and expected[1] > 3
        and (found[0], *found[2:]) == (expected[0], *expected[2:])
    )


def _refuse(
    path: PathLike,
    lines: List[str],
    found: Shapes,
    expected: Shapes,
    differing: List[str],
    missing: List[str],
    unexpected: List[str],
) -> None:
    lines = [f'checkpoint {path} does not fit the model built from the config.'] + lines
    if differing:
        lines.append(
            'Shapes that differ (checkpoint vs model): '
            + _listing([f'{k} {found[k]} vs {expected[k]}' for k in differing])
        )
    if missing:
        lines.append('Keys the checkpoint lacks: ' + _listing(missing))
    if unexpected:
        lines.append('Keys the model lacks: ' + _listing(unexpected))
    raise CheckpointError('\n'.join(lines))


def _backbone_hint(keys: List[str]) -> str:
    backbone = [k for k in keys if k.startswith('backbone.')]
    if backbone:
        return (
            "Its backbone is not the config's (another depth or width): only "
            'the score layers may differ for fine-tuning or staged training; use '
            "a config with the checkpoint's backbone (model.backbone depth, "
            'base_channels, fc_channels, norm_cfg) or start from ImageNet weights '
            "(model.backbone.init_cfg=dict(type='Pretrained', checkpoint=...))."
        )
    return (
        "Its layers outside the backbone differ from the model's beyond the "
        "score layers (another head); use a checkpoint of this config's model."
    )


def _diagnose(found: Shapes, expected: Shapes, path: str, heads: _Heads) -> List[str]:
    """Plain-words explanations of recognised mismatches (exact match wanted)."""
    foreign = _foreign_layout(found, expected, path)
    if foreign:
        return [foreign]
    lines = []
    found_skips, expected_skips = heads.skip_strides(found), heads.skip_strides(expected)
    if found_skips != expected_skips and heads.has_class_scores(found):
        variant = heads.variant(found)
        lines.append(
            f'The checkpoint is an {variant} ({len(found_skips)} skip '
            f'levels) but the config builds an {heads.variant(expected)} '
            f'({len(expected_skips)}); use a config that builds an '
            f'{variant} (its decode_head.in_channels/in_index and '
            'backbone.out_indices list one level more per skip, as in '
            'configs/fcn_skip/fcn{32s,16s,8s}_vgg16_4xb4-40k_voc12aug-512x512.py) or a '
            'checkpoint of this config.'
        )
    classes = heads.class_counts(found, expected)
    if classes:
        lines.append(
            f'The checkpoint predicts {classes[0]} classes but the config has '
            f'num_classes={classes[1]}; set model.decode_head.num_classes='
            f'{classes[0]} with a {classes[0]}-class dataset, or, to fine-tune '
            f'on {classes[1]} classes, train from it with tools/train.py '
            f"--cfg-options load_from='{path}' (the score layers start afresh)."
        )
    return lines


def _foreign_layout(found: Shapes, expected: Shapes, path: str) -> Optional[str]:
    """Explain a state dict of another layout (needs a converter), if it is one."""
    layout = weights_layout(found)
    if layout == TORCHVISION_VGG:
        return (
            f'It is a torchvision VGG state dict: convert it with '
            f'{CONVERTERS[TORCHVISION_VGG]} and train from the result as '
            "model.backbone.init_cfg=dict(type='Pretrained', checkpoint=...)."
        )
    if layout == CAFFE_FCN:
        return (
            f'It is a Caffe FCN state dict: convert it with '
            f'{CONVERTERS[CAFFE_FCN]} (matching the FCN variant of the config).'
        )
    if layout == CAFFE_VGG:
        return (
            f'It is a Caffe VGG state dict: convert it with '
            f'{CONVERTERS[CAFFE_VGG]} and train from the result as '
            "model.backbone.init_cfg=dict(type='Pretrained', checkpoint=...)."
        )
    if found and all(f'backbone.{key}' in expected for key in found):
        return (
            'It holds backbone weights only (as the VGG converters write): '
            f"train from them with model.backbone.init_cfg=dict(type='Pretrained',"
            f" checkpoint='{path}'); testing and resuming need a checkpoint of "
            'the whole segmentor.'
        )
    return None


def _layer(key: str) -> str:
    return key.rsplit('.', 1)[0]


def _layer_listing(keys: List[str]) -> str:
    """Backbone (and other modules) as tensor counts, head layers by name."""
    counts: Dict[str, int] = {}
    layers: Dict[str, None] = {}
    for key in keys:
        top = key.split('.')[0]
        if top.endswith('head'):
            layers[_layer(key)] = None
        else:
            counts[top] = counts.get(top, 0) + 1
    return ', '.join([f'{top} ({count} tensors)' for top, count in counts.items()] + list(layers))


def _bare_model(model: nn.Module) -> nn.Module:
    """The segmentor inside DDP and TTA wrappers."""
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def _shapes(state_dict: Mapping[str, torch.Tensor]) -> Shapes:
    return {key: tuple(value.shape) for key, value in state_dict.items()}


def _listing(items: List[str]) -> str:
    rest = len(items) - MAX_LISTED_KEYS
    return ', '.join(items[:MAX_LISTED_KEYS]) + (f' and {rest} more' if rest > 0 else '')
