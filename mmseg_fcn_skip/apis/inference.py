"""Batched, restartable inference over many images of any size.

For each image, :func:`infer_images` writes the predicted label map as a palette
(P-mode) PNG under ``OUT/pred`` and the prediction blended over the image under
``OUT/vis``, both as ``<path relative to the input root>.png``; a
``MultiTaskEncoderDecoder`` also writes each further task ``t``'s label map under
``OUT/pred_<t>`` (:func:`task_output_paths`), coloured with the task's palette. Files are written
atomically (a temporary file renamed into place), so an interrupted run never leaves a
truncated output and a rerun can skip every image whose two outputs exist. Nothing is
kept from one batch to the next: each batch's results are written, then dropped.

Batches (``batch_mode``):

- ``'group'``: images of the same size only; the images are ordered by size first so
  that equal sizes share batches. Each image is computed as with batch size 1.
- ``'pad'``: images of similar size, each padded at the bottom and right to the largest
  in its batch (as mmseg pads for ``data_preprocessor.test_cfg``); the logits of the
  plugin's head are aligned to the top-left, so the padding is cut off exactly. Faster
  for mixed sizes, but pixels within the receptive field of the bottom/right edge see
  the padding and may differ slightly from batch size 1.

Multi-modal models (a test pipeline with ``LoadMultiModalImage``, e.g. colour-HHA or
colour-depth): the inputs are the colour images, and each image's modality files
(:func:`pipeline_modalities`) are found by :func:`find_modality_files`: by the config's
naming rule (its dataset's ``modalities=dict(hha='hha')``: the file of the image's stem
in the folder ``hha`` next to the image's folder, ``images/img_5001.png`` ->
``hha/img_5001.png``), or below a folder named for the modality (``modality_dirs``,
``tools/infer.py --modality hha=DIR``: ``DIR/<path below the input root>``); both
with the dataset's ``modality_suffix`` (``.png``). A missing file stops the run before
anything is predicted, naming it. The pipeline then reads the colour image and those
files itself, and the overlay is drawn over the colour image.
"""

import copy
import glob
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.utils import ProgressBar
from mmseg.models import BaseSegmentor
from mmseg.structures import SegDataSample
from PIL import Image
from torch import Tensor

from ..datasets.transforms.multi_modal import MODALITY_SUFFIX, sibling_path

IMAGE_SUFFIXES = ('.bmp', '.jpeg', '.jpg', '.png', '.tif', '.tiff', '.webp')
BATCH_MODES = ('group', 'pad')
LABEL_DIR, OVERLAY_DIR = 'pred', 'vis'
#: The loading step of a multi-modal test pipeline; kept for inference (it reads the files).
MULTI_MODAL_LOADER = 'LoadMultiModalImage'
#: The step computing HHA from a depth file before the loader.
DEPTH_TO_HHA = 'DepthToHHA'
#: Written into every output folder: images under a folder holding it are outputs,
#: never inputs, also for a later run that writes elsewhere.
OUTPUT_MARKER = '.fcn_skip_outputs'


class ModalityError(ValueError):
    """A modality file of an image to predict is missing, or a modality folder is given
    that the model's test pipeline does not read (one line, naming the fix)."""


@dataclass
class InferenceSummary:
    """What :func:`infer_images` did: images written, skipped and failed."""

    written: int = 0
    skipped: int = 0
    failed: List[Tuple[Path, str]] = field(default_factory=list)


