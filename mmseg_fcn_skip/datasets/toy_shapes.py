"""A tiny synthetic segmentation dataset of coloured shapes.

``generate_toy_shapes`` writes images and label maps in MMSegmentation's
folder layout and :class:`ToyShapesDataset` reads them back. The data is small
enough to train and evaluate a model on a CPU in minutes, which makes it useful
for smoke tests and for checking a training setup end to end.
"""

from pathlib import Path
from typing import Tuple, Union

import cv2
import numpy as np
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

TOY_SHAPES_CLASSES = ('background', 'disc', 'box', 'triangle', 'bar')
TOY_SHAPES_PALETTE = [[0, 0, 0], [220, 20, 60], [0, 160, 60], [30, 90, 230], [240, 200, 0]]
IGNORE_INDEX = 255
SPLITS = ('train', 'val')

# Mean RGB colour of each foreground class. Every shape draws its colour
# around this mean with a wide spread, so colour alone is a hint, not an
# answer: the network also has to use the shape.
_CLASS_MEAN_RGB = np.array(
    [[200, 70, 70], [70, 180, 80], [80, 100, 200], [200, 190, 60]], dtype=np.float32
)
_COLOUR_SPREAD = 25.0


@DATASETS.register_module()
class ToyShapesDataset(BaseSegDataset):
    """Synthetic shapes written by :func:`generate_toy_shapes`.

    Expects ``img_dir/<split>/*.png`` images and ``ann_dir/<split>/*.png``
    label maps holding one class index per pixel (255 marks pixels to ignore).

    Args:
        img_suffix: Suffix of the image files.
        seg_map_suffix: Suffix of the label map files.
        reduce_zero_label: Whether to drop label 0; index 0 is the real
            ``background`` class here, so this stays False.
        **kwargs: Passed on to :class:`mmseg.datasets.BaseSegDataset`.
    """

    METAINFO = dict(classes=TOY_SHAPES_CLASSES, palette=TOY_SHAPES_PALETTE)

    def __init__(
        self,
        img_suffix: str = '.png',
        seg_map_suffix: str = '.png',
        reduce_zero_label: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs,
        )


def generate_toy_shapes(
    root: Union[str, Path],
    num_train: int = 200,
    num_val: int = 40,
    seed: int = 0,
    size_range: Tuple[int, int] = (97, 193),
    max_shapes: int = 6,
) -> Path:
    """Write a synthetic shapes dataset in MMSegmentation's folder layout.

    The output is ``root/img_dir/{train,val}/<name>.png`` (RGB images) and
    ``root/ann_dir/{train,val}/<name>.png`` (uint8 label maps with the class
    index of :data:`TOY_SHAPES_CLASSES` per pixel, 255 on the thin outline
    of some shapes). Image heights and widths are drawn independently from
    ``size_range``, so odd sizes and varied aspect ratios occur. The output
    depends only on the arguments: the same seed gives identical files.

    Each image has 1 to ``max_shapes`` shapes of random classes, centred anywhere
    on a background of a colour gradient, stripes and noise: discs with a radius of
    6-20% of the image's shorter side (at least 3 px), boxes with sides of 12-40% of
    it rotated by 0-90 degrees, triangles with a radius of 10-25% of it and corners
    120 degrees (+-20) apart, and bars 30-80% of the longer side long and 2-4 px wide.

    Args:
        root: Folder to write into; created if missing.
        num_train: Number of training images.
        num_val: Number of validation images.
        seed: Seed of the random generator.
        size_range: Inclusive ``(min, max)`` image height and width in pixels.
        max_shapes: Largest number of shapes drawn on one image (at least 1).

    Returns:
        The dataset root as a :class:`pathlib.Path`.
    """
    counts = dict(train=num_train, val=num_val)
    for name, count in counts.items():
        if count < 0:
            raise ValueError(
                f'num_{name} must be >= 0, got {count}; pass the number of images to write.'
            )
    low, high = size_range
    if not 32 <= low <= high:
        raise ValueError(
            f'size_range must satisfy 32 <= min <= max, got {size_range}; pass e.g. (97, 193).'
        )
    if max_shapes < 1:
        raise ValueError(f'max_shapes must be >= 1, got {max_shapes}; pass e.g. 6.')

    root = Path(root)
    for split_id, split in enumerate(SPLITS):
        img_dir = root / 'img_dir' / split
        ann_dir = root / 'ann_dir' / split
        img_dir.mkdir(parents=True, exist_ok=True)
        ann_dir.mkdir(parents=True, exist_ok=True)
        for index in range(counts[split]):
            rng = np.random.default_rng([seed, split_id, index])
            height, width = rng.integers(low, high + 1, size=2)
            image, label = _draw_sample(rng, int(height), int(width), max_shapes)
            name = f'{split}_{index:05d}.png'
            cv2.imwrite(str(img_dir / name), image[..., ::-1])
            cv2.imwrite(str(ann_dir / name), label)
    return root


