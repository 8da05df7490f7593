"""Tiny two-task datasets in the layout of the multi-task template
(``configs/templates/fcn8s_vgg16_custom-multi-task-dataset.py``)::

    <root>/img_dir/<split>/<name>.jpg
    <root>/ann_dir/<split>/<name>.png        first task: 0 background, 1 road, 2 building
    <root>/geo_ann_dir/<split>/<name>.png    task 'geo': 0 sky, 1 horizontal, 2 vertical

every label map with a 255 (unlabelled) top row.
"""

from pathlib import Path
from typing import Dict, Iterable, Mapping, Tuple

import numpy as np
from PIL import Image

#: The template's classes of both tasks.
CLASSES = ('background', 'road', 'building')
GEO_CLASSES = ('sky', 'horizontal', 'vertical')
#: Train and val names of the default dataset.
SPLITS = {'train': ('0001', '0002', '0003', '0004'), 'val': ('0101', '0102')}


def two_task_labels(height: int, width: int) -> Tuple[np.ndarray, np.ndarray]:
    """``(H, W)`` uint8 label maps of both tasks: a road band below a building block
    (first task); sky above, ground below, upright elsewhere (``geo``)."""
    semantic = np.zeros((height, width), np.uint8)
    semantic[height // 2 :, :] = 1
    semantic[4 : 4 + height // 4, 4 : 4 + width // 4] = 2
    geo = np.full((height, width), 2, np.uint8)
    geo[: height // 3, :] = 0
    geo[height // 2 :, :] = 1
    semantic[0, :] = geo[0, :] = 255
    return semantic, geo


def write_two_task_dataset(
    root: Path,
    splits: Mapping[str, Iterable[str]] = SPLITS,
    task: str = 'geo',
    seed: int = 0,
) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """Write the images and both tasks' labels (40-64 px a side) under ``root``.

    Names may hold subfolders (``'a/0001'``). Returns ``{f'{split}/{name}':
    (semantic, task_labels)}``.
    """
    rng = np.random.default_rng(seed)
    colours = np.array([[30, 30, 30], [200, 70, 70], [70, 70, 210]], np.uint8)
    written = {}
    for split, names in splits.items():
        for name in names:
            height, width = (int(v) for v in rng.integers(40, 65, size=2))
            semantic, geo = two_task_labels(height, width)
            image = colours[np.where(semantic == 255, 0, semantic)]
            image = image + rng.integers(0, 25, image.shape).astype(np.uint8)
            for folder, array, suffix in (
                ('img_dir', image, '.jpg'),
                ('ann_dir', semantic, '.png'),
                (f'{task}_ann_dir', geo, '.png'),
            ):
                path = Path(root) / folder / split / f'{name}{suffix}'
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(array).save(path)
            written[f'{split}/{name}'] = (semantic, geo)
    return written
