"""Whether and how a checkpoint's weights fit a model: one decision for every tool.

mmengine loads ``load_from`` key by key and non-strictly: weights that do not fit
are skipped with a warning and stay at their initialisation. The functions here
decide before anything is loaded, from the keys and shapes alone, and name the fix
when the checkpoint is refused:

- exact: every key and shape of the model, nothing else (what testing and
  inference need: :func:`check_exact_fit`, :func:`verify_checkpoint`);
- staged: a coarser FCN variant into a finer one (FCN-32s -> 16s -> 8s, the
  paper's training): the new skip levels keep their initialisation;
- new classes: another class count (fine-tuning on other data): the score
  layers are initialised afresh, everything else is loaded;
- refused: another backbone (depth or width), weights of a published layout that
  need a converter, bare backbone weights, or a finer variant into a coarser one,
  which would drop trained layers unless the config says so
  (``load_from_drop_layers = True``).

:func:`check_fit` allows staged and new classes (``tools/train.py``'s
``load_from``); :func:`check_load_from` also reads the file and logs what is
loaded and what is newly initialised. Old checkpoints whose skip layers are
named by position are compared under their level names, as the head maps them
when it loads them (see ``models.decode_heads.level_names``).
"""

import math
import re
from typing import Dict, List, Mapping, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper

from ..models.decode_heads import FCNSkipHead
from ..models.decode_heads.level_names import positional_renames
from .layouts import CAFFE_FCN, CAFFE_VGG, TORCHVISION_VGG, weights_layout
from .reader import (
    CAFFE_FCN_CONVERTER,
    CAFFE_VGG_CONVERTER,
    MAX_LISTED_KEYS,
    TORCHVISION_VGG_CONVERTER,
    CheckpointError,
    PathLike,
    read_checkpoint,
    read_state_dict,
)
from .released import check_released_net

Shapes = Dict[str, Tuple[int, ...]]
#: The top-level config key that lets ``load_from`` drop trained layers.
DROP_LAYERS_KEY = 'load_from_drop_layers'
#: The kinds of fit besides an exact one.
STAGED = 'staged'
NEW_CLASSES = 'new classes'
DROPPED = 'dropped layers'
_SKIP_SCORE_KEY = re.compile(r'decode_head\.skip_scores\.(\w+)\.weight')
_LEVEL_LAYER = re.compile(r'(skip_scores|fuse_upsamples)\.stride(\d+)')
_HEAD_LAYERS = ('conv_seg', 'skip_scores', 'fuse_upsamples', 'final_upsample')