def find_images(source: str, exclude: Optional[Path] = None) -> Tuple[List[Path], Path]:
    """Image files named by ``source`` and the root their output names are relative to.

    ``source`` is an image file, a folder (searched recursively) or a glob pattern
    (``**`` allowed). Files under ``exclude`` (the output folder) are left out, and
    so are files in the output folders of earlier runs below ``root`` (those holding
    ``OUTPUT_MARKER``).

    Returns:
        The sorted image paths and their root: the file's folder, the folder itself,
        or the deepest folder holding every match of the pattern.

    Raises:
        FileNotFoundError: if ``source`` names no image.
    """
    path = Path(source)
    if path.is_file():
        paths, root = [path], path.parent
    elif path.is_dir():
        paths, root = [p for p in path.rglob('*') if p.is_file()], path
    else:
        paths = [Path(p) for p in glob.glob(source, recursive=True) if Path(p).is_file()]
        root = Path(os.path.commonpath([p.parent for p in paths])) if paths else path
    paths = sorted(p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES)
    if exclude is not None:
        exclude = exclude.resolve()
        paths = [p for p in paths if exclude not in p.resolve().parents]
    paths = [p for p in paths if not _in_output_folder(p, root)]
    if not paths:
        raise FileNotFoundError(
            f'{source!r} is not an image, a folder with images or a glob pattern that '
            f'matches images (suffixes {", ".join(IMAGE_SUFFIXES)})'
        )
    return paths, root


def _in_output_folder(path: Path, root: Path) -> bool:
    """Whether a folder between ``root`` (not included) and ``path`` holds the marker
    of an output folder."""
    folder = path.parent
    while folder != root and root in folder.parents:
        if (folder / OUTPUT_MARKER).is_file():
            return True
        folder = folder.parent
    return False


def output_paths(image: Path, root: Path, out_dir: Path) -> Tuple[Path, Path]:
    """Where the label PNG and the overlay PNG of ``image`` go."""
    relative = image.relative_to(root).with_suffix('.png')
    return out_dir / LABEL_DIR / relative, out_dir / OVERLAY_DIR / relative


def task_output_paths(
    model: BaseSegmentor, image: Path, root: Path, out_dir: Path
) -> Dict[str, Path]:
    """Where the label PNG of each further task of ``model`` goes: ``OUT/pred_<task>/``
    (no entry for a model without ``task_heads``)."""
    relative = image.relative_to(root).with_suffix('.png')
    tasks = getattr(model, 'task_heads', None) or {}
    return {task: out_dir / f'{LABEL_DIR}_{task}' / relative for task in tasks}


def task_palette(model: BaseSegmentor, task: str) -> List[List[int]]:
    """The palette of a further task: the dataset meta's ``task_palettes[task]``, else a
    fixed one for the head's class count."""
    from .model import default_palette  # model.py imports this module's neighbours

    palette = (model.dataset_meta.get('task_palettes') or {}).get(task)
    count = int(model.task_heads[task].num_classes)
    if not palette or len(palette) < count:
        palette = default_palette(count)
    return [list(map(int, colour)) for colour in palette]


def plan_batches(
    paths: Sequence[Path], batch_size: int, batch_mode: str = 'group'
) -> List[List[Path]]:
    """Split ``paths`` into batches of at most ``batch_size`` images.

    Sizes are read from the file headers only. ``'group'`` puts only images of one
    size in a batch; ``'pad'`` fills batches with images of similar size. Unreadable
    files get a batch of their own, where loading them reports the error.
    """
    if batch_size < 1:
        raise ValueError(f'batch_size={batch_size!r} must be at least 1')
    if batch_mode not in BATCH_MODES:
        raise ValueError(f'batch_mode={batch_mode!r} is not supported; use one of {BATCH_MODES}')
    sizes = {path: _header_size(path) for path in paths}
    readable = sorted((p for p in paths if sizes[p]), key=lambda p: (sizes[p], str(p)))
    batches: List[List[Path]] = [[p] for p in paths if not sizes[p]]
    for path in readable:
        last = batches[-1] if batches and sizes[batches[-1][0]] else None
        if (
            last is not None
            and len(last) < batch_size
            and (batch_mode == 'pad' or sizes[last[0]] == sizes[path])
        ):
            last.append(path)
        else:
            batches.append([path])
    return batches