def _draw_sample(
    rng: np.random.Generator, height: int, width: int, max_shapes: int
) -> Tuple[np.ndarray, np.ndarray]:
    """Draw one RGB uint8 image and its uint8 label map."""
    image = _textured_background(rng, height, width)
    label = np.zeros((height, width), dtype=np.uint8)
    for _ in range(int(rng.integers(1, max_shapes + 1))):
        class_id = int(rng.integers(1, len(TOY_SHAPES_CLASSES)))
        mask = np.zeros((height, width), dtype=np.uint8)
        _draw_shape(rng, mask, class_id)
        region = mask.astype(bool)
        if not region.any():
            continue
        image[region] = _shape_pixels(rng, class_id, int(region.sum()))
        label[region] = class_id
        # Bars are too thin to lose a border, so only outline other shapes.
        if class_id != 4 and rng.random() < 0.3:
            edge = region & ~cv2.erode(mask, np.ones((3, 3), np.uint8))
            label[edge.astype(bool)] = IGNORE_INDEX
    return image, label


def _textured_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Return a float RGB background of gradient, stripes and noise."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    ramp = (xs * np.cos(angle) + ys * np.sin(angle)) / max(height, width)
    base = rng.uniform(40, 215, size=3).astype(np.float32)
    tilt = rng.uniform(-60, 60, size=3).astype(np.float32)
    image = base + ramp[..., None] * tilt

    stripe_angle = rng.uniform(0, np.pi)
    period = rng.uniform(6, 24)
    phase = (xs * np.cos(stripe_angle) + ys * np.sin(stripe_angle)) / period
    stripes = np.sin(2 * np.pi * phase)[..., None]
    image += stripes * rng.uniform(5, 30, size=3).astype(np.float32)
    image += rng.normal(0, rng.uniform(4, 14), size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def _shape_pixels(rng: np.random.Generator, class_id: int, count: int) -> np.ndarray:
    """Return ``count`` noisy RGB pixels around a jittered class colour."""
    colour = _CLASS_MEAN_RGB[class_id - 1] + rng.normal(0, _COLOUR_SPREAD, size=3)
    pixels = colour + rng.normal(0, 10, size=(count, 3))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _draw_shape(rng: np.random.Generator, mask: np.ndarray, class_id: int) -> None:
    """Fill the pixels of one shape of ``class_id`` in ``mask`` with 1."""
    height, width = mask.shape
    short = min(height, width)
    cx = rng.uniform(0, width)
    cy = rng.uniform(0, height)
    if class_id == 1:  # disc
        radius = int(rng.uniform(0.06, 0.2) * short)
        cv2.circle(mask, (int(cx), int(cy)), max(radius, 3), 1, -1)
    elif class_id == 2:  # box, rotated
        side_w, side_h = rng.uniform(0.12, 0.4, size=2) * short
        corners = cv2.boxPoints(((cx, cy), (side_w, side_h), rng.uniform(0, 90)))
        cv2.fillPoly(mask, [corners.round().astype(np.int32)], 1)
    elif class_id == 3:  # triangle
        radius = rng.uniform(0.1, 0.25) * short
        start = rng.uniform(0, 2 * np.pi)
        angles = start + np.array([0, 2, 4]) * np.pi / 3
        angles += rng.uniform(-0.35, 0.35, size=3)
        points = np.stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)], 1)
        cv2.fillPoly(mask, [points.round().astype(np.int32)], 1)
    else:  # bar: a long thin strip, 2 to 4 pixels wide
        length = rng.uniform(0.3, 0.8) * max(height, width)
        angle = rng.uniform(0, np.pi)
        thickness = rng.uniform(2, 4)
        # Rasterise exactly rather than with cv2.line, which draws strokes
        # about one pixel wider than asked.
        ys, xs = np.mgrid[0:height, 0:width]
        along = (xs - cx) * np.cos(angle) + (ys - cy) * np.sin(angle)
        across = (ys - cy) * np.cos(angle) - (xs - cx) * np.sin(angle)
        mask[(np.abs(along) <= length / 2) & (np.abs(across) <= thickness / 2)] = 1
