"""FCN-32s, 16s, 8s (and 4s) side by side: refinement by skips (Figure 4 of the paper).

The paper's figure compares separately trained nets (:func:`predict_each_model`). A
second view takes one net and leaves out its finer skips
(:func:`predict_skip_variants`: ``FCNSkipHead.forward(..., num_levels=k)`` reuses the
trained score layers, upsampling and crops). That shows what each skip adds to this
net; it is not what a separately trained FCN-32s predicts, and it is labelled so
(e.g. ``'FCN-8s without the stride-16, 8 skips'``).
"""

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from mmseg.models import BaseSegmentor
from PIL import Image

from ..models import variant_name as strides_variant_name
from ..models.decode_heads import FCNSkipHead
from .inference import build_inference_pipeline, colorize, predict_labels, preprocess

IGNORE_INDEX = 255


def variant_name(model: BaseSegmentor, num_levels: Optional[int] = None) -> str:
    """``'FCN-<s>s'`` of ``model``'s head (``models.variant_name``), ``s`` being the
    stride of the finest level used.

    ``num_levels`` counts levels from the deepest, as in ``FCNSkipHead.forward``;
    default: all of them.
    """
    head = _skip_head(model)
    return strides_variant_name(head.in_strides[-(num_levels or len(head.in_strides)) :])


def skip_removal_name(model: BaseSegmentor, num_levels: int) -> str:
    """Name of ``model`` with only its deepest ``num_levels`` levels fused.

    E.g. for an FCN-8s: ``'FCN-8s without the stride-16, 8 skips'`` (1 level),
    ``'FCN-8s without the stride-8 skip'`` (2) and ``'FCN-8s'`` (3).
    """
    strides = _skip_head(model).in_strides
    left_out = strides[: len(strides) - num_levels]
    if not left_out:
        return variant_name(model)
    noun = 'skip' if len(left_out) == 1 else 'skips'
    return (
        f'{variant_name(model)} without the stride-'
        f'{", ".join(str(s) for s in reversed(left_out))} {noun}'
    )


@torch.no_grad()
def predict_skip_variants(model: BaseSegmentor, image: np.ndarray) -> Dict[str, np.ndarray]:
    """Label maps of one FCN model with its finer skips left out, coarsest first.

    For an FCN-8s model: ``{'FCN-8s without the stride-16, 8 skips': ...,
    'FCN-8s without the stride-8 skip': ..., 'FCN-8s': ...}``, all from the same
    forward pass of the backbone (whole-image inference). Names from
    :func:`skip_removal_name`: these are views of one net, not separately trained
    FCN-32s or FCN-16s nets.

    Args:
        model: Segmentor whose decode head is ``FCNSkipHead``.
        image: BGR ``uint8`` image of any size.
    """
    head = _skip_head(model)
    inputs, samples = preprocess(model, build_inference_pipeline(model.cfg), [image])
    metas = [sample.metainfo for sample in samples]
    features = model.extract_feat(inputs)
    labels = {}
    for num_levels in range(1, len(head.in_strides) + 1):
        logits = head.predict_by_feat(head.forward(features, num_levels), metas)
        result = model.postprocess_result(logits, samples)[0]
        label = result.pred_sem_seg.data[0].cpu().numpy()
        labels[skip_removal_name(model, num_levels)] = label
    return labels


def predict_each_model(models: Sequence[BaseSegmentor], image: np.ndarray) -> Dict[str, np.ndarray]:
    """Label map of each model, named by its variant (e.g. 'FCN-16s')."""
    labels = {}
    for model in models:
        name = variant_name(model)
        if name in labels:
            raise ValueError(f'two models are both {name}; give one model per variant')
        pipeline = build_inference_pipeline(model.cfg)
        labels[name] = predict_labels(model, pipeline, [image])[0]
    return labels


def read_label_map(path: Path) -> np.ndarray:
    """Load a ground-truth label map: one class index per pixel (palette or grey PNG).

    Raises:
        ValueError: if the file holds colours rather than class indices.
    """
    label = np.array(Image.open(path))
    if label.ndim != 2:
        raise ValueError(
            f'{path} has {label.shape[-1]} channels; pass a label map of '
            'class indices (a palette or single-channel PNG), not a colour '
            'rendering'
        )
    return label


def pixel_accuracy(
    label: np.ndarray, ground_truth: np.ndarray, ignore_index: int = IGNORE_INDEX
) -> float:
    """Fraction of the labelled pixels (not ``ignore_index``) predicted right."""
    if label.shape != ground_truth.shape:
        raise ValueError(
            f'prediction of size {label.shape} and ground truth of size '
            f'{ground_truth.shape} differ; pass the label map of this image'
        )
    valid = ground_truth != ignore_index
    return float((label[valid] == ground_truth[valid]).mean()) if valid.any() else 0.0


def draw_skip_figure(
    image_rgb: np.ndarray,
    labels: Dict[str, np.ndarray],
    classes: Sequence[str],
    palette: Sequence[Sequence[int]],
    out_file: Path,
    ground_truth: Optional[np.ndarray] = None,
    title: Optional[str] = None,
) -> Path:
    """Save the image, the ground truth (if given) and each prediction in one row.

    Args:
        image_rgb: ``(H, W, 3)`` RGB ``uint8`` image.
        labels: ``{name: (H, W) label map}``, one panel each, in this order.
        classes: Class names; a legend names the classes that appear.
        palette: RGB colour of each class.
        out_file: PNG to write (its folder is created).
        ground_truth: ``(H, W)`` class indices (255: unlabelled); when given, it
            gets a panel and each prediction's title its pixel accuracy.
        title: Line above the row, e.g. what the predictions come from.
    """
    panels: List[Tuple[str, np.ndarray]] = [('image', image_rgb)]
    shown = list(labels.values())
    if ground_truth is not None:
        panels.append(('ground truth', colorize(ground_truth, palette)))
        shown.append(ground_truth)
    for name, label in labels.items():
        panel_title = name
        if ground_truth is not None:
            accuracy = 100 * pixel_accuracy(label, ground_truth)
            panel_title += f'\n{accuracy:.1f}% pixel acc.'
        panels.append((panel_title, colorize(label, palette)))
    height, width = image_rgb.shape[:2]
    panel_width = 3.2
    figure = Figure(figsize=(panel_width * len(panels), panel_width * height / width + 1.3))
    axes = figure.subplots(1, len(panels))
    for axis, (panel_title, picture) in zip(np.atleast_1d(axes), panels):
        axis.imshow(picture)
        axis.set_title(panel_title, fontsize=9)
        axis.axis('off')
    if title:
        figure.suptitle(title, fontsize=10)
    present = sorted(set(np.unique(np.concatenate([s.ravel() for s in shown]))) - {IGNORE_INDEX})
    handles = [
        Patch(color=np.asarray(palette[i]) / 255, label=classes[i])
        for i in present
        if i < len(classes)
    ]
    figure.legend(
        handles=handles, loc='lower center', ncol=max(len(handles), 1), fontsize=8, frameon=False
    )
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out_file, dpi=120)
    return out_file


def _skip_head(model: BaseSegmentor) -> FCNSkipHead:
    head = model.decode_head
    if not isinstance(head, FCNSkipHead):
        raise ValueError(
            f"the model's decode head is {type(head).__name__}, not "
            'FCNSkipHead; use a config of this plugin (configs/fcn*.py)'
        )
    return head
