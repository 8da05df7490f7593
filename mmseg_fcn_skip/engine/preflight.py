"""Checks of a config before anything is built: the mistakes found late or never.

A class count that does not match the dataset fails deep in the loss
(``IndexError: Target 4 is out of bounds``) after the whole start-up log, or, when
the head has more classes than the dataset, trains without complaint. A wrong data
root or a misspelled weights name fails only after the model is built. The
functions here look at the config alone (and the files it names) and return one
line per problem, naming the key and the fix:

- :func:`check_num_classes`: ``num_classes`` of every head against the classes of
  the dataset (its class's ``METAINFO`` or the config's ``metainfo``);
- :func:`check_dataset_files`: the data root and the image / label folders (and
  the annotation file) exist and the image folder holds images;
- :func:`check_checkpoint_source`: a checkpoint argument is a file that is intact
  or a name of published weights, with the closest names if it is neither.

:func:`preflight_train` and :func:`preflight_test` gather them for ``tools/train.py``
and ``tools/test.py``; :func:`exit_on_errors` prints the lines on stderr and exits
with status 2. :class:`NumClassesCheckHook` runs the class-count check inside
mmseg's own tools (``custom_hooks = [dict(type='NumClassesCheckHook')]``).
"""

import difflib
import inspect
import os
import os.path as osp
import sys
from typing import Any, Iterator, List, Mapping, Optional, Sequence, Tuple

from mmengine.hooks import Hook
from mmseg.registry import DATASETS, HOOKS

#: Exit status of a command stopped by a preflight check (as argparse's errors).
PREFLIGHT_EXIT_STATUS = 2
#: Image file endings looked for when a dataset class sets no ``img_suffix``.
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
#: Keys under which dataset wrappers keep the datasets they wrap.
WRAPPED_DATASET_KEYS = ('dataset', 'datasets')


def _heads(model: Mapping) -> Iterator[Tuple[str, Mapping, Optional[str]]]:
    """``(key, head config, task)`` of every head with a ``num_classes``: lists, the
    stream heads of a late fusion head and a multi-task model's ``task_heads``
    included; ``task`` is None for the heads of the first task."""
    groups = []
    for name in ('decode_head', 'auxiliary_head'):
        heads = model.get(name)
        if isinstance(heads, Mapping):
            groups += [(f'model.{name}', heads, None)]
        elif isinstance(heads, (list, tuple)):
            groups += [(f'model.{name}.{i}', head, None) for i, head in enumerate(heads)]
    task_heads = model.get('task_heads')
    if isinstance(task_heads, Mapping):  # MultiTaskEncoderDecoder
        groups += [(f'model.task_heads.{task}', head, task) for task, head in task_heads.items()]
    for key, head, task in groups:
        if not isinstance(head, Mapping):
            continue
        if head.get('num_classes') is not None:
            yield key, head, task
        for index, stream in enumerate(head.get('streams') or []):  # LateFusionHead's
            if isinstance(stream, Mapping) and stream.get('num_classes') is not None:
                yield f'{key}.streams.{index}', stream, task


def _leaf_datasets(dataset: Mapping, key: str) -> Iterator[Tuple[str, Mapping]]:
    """``(key, dataset config)`` of the datasets inside wrappers (concat, repeat)."""
    for wrapped in WRAPPED_DATASET_KEYS:
        inner = dataset.get(wrapped)
        if isinstance(inner, Mapping):
            yield from _leaf_datasets(inner, f'{key}.{wrapped}')
            return
        if isinstance(inner, (list, tuple)):
            for i, item in enumerate(inner):
                if isinstance(item, Mapping):
                    yield from _leaf_datasets(item, f'{key}.{wrapped}.{i}')
            return
    yield key, dataset


def _dataset_class(dataset: Mapping) -> Optional[type]:
    """The registered class of a dataset config, or None if it is not found."""
    kind = dataset.get('type')
    if isinstance(kind, type):
        return kind
    if not isinstance(kind, str):
        return None
    return DATASETS.get(kind.split('.')[-1]) if '.' in kind else DATASETS.get(kind)


def dataset_classes(dataset: Mapping, task: Optional[str] = None) -> Optional[Tuple[str, ...]]:
    """The class names a dataset config gives: its ``metainfo`` or its class's ``METAINFO``.

    Args:
        dataset: The dataset config.
        task: A further task of a multi-task dataset (``metainfo['task_classes']``);
            None for the first task's ``classes``.

    Returns:
        The names, or None if neither says (an unknown dataset type, a task it lacks).
    """
    metainfo = dataset.get('metainfo') or {}
    cls = _dataset_class(dataset)
    default = getattr(cls, 'METAINFO', {}) if cls is not None else {}
    if task is None:
        classes = metainfo.get('classes')
        classes = default.get('classes') if classes is None else classes
    else:
        classes = (metainfo.get('task_classes') or {}).get(task)
        classes = (default.get('task_classes') or {}).get(task) if classes is None else classes
    return tuple(classes) if classes is not None else None


