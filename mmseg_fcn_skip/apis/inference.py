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
"""

import copy
import glob
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

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

IMAGE_SUFFIXES = ('.bmp', '.jpeg', '.jpg', '.png', '.tif', '.tiff', '.webp')
BATCH_MODES = ('group', 'pad')
LABEL_DIR, OVERLAY_DIR = 'pred', 'vis'
#: Written into every output folder: images under a folder holding it are outputs,
#: never inputs, also for a later run that writes elsewhere.
OUTPUT_MARKER = '.fcn_skip_outputs'


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
    """The config's test pipeline for images already loaded as BGR arrays.

    Takes ``test_dataloader.dataset.pipeline`` (else ``test_pipeline``), drops the
    annotation loading and loads from an array instead of a file.
    """
    pipeline = cfg.get('test_dataloader', {}).get('dataset', {}).get('pipeline')
    pipeline = copy.deepcopy(pipeline or cfg.get('test_pipeline'))
    if not pipeline:
        raise ValueError(
            'the config has neither test_dataloader.dataset.pipeline nor '
            'test_pipeline; add the test pipeline the model was evaluated '
            'with'
        )
    labels = ('LoadAnnotations', 'LoadDepthAnnotation', 'LoadTaskAnnotations')
    pipeline = [t for t in pipeline if t['type'] not in labels]
    loaders = [t for t in pipeline if t['type'] == 'LoadImageFromFile']
    if not loaders:
        raise ValueError(
            "the test pipeline has no 'LoadImageFromFile' step to replace "
            'by loading from an array; start it with '
            "dict(type='LoadImageFromFile')"
        )
    loaders[0]['type'] = 'LoadImageFromNDArray'
    return Compose(pipeline)


@torch.no_grad()
def predict_labels(
    model: BaseSegmentor, pipeline: Compose, images: Sequence[np.ndarray]
) -> List[np.ndarray]:
    """Label maps ``(H, W)`` of BGR ``images`` (any sizes), predicted as one batch.

    Each image goes through ``pipeline`` and the model's data preprocessor on its
    own, the batch is padded at the bottom and right to its largest image with the
    preprocessor's ``pad_val``, and the padding is cut off again before the
    prediction is resized back to the image size, as mmseg does for a padded batch.
    """
    inputs, samples = preprocess(model, pipeline, images)
    metas = [sample.metainfo for sample in samples]
    if (model.test_cfg or {}).get('mode', 'whole') == 'slide':
        logits = model.slide_inference(inputs, metas)
    else:
        logits = model.whole_inference(inputs, metas)
    results = model.postprocess_result(logits, samples)
    return [r.pred_sem_seg.data[0].cpu().numpy() for r in results]


@torch.no_grad()
def predict_task_labels(
    model: BaseSegmentor, pipeline: Compose, images: Sequence[np.ndarray]
) -> List[Dict[str, np.ndarray]]:
    """Every task's label maps ``(H, W)`` of BGR ``images`` as one batch, for a
    ``MultiTaskEncoderDecoder``: ``{'': first task, t: further task t}`` per image.

    Batched as :func:`predict_labels`; the backbone runs once per image (or crop).
    """
    inputs, samples = preprocess(model, pipeline, images)
    results = model.predict(inputs, samples)
    labels = []
    for result in results:
        image_labels = {'': result.pred_sem_seg.data[0].cpu().numpy()}
        for task in model.task_heads:
            image_labels[task] = result.get(f'pred_{task}_seg').data[0].cpu().numpy()
        labels.append(image_labels)
    return labels


def preprocess(
    model: BaseSegmentor, pipeline: Compose, images: Sequence[np.ndarray]
) -> Tuple[Tensor, List[SegDataSample]]:
    """Transform and normalise ``images`` and stack them, padded, into one batch."""
    inputs, samples = [], []
    for image in images:
        packed = pipeline(dict(img=image))
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
) -> InferenceSummary:
    """Predict every image in ``paths`` and write its label PNG and overlay.

    Args:
        model: Segmentor from :func:`~mmseg_fcn_skip.apis.load_model`, with
            ``cfg`` and ``dataset_meta``.
        paths: Images to predict.
        root: Folder the output names are relative to (see :func:`find_images`).
        out_dir: Output folder; ``pred/``, ``vis/`` and the ``OUTPUT_MARKER`` file
            are made in it.
        batch_size: Images per forward pass.
        batch_mode: ``'group'`` or ``'pad'`` (see the module docstring).
        skip_existing: Skip images whose two outputs exist (restart a run).
        opacity: Weight of the label colours in the overlay, in [0, 1].
        show_progress: Show a progress bar.

    Returns:
        Counts of written and skipped images, and the images that could not be read
        with the reason; the others are written all the same.
    """
    if not 0 <= opacity <= 1:
        raise ValueError(f'opacity={opacity!r} must be in [0, 1]')
    _check_unique_outputs(paths, root)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / OUTPUT_MARKER).touch()
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
    pipeline = build_inference_pipeline(model.cfg)
    palette = model.dataset_meta['palette']
    progress = ProgressBar(len(todo), file=sys.stdout) if show_progress and todo else None
    for batch in plan_batches(todo, batch_size, batch_mode):
        for group in _load_batch(batch, batch_mode, summary):
            batch_images = [image for _, image in group]
            if getattr(model, 'task_heads', None):
                task_labels = predict_task_labels(model, pipeline, batch_images)
                labels = [image_labels.pop('') for image_labels in task_labels]
            else:
                labels = predict_labels(model, pipeline, batch_images)
                task_labels = [{} for _ in labels]
            for (path, image), label, further in zip(group, labels, task_labels):
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