def build_inference_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline for inference, without the annotation loading.

    Takes ``test_dataloader.dataset.pipeline`` (else ``test_pipeline``). Its
    ``LoadImageFromFile`` loads from an array instead (the pipeline takes
    ``dict(img=<BGR array>)``); a multi-modal pipeline keeps its
    ``LoadMultiModalImage``, which reads the files (it takes
    ``dict(img_path=..., modality_paths=dict(hha=...))``).
    """
    pipeline = _test_pipeline_cfg(cfg)
    labels = ('LoadAnnotations', 'LoadDepthAnnotation', 'LoadTaskAnnotations')
    pipeline = [t for t in pipeline if t['type'] not in labels]
    if any(t['type'] == MULTI_MODAL_LOADER for t in pipeline):
        return Compose(pipeline)
    loaders = [t for t in pipeline if t['type'] == 'LoadImageFromFile']
    if not loaders:
        raise ValueError(
            "the test pipeline has no 'LoadImageFromFile' step to replace "
            'by loading from an array; start it with '
            "dict(type='LoadImageFromFile') (or dict(type='LoadMultiModalImage') "
            'for a multi-modal model)'
        )
    loaders[0]['type'] = 'LoadImageFromNDArray'
    return Compose(pipeline)


def _test_pipeline_cfg(cfg: Config) -> List[dict]:
    pipeline = cfg.get('test_dataloader', {}).get('dataset', {}).get('pipeline')
    pipeline = copy.deepcopy(pipeline or cfg.get('test_pipeline'))
    if not pipeline:
        raise ValueError(
            'the config has neither test_dataloader.dataset.pipeline nor '
            'test_pipeline; add the test pipeline the model was evaluated '
            'with'
        )
    return list(pipeline)


def pipeline_modalities(cfg: Config) -> Tuple[str, ...]:
    """The modality files the config's test pipeline reads for each image, by name.

    ``LoadMultiModalImage(modalities=...)`` reads each of its modalities, except HHA
    computed before it by ``DepthToHHA``, which reads its depth file instead. Empty
    for a colour-only model.
    """
    computed, read = set(), []
    for step in _test_pipeline_cfg(cfg):
        if step['type'] == DEPTH_TO_HHA:
            names, made = (step.get('modality', 'depth'),), ('hha',)
        elif step['type'] == MULTI_MODAL_LOADER:
            names, made = step.get('modalities', ('hha',)), ()
            names = (names,) if isinstance(names, str) else tuple(names)
        else:
            continue
        read += [name for name in names if name not in computed and name not in read]
        computed.update(made)
    return tuple(read)


def find_modality_files(
    cfg: Config,
    paths: Sequence[Path],
    root: Path,
    modality_dirs: Optional[Mapping[str, Union[str, Path]]] = None,
) -> Dict[Path, Dict[str, str]]:
    """Each image's modality files, as the pipeline's ``modality_paths``.

    For each modality of :func:`pipeline_modalities`: below ``modality_dirs[name]``
    if given, the image's path below ``root`` (its suffix replaced by the dataset's
    ``modality_suffix``, ``.png``); else by the config's naming rule, the test
    dataset's ``modalities`` (``dict(hha='hha')``; a modality it does not name uses
    its own name as the folder): :func:`sibling_path`, the file of the image's stem in
    that folder next to the image's folder.

    Returns:
        ``{image: {name: file}}``; empty dicts for a colour-only model.

    Raises:
        ModalityError: if ``modality_dirs`` names a modality the pipeline does not
            read or a folder that does not exist, or a file is missing (naming the
            first one, how many images lack theirs and the option to set).
    """
    names = pipeline_modalities(cfg)
    dirs = {name: Path(folder) for name, folder in (modality_dirs or {}).items()}
    for name, folder in dirs.items():
        if name not in names:
            reads = f'it reads {", ".join(names)}' if names else 'it takes colour images only'
            raise ModalityError(
                f"--modality {name}={folder}: the model's test pipeline reads no {name} "
                f'file ({reads}); drop the option'
            )
        if not folder.is_dir():
            raise ModalityError(
                f'--modality {name}={folder}: {folder} is not a folder; name the folder '
                f'holding the {name} files'
            )
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    rule = dict(dataset.get('modalities') or {})
    suffix = dataset.get('modality_suffix', MODALITY_SUFFIX)
    files: Dict[Path, Dict[str, str]] = {}
    missing: Dict[str, List[Tuple[Path, str]]] = {}
    for path in paths:
        files[path] = {}
        for name in names:
            if name in dirs:
                file = str(dirs[name] / path.relative_to(root).with_suffix(suffix))
            else:
                file = sibling_path(str(path), rule.get(name, name), suffix)
            files[path][name] = file
            if not Path(file).is_file():
                missing.setdefault(name, []).append((path, file))
    for name, lacking in missing.items():
        path, file = lacking[0]
        where = (
            f'below --modality {name}={dirs[name]}'
            if name in dirs
            else f"by the config's naming rule: the folder {rule.get(name, name)!r} next "
            "to the image's folder"
        )
        more = f', {len(lacking)} of {len(paths)} images lack theirs' if len(lacking) > 1 else ''
        raise ModalityError(
            f'{name} file {file} of {path} is missing ({where}{more}); put the {name} '
            f'files there or name their folder with --modality {name}=DIR '
            f'(infer_images: modality_dirs=dict({name}=DIR))'
        )
    return files


#: An image for :func:`predict_labels`: a BGR array, or the dict a file-reading
#: (multi-modal) pipeline starts from, ``dict(img_path=..., modality_paths=...)``.
ImageInput = Union[np.ndarray, Mapping]


@torch.no_grad()
def predict_labels(
    model: BaseSegmentor, pipeline: Compose, images: Sequence[ImageInput]
) -> List[np.ndarray]:
    """Label maps ``(H, W)`` of ``images`` (any sizes), predicted as one batch.

    ``images`` are BGR arrays, or for a multi-modal pipeline (see
    :func:`build_inference_pipeline`) dicts ``dict(img_path=..., modality_paths=...)``.
    Each image goes through ``pipeline`` and the model's data preprocessor on its
    own, the batch is padded at the bottom and right to its largest image with the
    preprocessor's ``pad_val``, and the padding is cut off again before the
    prediction is resized back to the image size, as mmseg does for a padded batch.
    """
    return _labels(model, *preprocess(model, pipeline, images))


def _labels(model: BaseSegmentor, inputs: Tensor, samples: List[SegDataSample]) -> List[np.ndarray]:
    metas = [sample.metainfo for sample in samples]
    if (model.test_cfg or {}).get('mode', 'whole') == 'slide':
        logits = model.slide_inference(inputs, metas)
    else:
        logits = model.whole_inference(inputs, metas)
    results = model.postprocess_result(logits, samples)
    return [r.pred_sem_seg.data[0].cpu().numpy() for r in results]


@torch.no_grad()
def predict_task_labels(
    model: BaseSegmentor, pipeline: Compose, images: Sequence[ImageInput]
) -> List[Dict[str, np.ndarray]]:
    """Every task's label maps ``(H, W)`` of ``images`` as one batch, for a
    ``MultiTaskEncoderDecoder``: ``{'': first task, t: further task t}`` per image.

    Inputs and batches as :func:`predict_labels`; the backbone runs once per image (or
    crop).
    """
    return _task_labels(model, *preprocess(model, pipeline, images))


def _task_labels(
    model: BaseSegmentor, inputs: Tensor, samples: List[SegDataSample]
) -> List[Dict[str, np.ndarray]]:
    results = model.predict(inputs, samples)
    labels = []
    for result in results:
        image_labels = {'': result.pred_sem_seg.data[0].cpu().numpy()}
        for task in model.task_heads:
            image_labels[task] = result.get(f'pred_{task}_seg').data[0].cpu().numpy()
        labels.append(image_labels)
    return labels


def preprocess(
    model: BaseSegmentor, pipeline: Compose, images: Sequence[ImageInput]
) -> Tuple[Tensor, List[SegDataSample]]:
    """Transform and normalise ``images`` and stack them, padded, into one batch."""
    return collate(model, [pack(pipeline, image) for image in images])


def pack(pipeline: Compose, image: ImageInput) -> dict:
    """``image`` through ``pipeline``: ``dict(inputs=..., data_samples=...)``."""
    return pipeline(dict(image) if isinstance(image, Mapping) else dict(img=image))


def collate(
    model: BaseSegmentor, packed_images: Sequence[dict]
) -> Tuple[Tensor, List[SegDataSample]]:
    """Normalise packed images (:func:`pack`) one by one and stack them, padded, into
    one batch."""
    inputs, samples = [], []
    for packed in packed_images:
        data = model.data_preprocessor(
            dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']]), False
        )
        inputs.append(data['inputs'])
        samples.append(data['data_samples'][0])
    height = max(x.shape[-2] for x in inputs)
    width = max(x.shape[-1] for x in inputs)
    pad_val = getattr(model.data_preprocessor, 'pad_val', 0)
    padded = []
    for x, sample in zip(inputs, samples):
        bottom, right = height - x.shape[-2], width - x.shape[-1]
        left, old_right, top, old_bottom = sample.metainfo.get('img_padding_size', (0, 0, 0, 0))
        sample.set_metainfo(
            dict(
                img_padding_size=[left, old_right + right, top, old_bottom + bottom],
                pad_shape=(height, width),
            )
        )
        padded.append(F.pad(x, (0, right, 0, bottom), value=pad_val))
    return torch.cat(padded), samples


def read_image(path: Path) -> np.ndarray:
    """Load ``path`` as a BGR ``uint8`` array, as mmseg's ``LoadImageFromFile`` does.

    Raises:
        ValueError: if the file is empty or not a decodable image.
    """
    try:
        image = mmcv.imread(str(path))
    except cv2.error as error:
        raise ValueError(f'cannot decode {path} as an image ({error.err})') from error
    if image is None:
        raise ValueError(f'cannot decode {path} as an image')
    return image


def colorize(label: np.ndarray, palette: Sequence[Sequence[int]]) -> np.ndarray:
    """RGB image of a label map; labels without a palette colour are white."""
    table = np.full((256, 3), 255, dtype=np.uint8)
    table[: len(palette)] = np.asarray(palette, dtype=np.uint8)
    return table[label]


def blend(
    image_rgb: np.ndarray, label: np.ndarray, palette: Sequence[Sequence[int]], opacity: float = 0.5
) -> np.ndarray:
    """``image_rgb`` with the label colours laid over it at ``opacity``."""
    mixed = (1 - opacity) * image_rgb + opacity * colorize(label, palette)
    return mixed.round().astype(np.uint8)


def save_label_png(label: np.ndarray, palette: Sequence[Sequence[int]], path: Path) -> None:
    """Write ``label`` as a P-mode PNG: class indices as pixels, shown in colour."""
    if label.max(initial=0) > 255:
        raise ValueError(
            f'label {int(label.max())} does not fit a palette PNG (at most 256 classes)'
        )
    png = Image.fromarray(label.astype(np.uint8))
    png.putpalette(np.asarray(palette, dtype=np.uint8).ravel().tolist())
    _save_atomically(png, path)


def save_rgb_png(image_rgb: np.ndarray, path: Path) -> None:
    """Write an RGB array as a PNG."""
    _save_atomically(Image.fromarray(image_rgb), path)


def infer_images(
    model: BaseSegmentor,
    paths: Sequence[Path],
    root: Path,
    out_dir: Path,
    batch_size: int = 1,
    batch_mode: str = 'group',
    skip_existing: bool = True,
    opacity: float = 0.5,
    show_progress: bool = True,
    modality_dirs: Optional[Mapping[str, Union[str, Path]]] = None,
) -> InferenceSummary:
    """Predict every image in ``paths`` and write its label PNG and overlay.

    Args:
        model: Segmentor from :func:`~mmseg_fcn_skip.apis.load_model`, with
            ``cfg`` and ``dataset_meta``.
        paths: Images to predict (the colour images, for a multi-modal model).
        root: Folder the output names are relative to (see :func:`find_images`).
        out_dir: Output folder; ``pred/``, ``vis/`` and the ``OUTPUT_MARKER`` file
            are made in it.
        batch_size: Images per forward pass.
        batch_mode: ``'group'`` or ``'pad'`` (see the module docstring).
        skip_existing: Skip images whose two outputs exist (restart a run).
        opacity: Weight of the label colours in the overlay, in [0, 1].
        show_progress: Show a progress bar.
        modality_dirs: For a multi-modal model, the folder of a modality's files by
            name (``dict(hha='my_data/hha')``), holding them at the images' paths
            below ``root``; the others are found by the config's naming rule (see
            :func:`find_modality_files`).

    Returns:
        Counts of written and skipped images, and the images that could not be read
        with the reason; the others are written all the same.

    Raises:
        ModalityError: before anything is written, if a modality file of an image
            to predict is missing or ``modality_dirs`` is wrong.
    """
    if not 0 <= opacity <= 1:
        raise ValueError(f'opacity={opacity!r} must be in [0, 1]')
    _check_unique_outputs(paths, root)
    summary = InferenceSummary()
    todo = []
    for path in paths:
        outputs = [
            *output_paths(path, root, out_dir),
            *task_output_paths(model, path, root, out_dir).values(),
        ]
        if skip_existing and all(p.is_file() for p in outputs):
            summary.skipped += 1
        else:
            todo.append(path)
    modality_files = find_modality_files(model.cfg, todo, root, modality_dirs)
    multi_modal = bool(pipeline_modalities(model.cfg))
    pipeline = build_inference_pipeline(model.cfg)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / OUTPUT_MARKER).touch()
    palette = model.dataset_meta['palette']
    progress = ProgressBar(len(todo), file=sys.stdout) if show_progress and todo else None
    for batch in plan_batches(todo, batch_size, batch_mode):
        for group in _load_batch(batch, batch_mode, summary):
            packed, kept = [], []
            for path, image in group:
                # a multi-modal pipeline reads the colour image and its modality files
                item = (
                    dict(img_path=str(path), modality_paths=modality_files[path])
                    if multi_modal
                    else image
                )
                try:
                    packed.append(pack(pipeline, item))
                except (OSError, ValueError) as error:
                    summary.failed.append((path, str(error)))
                    continue
                kept.append((path, image))
            if not kept:
                continue
            with torch.no_grad():
                inputs, samples = collate(model, packed)
                if getattr(model, 'task_heads', None):
                    task_labels = _task_labels(model, inputs, samples)
                    labels = [image_labels.pop('') for image_labels in task_labels]
                else:
                    labels = _labels(model, inputs, samples)
                    task_labels = [{} for _ in labels]
            for (path, image), label, further in zip(kept, labels, task_labels):
                task_paths = task_output_paths(model, path, root, out_dir)
                for task, task_label in further.items():
                    save_label_png(task_label, task_palette(model, task), task_paths[task])
                label_path, overlay_path = output_paths(path, root, out_dir)
                save_label_png(label, palette, label_path)
                save_rgb_png(blend(image[..., ::-1], label, palette, opacity), overlay_path)
                summary.written += 1
        if progress is not None:
            for _ in batch:
                progress.update()
    if progress is not None:
        progress.file.write('\n')
    return summary


def _load_batch(
    batch: List[Path], batch_mode: str, summary: InferenceSummary
) -> List[List[Tuple[Path, np.ndarray]]]:
    """Load a planned batch: whole for 'pad', split by the decoded sizes for 'group'.

    Files that fail to load are recorded in ``summary`` and left out.
    """
    loaded = []
    for path in batch:
        try:
            loaded.append((path, read_image(path)))
        except (OSError, ValueError) as error:
            summary.failed.append((path, str(error)))
    if batch_mode == 'pad':
        return [loaded] if loaded else []
    groups: Dict[Tuple[int, ...], List[Tuple[Path, np.ndarray]]] = {}
    for path, image in loaded:
        groups.setdefault(image.shape[:2], []).append((path, image))
    return list(groups.values())


def _check_unique_outputs(paths: Sequence[Path], root: Path) -> None:
    seen: Dict[Path, Path] = {}
    for path in paths:
        label_path = output_paths(path, root, Path())[0]
        if label_path in seen:
            raise ValueError(
                f'{seen[label_path]} and {path} would both be written to '
                f'{label_path}; rename one or run them separately'
            )
        seen[label_path] = path


def _header_size(path: Path) -> Optional[Tuple[int, int]]:
    """``(height, width)`` from the image header, or None if it cannot be read."""
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, ValueError):
        return None
    return height, width


def _save_atomically(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f'.{path.name}.part')
    image.save(partial, format='PNG')
    os.replace(partial, path)
