"""Checkpoint checks: damaged files, weights that do not fit, and safe resumes.

mmengine loads checkpoints non-strictly: weights that do not fit the model are
skipped with a warning and stay random, and a damaged file fails deep inside
``torch.load`` without naming it. The functions here fail early instead, with
the file, the keys or shapes that disagree and the converter or config to use:

- :func:`check_checkpoint_file`: the file exists and is intact (every zip
  record's CRC, for PyTorch's format), without unpickling it.
- :func:`check_checkpoint_matches`: a state dict fits a model key for key and
  shape for shape; the message recognises other FCN variants, other class
  counts, torchvision and Caffe VGG/FCN weights and bare backbone weights.
- :func:`verify_checkpoint`: both, for a checkpoint path and a model;
  :func:`read_state_dict` / :func:`read_checkpoint` check a file and read it.
- :func:`find_resume_checkpoint`: the newest intact checkpoint of a work dir,
  falling back past damaged ones, without deleting anything;
  :func:`resolve_resume` applies it to a config for ``tools/train.py --resume``.
- :func:`weights_layout`: which published layout (torchvision VGG, Caffe VGG,
  Caffe FCN) a state dict is in, i.e. which converter it needs
  (``mmseg_fcn_skip.weights`` converts downloaded weights with it).
"""
import logging
import pickle
import re
import zipfile
import zlib
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import BaseTTAModel, is_model_wrapper

PathLike = Union[str, Path]
Shapes = Dict[str, Tuple[int, ...]]

TORCHVISION_VGG_CONVERTER = 'tools/model_converters/torchvision_vgg2mmseg.py'
CAFFE_VGG_CONVERTER = 'tools/model_converters/caffe_vgg2mmseg.py'
CAFFE_FCN_CONVERTER = 'tools/model_converters/caffe_fcn2mmseg.py'
#: Layouts of published weights, as told apart by :func:`weights_layout`.
TORCHVISION_VGG = 'torchvision-vgg'
CAFFE_VGG = 'caffe-vgg'
CAFFE_FCN = 'caffe-fcn'
#: The converter command line for each layout.
CONVERTERS = {
    TORCHVISION_VGG: TORCHVISION_VGG_CONVERTER,
    CAFFE_VGG: CAFFE_VGG_CONVERTER,
    CAFFE_FCN: CAFFE_FCN_CONVERTER,
}
#: Names mmengine's ``CheckpointHook`` gives checkpoints (``filename_tmpl``).
CHECKPOINT_NAME = re.compile(r'(iter|epoch)_(\d+)\.pth')
#: How many keys of each kind an error message lists.
MAX_LISTED_KEYS = 6
_ZIP_MAGIC = b'PK\x03\x04'
_PICKLE_PROTOCOL_OPCODE = 0x80
_SKIP_SCORE_KEY = re.compile(r'decode_head\.skip_scores\.(\d+)\.weight')
_TORCHVISION_KEY = re.compile(r'features\.\d+\.weight')


class CheckpointError(ValueError):
    """A checkpoint file is damaged, unreadable or does not fit the model."""