def _loaders(cfg: Mapping, mode: str) -> List[str]:
    """The data loaders a run of ``mode`` ('train' or 'test') reads."""
    if mode == 'train':
        names = ['train_dataloader']
        if cfg.get('val_cfg') and cfg.get('val_dataloader'):
            names.append('val_dataloader')
        return names
    return ['test_dataloader']


def _datasets(cfg: Mapping, mode: str) -> Iterator[Tuple[str, Mapping]]:
    for loader in _loaders(cfg, mode):
        dataset = (cfg.get(loader) or {}).get('dataset')
        if isinstance(dataset, Mapping):
            yield from _leaf_datasets(dataset, f'{loader}.dataset')


def _short(names: Sequence[str], limit: int = 6) -> str:
    shown = ', '.join(names[:limit])
    return shown + (f', ... ({len(names)} in all)' if len(names) > limit else '')


def check_num_classes(cfg: Mapping, mode: str = 'train') -> List[str]:
    """``num_classes`` of every head against the class count of the datasets.

    Args:
        cfg: The whole config (``model`` and the data loaders).
        mode: ``'train'`` (the training and validation datasets) or ``'test'``.

    Returns:
        list[str]: One line per head whose count differs from a dataset's, naming
        both, the key and the value to set; empty if all agree (or nothing says).
    """
    model = cfg.get('model') or {}
    if model.get('type') in ('SegTTAModel',) and isinstance(model.get('module'), Mapping):
        model = model['module']
    errors = []
    seen = set()
    for data_key, dataset in _datasets(cfg, mode):
        for head_key, head, task in _heads(model):
            classes = dataset_classes(dataset, task)
            if classes is None:
                continue
            count = head['num_classes']
            if count == len(classes) or (head_key, len(classes)) in seen:
                continue
            seen.add((head_key, len(classes)))
            kind = dataset.get('type')
            kind = kind if isinstance(kind, str) else getattr(kind, '__name__', 'dataset')
            consequence = (
                'labels above it would stop training with "Target out of bounds"'
                if count < len(classes)
                else 'its extra score maps would be trained on no pixel'
            )
            of_task = f' for task {task!r}' if task is not None else ''
            errors.append(
                f'{head_key}.num_classes is {count} but {data_key} ({kind}) has '
                f'{len(classes)} classes{of_task} ({_short(list(classes))}): {consequence}; set '
                f'{head_key}.num_classes={len(classes)} in the config (or '
                f'--cfg-options {head_key}.num_classes={len(classes)})'
            )
    return errors


def _img_suffix(dataset: Mapping) -> Optional[str]:
    """The image file ending a dataset config reads (None: any image ending)."""
    if dataset.get('img_suffix'):
        return dataset['img_suffix']
    cls = _dataset_class(dataset)
    if cls is None:
        return None
    try:
        parameter = inspect.signature(cls.__init__).parameters.get('img_suffix')
    except (TypeError, ValueError):
        return None
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return None
    return parameter.default


def _has_files(folder: str, suffixes: Tuple[str, ...]) -> bool:
    """Whether ``folder`` (searched recursively) holds a file ending in ``suffixes``."""
    for _, _, files in os.walk(folder, followlinks=True):
        if any(name.lower().endswith(suffixes) for name in files):
            return True
    return False


def _is_remote(path: str) -> bool:
    return '://' in path


def check_dataset_files(cfg: Mapping, mode: str = 'train') -> List[str]:
    """The folders and files the datasets of a run read exist and hold images.

    Args:
        cfg: The whole config.
        mode: ``'train'`` (the training and validation datasets) or ``'test'``.

    Returns:
        list[str]: One line per missing data root, folder or annotation file, or
        image folder without images; empty if all are there (remote paths, such as
        ``s3://``, are not checked).
    """
    errors = []
    for key, dataset in _datasets(cfg, mode):
        root = dataset.get('data_root') or ''
        if _is_remote(str(root)):
            continue
        fix = f'set data_root in the config (or --cfg-options {key}.data_root=PATH)'
        if root and not osp.isdir(root):
            errors.append(f'{key}.data_root {root!r} is not a folder; {fix}')
            continue
        prefix = dataset.get('data_prefix') or {}
        for part in ('img_path', 'seg_map_path'):
            folder = prefix.get(part)
            if not folder or _is_remote(str(folder)):
                continue
            path = osp.join(root, folder)
            if not osp.isdir(path):
                errors.append(
                    f'{key}.data_prefix.{part}: the folder {path} does not exist; {fix} '
                    f'or {key}.data_prefix.{part} to the folder of the split'
                )
            elif part == 'img_path':
                suffix = _img_suffix(dataset)
                suffixes = (suffix.lower(),) if suffix else IMAGE_SUFFIXES
                if not _has_files(path, suffixes):
                    errors.append(
                        f'{key}.data_prefix.img_path: the folder {path} holds no images '
                        f'(files ending in {"/".join(suffixes)}); put the images there or '
                        f'set {key}.img_suffix to their ending'
                    )
        ann_file = dataset.get('ann_file')
        if ann_file and not _is_remote(str(ann_file)):
            path = osp.join(root, ann_file)
            if not osp.isfile(path):
                errors.append(
                    f'{key}.ann_file: {path} does not exist; set {key}.ann_file to the '
                    "split's list of names, or to '' to read every image in the folder"
                )
    return errors