class Fit(NamedTuple):
    """How a checkpoint fits a model.

    Attributes:
        kinds (tuple[str]): Empty for an exact fit, else some of ``STAGED``,
            ``NEW_CLASSES``, ``DROPPED``.
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


def check_exact_fit(
    model: nn.Module, state_dict: Mapping[str, torch.Tensor], path: PathLike
) -> Fit:
    """Raise unless ``state_dict`` fits ``model`` exactly (keys and shapes).

    ``model`` may be wrapped (DDP, TTA). Positional skip-layer names of older
    checkpoints count under their level names. The message first says what the
    checkpoint looks like when it recognises it (another FCN variant or class
    count, torchvision or Caffe weights needing a converter, bare backbone
    weights), then lists the shapes that differ and the keys only one side has.

    Raises:
        CheckpointError: if any key is missing, unexpected or of another shape.
    """
    return _fit(model, state_dict, path, exact=True, drop_layers=False)


def check_fit(
    model: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    path: PathLike,
    drop_layers: bool = False,
) -> Fit:
    """How ``state_dict`` fits ``model`` as ``load_from`` of a training.

    Accepted: an exact fit, a coarser FCN variant (its skip levels are the
    deepest of the model's), another class count (score layers start afresh),
    and both at once; with ``drop_layers`` also a finer variant (its extra skip
    levels are left out).

    Raises:
        CheckpointError: for any other mismatch, with what the checkpoint is and
            the fix.
    """
    return _fit(model, state_dict, path, exact=False, drop_layers=drop_layers)


def check_load_from(
    model: nn.Module, path: PathLike, exact: bool = False, drop_layers: bool = False
) -> Fit:
    """Check the ``load_from`` file and how it fits ``model``; log the summary.

    Cheap: the tensors are memory-mapped, not read.

    Args:
        model: The model built from the config (may be wrapped).
        path: The checkpoint file.
        exact: Require an exact fit (resuming), else see :func:`check_fit`.
        drop_layers: Allow a finer variant (the config's ``DROP_LAYERS_KEY``).

    Raises:
        CheckpointError: if the file is damaged or its weights do not fit.
    """
    state_dict = read_state_dict(path)
    fit = (
        check_exact_fit(model, state_dict, path)
        if exact
        else check_fit(model, state_dict, path, drop_layers)
    )
    print_log(fit.summary(path), logger='current')
    return fit


def verify_checkpoint(model: nn.Module, path: PathLike) -> None:
    """Check that ``path`` is intact and its weights fit ``model`` exactly.

    Cheap: the tensors are memory-mapped, not read. A converted released net
    must meet a model built as that net (``released.check_released_net``).

    Raises:
        CheckpointError: see ``reader.check_checkpoint_file``,
            ``released.check_released_net`` and :func:`check_exact_fit`.
    """
    state_dict, meta = read_checkpoint(path)
    check_released_net(model, meta, path)
    check_exact_fit(model, state_dict, path)


class _Heads:
    """The model's ``FCNSkipHead`` modules by prefix, and how keys belong to them."""

    def __init__(self, model: nn.Module) -> None:
        self.heads = {
            f'{name}.': module
            for name, module in model.named_modules()
            if isinstance(module, FCNSkipHead)
        }
        backbone = getattr(model, 'backbone', None)
        self.vgg = type(backbone).__name__ == 'FullyConvVGG'

    def renames(self, keys: List[str]) -> Dict[str, str]:
        renames = {}
        for prefix, head in self.heads.items():
            renames.update(positional_renames(keys, prefix, head.in_strides))
        return renames

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
        return bool(re.search(r'(^|\.)conv_seg\.(weight|bias)$', key))

    def level(self, key: str) -> Optional[Tuple[str, int]]:
        """``(layer kind, stride)`` of a skip score or fusion upsampling key."""
        part = self.part(key)
        match = _LEVEL_LAYER.match(part) if part is not None else None
        return (match.group(1), int(match.group(2))) if match else None

    def level_label(self, stride: int) -> str:
        if self.vgg and stride in (2, 4, 8, 16):
            return f'pool{int(math.log2(stride))} (stride {stride})'
        return f'the stride {stride} level'


def _fit(
    model: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    path: PathLike,
    exact: bool,
    drop_layers: bool,
) -> Fit:
    model = _bare_model(model)
    heads = _Heads(model)
    renames = heads.renames(list(state_dict))
    found = {renames.get(key, key): tuple(value.shape) for key, value in state_dict.items()}
    expected = _shapes(model.state_dict())
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    differing = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])
    variant = (_variant(_skip_levels(found)), _variant(_skip_levels(expected)))
    classes = _class_counts(found, expected)
    if not (missing or unexpected or differing):
        return Fit((), 'exact', sorted(expected), {}, {})
    if exact:
        _refuse(
            path,
            _diagnose(found, expected, str(path)),
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
    bad_differing, bad_missing, bad_unexpected, finer = [], [], [], []
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
        else:
            bad_differing.append(key)
    for key in missing:
        level = heads.level(key)
        if level and _layer(key) not in found_layers:
            kind, stride = level
            initialised[_layer(key)] = (
                f'new skip level {heads.level_label(stride)}'
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
    if not kinds:  # e.g. only BN batch counters missing
        parts.append('the same model, some buffers missing')
    loaded = sorted(k for k in expected if k in found and expected[k] == found[k])
    return Fit(tuple(kinds), '; '.join(parts), loaded, initialised, dropped)


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


def _diagnose(found: Shapes, expected: Shapes, path: str) -> List[str]:
    """Plain-words explanations of recognised mismatches (exact fit wanted)."""
    foreign = _foreign_layout(found, expected, path)
    if foreign:
        return [foreign]
    lines = []
    found_skips, expected_skips = _skip_levels(found), _skip_levels(expected)
    if found_skips != expected_skips and _has_head(found):
        lines.append(
            f'The checkpoint is an {_variant(found_skips)} ({found_skips} skip '
            f'levels) but the config builds an {_variant(expected_skips)} '
            f'({expected_skips}); use a config that builds an '
            f'{_variant(found_skips)} (its decode_head.in_channels/in_index and '
            'backbone.out_indices list one level more per skip, as in '
            'configs/fcn_skip/fcn{32s,16s,8s}_vgg16_4xb4-40k_voc12aug-512x512.py) or a '
            'checkpoint of this config.'
        )
    classes = _class_counts(found, expected)
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
            f'{TORCHVISION_VGG_CONVERTER} and train from the result as '
            "model.backbone.init_cfg=dict(type='Pretrained', checkpoint=...)."
        )
    if layout == CAFFE_FCN:
        return (
            f'It is a Caffe FCN state dict: convert it with '
            f'{CAFFE_FCN_CONVERTER} (matching the FCN variant of the config).'
        )
    if layout == CAFFE_VGG:
        return (
            f'It is a Caffe VGG state dict: convert it with '
            f'{CAFFE_VGG_CONVERTER} and train from the result as '
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


def _skip_levels(shapes: Shapes) -> int:
    return sum(1 for key in shapes if _SKIP_SCORE_KEY.fullmatch(key))


def _has_head(shapes: Shapes) -> bool:
    return 'decode_head.conv_seg.weight' in shapes


def _variant(skip_levels: int) -> str:
    return f'FCN-{32 >> skip_levels}s'


def _class_counts(found: Shapes, expected: Shapes) -> Optional[Tuple[int, int]]:
    """(checkpoint, config) class counts if both have a head and they differ."""
    key = 'decode_head.conv_seg.weight'
    if key not in found or key not in expected or found[key][0] == expected[key][0]:
        return None
    return found[key][0], expected[key][0]


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