def check_checkpoint_file(path: PathLike) -> None:
    """Check that ``path`` is a complete, undamaged PyTorch checkpoint file.

    For PyTorch's zip format every record is read and its CRC-32 compared,
    which finds files cut off while being written and flipped bytes, without
    unpickling anything. Files in the legacy (pickle) format are only checked
    to be non-empty. Caffe models are recognised and sent to the converters.

    Raises:
        CheckpointError: naming the file and what is wrong with it.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f'checkpoint {path} does not exist; check the path')
    with path.open('rb') as file:
        head = file.read(4)
    if not head:
        raise CheckpointError(
            f'checkpoint {path} is empty (0 bytes): it was cut off while being '
            'written; use an earlier checkpoint')
    if head == _ZIP_MAGIC:
        _check_zip_records(path)
    elif head[0] != _PICKLE_PROTOCOL_OPCODE:
        raise CheckpointError(
            f'{path} is not a PyTorch checkpoint{_caffe_hint(path)}')


def read_state_dict(path: PathLike) -> Dict[str, torch.Tensor]:
    """Check ``path`` and return its state dict (tensors memory-mapped, on CPU).

    Accepts a plain state dict or an mmengine checkpoint (``state_dict``
    key); the ``module.`` prefix of (Distributed)DataParallel is dropped.

    Raises:
        CheckpointError: if the file is damaged or holds no state dict.
    """
    return read_checkpoint(path)[0]


def read_checkpoint(path: PathLike) -> Tuple[Dict[str, torch.Tensor], dict]:
    """Like :func:`read_state_dict`, but also return the checkpoint's ``meta``.

    The meta is empty for a plain state dict.

    Raises:
        CheckpointError: if the file is damaged or holds no state dict.
    """
    check_checkpoint_file(path)
    checkpoint = _torch_load(Path(path))
    state_dict = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, Mapping) else None
    if not isinstance(state_dict, Mapping) or not all(
            isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise CheckpointError(
            f'checkpoint {path} holds no state dict (a dict of tensors, '
            f'directly or under "state_dict"); found {type(checkpoint).__name__}'
            f'{_top_keys(checkpoint)}')
    meta = checkpoint.get('meta') if state_dict is not checkpoint else None
    state_dict = {re.sub(r'^module\.', '', key): value for key, value in state_dict.items()}
    return state_dict, dict(meta) if isinstance(meta, Mapping) else {}


def check_checkpoint_matches(model: nn.Module,
                             state_dict: Mapping[str, torch.Tensor],
                             path: PathLike) -> None:
    """Raise unless ``state_dict`` fits ``model`` exactly (keys and shapes).

    ``model`` may be wrapped (DDP, TTA). The message first says what the
    checkpoint looks like when it recognises it (another FCN variant or
    class count, torchvision or Caffe weights needing a converter, bare
    backbone weights), then lists the shapes that differ and the keys only
    one side has.

    Args:
        model: The model the checkpoint is meant for.
        state_dict: The checkpoint's state dict, e.g. from
            :func:`read_state_dict`.
        path: The checkpoint file, for the message.

    Raises:
        CheckpointError: if any key is missing, unexpected or of another shape.
    """
    expected = _shapes(_bare_model(model).state_dict())
    found = _shapes(state_dict)
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    differing = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])
    if not (missing or unexpected or differing):
        return
    lines = [f'checkpoint {path} does not fit the model built from the config.']
    lines += _diagnose(found, expected, str(path))
    if differing:
        lines.append('Shapes that differ (checkpoint vs model): ' + _listing(
            [f'{k} {found[k]} vs {expected[k]}' for k in differing]))
    if missing:
        lines.append('Keys the checkpoint lacks: ' + _listing(missing))
    if unexpected:
        lines.append('Keys the model lacks: ' + _listing(unexpected))
    raise CheckpointError('\n'.join(lines))


def verify_checkpoint(model: nn.Module, path: PathLike) -> None:
    """Check that ``path`` is intact and its weights fit ``model`` exactly.

    Cheap: the tensors are memory-mapped, not read.

    Raises:
        CheckpointError: see :func:`check_checkpoint_file` and
            :func:`check_checkpoint_matches`.
    """
    check_checkpoint_matches(model, read_state_dict(path), path)


def weights_layout(keys: Iterable[str]) -> Optional[str]:
    """The published layout whose keys a state dict has, if any.

    Args:
        keys: The state dict's keys.

    Returns:
        ``TORCHVISION_VGG`` (``features.N.weight``), ``CAFFE_FCN`` (``score_fr``),
        ``CAFFE_VGG`` (``conv1_1`` without ``score_fr``), or None for any other
        layout, such as the plugin's own checkpoints. ``CONVERTERS`` names the
        converter of each.
    """
    keys = set(keys)
    if any(_TORCHVISION_KEY.fullmatch(key) for key in keys):
        return TORCHVISION_VGG
    if 'score_fr.weight' in keys:
        return CAFFE_FCN
    if 'conv1_1.weight' in keys:
        return CAFFE_VGG
    return None


def find_resume_checkpoint(work_dir: PathLike) -> Optional[str]:
    """The newest intact checkpoint to resume from in ``work_dir``.

    Tries the file ``work_dir/last_checkpoint`` names first (mmengine writes
    it after each save), then every ``iter_N.pth``/``epoch_N.pth`` beside it,
    newest (largest N) first. Damaged files are passed over with a warning
    and left in place.

    Returns:
        The checkpoint's path, or None if ``work_dir`` has no checkpoint at
        all (a fresh run).

    Raises:
        CheckpointError: if there are checkpoints but none is intact, listing
            each file and what is wrong with it.
    """
    candidates = _resume_candidates(Path(work_dir))
    problems = []
    for candidate in candidates:
        try:
            check_checkpoint_file(candidate)
        except CheckpointError as error:
            problems.append(str(error))
            continue
        if problems:
            print_log(f'Resuming from {candidate}, the newest intact checkpoint; '
                      'passed over (and kept): ' + '; '.join(problems),
                      logger='current', level=logging.WARNING)
        return str(candidate)
    if problems:
        raise CheckpointError(
            f'no usable checkpoint to resume from in {work_dir}:\n  ' +
            '\n  '.join(problems) + '\nNothing was deleted. Start afresh '
            'without --resume (or in another work dir), or pass a good '
            'checkpoint with --cfg-options load_from=PATH.')
    return None


def resolve_resume(cfg: Config) -> None:
    """Point ``cfg.load_from`` at the checkpoint ``--resume`` continues from.

    A ``load_from`` given by the user is only checked (no fallback: it was
    chosen explicitly). Otherwise the newest intact checkpoint of
    ``cfg.work_dir`` is used (:func:`find_resume_checkpoint`); with none at
    all, ``cfg.resume`` is turned off and training starts afresh.

    Raises:
        CheckpointError: if the chosen file is damaged, or the work dir has
            checkpoints but none is intact.
    """
    if cfg.get('load_from'):
        check_checkpoint_file(cfg.load_from)
        return
    cfg.load_from = find_resume_checkpoint(cfg.work_dir)
    if cfg.load_from is None:
        print_log(f'No checkpoint in {cfg.work_dir} to resume from; starting '
                  'afresh.', logger='current', level=logging.WARNING)
        cfg.resume = False


def _check_zip_records(path: Path) -> None:
    """Read every record of a zip checkpoint, so zipfile checks its CRC-32."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                with archive.open(info) as record:
                    while record.read(1 << 24):
                        pass
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as error:
        raise CheckpointError(
            f'checkpoint {path} is damaged ({error}): it was probably cut off '
            'while being written, or corrupted on disk; use an earlier '
            'checkpoint') from error