def check_checkpoint_source(source: Any, key: str) -> List[str]:
    """A checkpoint argument is an intact file, a published weights name or a URL.

    Args:
        source: What the user gave (path, short name such as ``fcn8s-heavy-pascal``,
            or http(s) URL).
        key: How the user gave it (``'load_from'``, ``'checkpoint'``), for the message.

    Returns:
        list[str]: One line if the file is damaged, or if ``source`` is neither a
        file nor a name (with the closest names and files); else empty.
    """
    from ..checkpoints import CheckpointError, check_checkpoint_file
    from ..weights import WEIGHTS, find_weights

    source = str(source)
    path = osp.expanduser(source)
    if osp.isfile(path):
        try:
            check_checkpoint_file(path)
        except CheckpointError as error:  # names the file and the fix
            return [str(error) if key == 'checkpoint' else f'{key}: {error}']
        return []
    if find_weights(source) is not None:
        return []
    candidates = list(WEIGHTS)
    folder = osp.dirname(path) or '.'
    if osp.isdir(folder):
        candidates += [
            osp.join(osp.dirname(source), name)
            for name in sorted(os.listdir(folder))
            if name.endswith(('.pth', '.pt', '.caffemodel'))
        ]
    close = difflib.get_close_matches(source, candidates, n=2, cutoff=0.6)
    if close:
        hint = f'did you mean {" or ".join(repr(c) for c in close)}?'
    else:
        hint = f'published weights: {", ".join(WEIGHTS)}'
    if _looks_like_path(source):
        return [
            f'{key} {source} does not exist ({hint}); check the path, or give a name of '
            'published weights (docs/weights.md) or an http(s) URL'
        ]
    return [
        f'{key} {source!r} is neither a checkpoint file nor a name of published weights '
        f'({hint}); give the path of a checkpoint, a name of docs/weights.md or an http(s) URL'
    ]


def _looks_like_path(source: str) -> bool:
    """Whether a missing checkpoint argument was meant as a file (a folder or an ending)."""
    return '/' in source or os.sep in source or osp.splitext(source)[1] != ''


def preflight_train(cfg: Mapping) -> List[str]:
    """Every check of a training run (``load_from``, classes, data); see the module."""
    errors = []
    if cfg.get('load_from'):
        errors += check_checkpoint_source(cfg['load_from'], 'load_from')
    errors += check_num_classes(cfg, 'train')
    errors += check_dataset_files(cfg, 'train')
    return errors


def preflight_test(cfg: Mapping, checkpoint: str) -> List[str]:
    """Every check of a test run (the checkpoint argument, classes, data)."""
    errors = check_checkpoint_source(checkpoint, 'checkpoint')
    errors += check_num_classes(cfg, 'test')
    errors += check_dataset_files(cfg, 'test')
    return errors


def exit_on_errors(errors: Sequence[str]) -> None:
    """Print each error as one ``error: ...`` line on stderr and exit with status 2."""
    if not errors:
        return
    for error in errors:
        print(f'error: {error}', file=sys.stderr)
    sys.exit(PREFLIGHT_EXIT_STATUS)


@HOOKS.register_module()
class NumClassesCheckHook(Hook):
    """Stop before training or testing if a head's ``num_classes`` misses the dataset.

    For mmseg's own tools, which run no preflight checks: add
    ``custom_hooks = [dict(type='NumClassesCheckHook')]`` to the config. The
    plugin's tools check this (and more) before building anything.

    Raises:
        ValueError: in ``before_train`` / ``before_test``, with the lines of
            :func:`check_num_classes`.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        self._check(runner.cfg, 'train')

    def before_test(self, runner) -> None:
        self._check(runner.cfg, 'test')

    @staticmethod
    def _check(cfg: Mapping, mode: str) -> None:
        errors = check_num_classes(cfg, mode)
        if errors:
            raise ValueError('; '.join(errors))