def _torch_load(path: Path) -> object:
    """``torch.load`` on CPU, memory-mapped; pickled objects only if needed."""
    kwargs = dict(map_location='cpu', mmap=zipfile.is_zipfile(path))
    try:
        try:
            return torch.load(path, weights_only=True, **kwargs)
        except pickle.UnpicklingError:
            # mmengine checkpoints pickle its own objects (the message hub),
            # as the runner itself loads them.
            return torch.load(path, weights_only=False, **kwargs)
    except Exception as error:  # torch.load raises many types for bad files
        raise CheckpointError(
            f'checkpoint {path} cannot be loaded ({type(error).__name__}: '
            f'{error}){_caffe_hint(path)}') from error


def _diagnose(found: Shapes, expected: Shapes, path: str) -> List[str]:
    """Plain-words explanations of recognised mismatches."""
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
            'checkpoint of this config.')
    classes = _class_counts(found, expected)
    if classes:
        lines.append(
            f'The checkpoint predicts {classes[0]} classes but the config has '
            f'num_classes={classes[1]}; set model.decode_head.num_classes='
            f'{classes[0]} with a {classes[0]}-class dataset, or, to fine-tune '
            f'on {classes[1]} classes, start from its backbone only: '
            f"model.backbone.init_cfg=dict(type='Pretrained', checkpoint='{path}',"
            " prefix='backbone.') and no load_from.")
    return lines


def _foreign_layout(found: Shapes, expected: Shapes, path: str) -> Optional[str]:
    """Explain a state dict of another layout (needs a converter), if it is one."""
    layout = weights_layout(found)
    if layout == TORCHVISION_VGG:
        return (f'It is a torchvision VGG state dict: convert it with '
                f'{TORCHVISION_VGG_CONVERTER} and train from the result as '
                "model.backbone.init_cfg=dict(type='Pretrained', checkpoint=...).")
    if layout == CAFFE_FCN:
        return (f'It is a Caffe FCN state dict: convert it with '
                f'{CAFFE_FCN_CONVERTER} (matching the FCN variant of the config).')
    if layout == CAFFE_VGG:
        return (f'It is a Caffe VGG state dict: convert it with '
                f'{CAFFE_VGG_CONVERTER} and train from the result as '
                "model.backbone.init_cfg=dict(type='Pretrained', checkpoint=...).")
    if found and all(f'backbone.{key}' in expected for key in found):
        return ('It holds backbone weights only (as the VGG converters write): '
                f"train from them with model.backbone.init_cfg=dict(type='Pretrained',"
                f" checkpoint='{path}'); testing and resuming need a checkpoint of "
                'the whole segmentor.')
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


def _resume_candidates(work_dir: Path) -> List[Path]:
    """``last_checkpoint``'s target, then the named checkpoints, newest first."""
    candidates = []
    folder = work_dir
    pointer = work_dir / 'last_checkpoint'
    if pointer.is_file():
        target = pointer.read_text().strip()
        if target:
            candidates.append(Path(target))
            folder = Path(target).parent
    numbered = []
    for directory in {folder, work_dir}:
        for file in directory.glob('*.pth'):
            match = CHECKPOINT_NAME.fullmatch(file.name)
            if match:
                numbered.append((int(match.group(2)), file))
    candidates += [file for _, file in sorted(numbered, reverse=True)]
    return list(dict.fromkeys(candidates))


def _bare_model(model: nn.Module) -> nn.Module:
    """The segmentor inside DDP and TTA wrappers."""
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


def _shapes(state_dict: Mapping[str, torch.Tensor]) -> Shapes:
    return {key: tuple(value.shape) for key, value in state_dict.items()}


def _caffe_hint(path: Path) -> str:
    if path.suffix != '.caffemodel':
        return ''
    return (f'; it is a Caffe model: convert it with {CAFFE_FCN_CONVERTER} '
            f'(FCN weights) or {CAFFE_VGG_CONVERTER} (ImageNet VGG weights)')


def _top_keys(checkpoint: object) -> str:
    if not isinstance(checkpoint, Mapping):
        return ''
    return f' with keys {sorted(map(str, checkpoint))[:MAX_LISTED_KEYS]}'


def _listing(items: List[str]) -> str:
    rest = len(items) - MAX_LISTED_KEYS
    return ', '.join(items[:MAX_LISTED_KEYS]) + (f' and {rest} more' if rest > 0 else '')
