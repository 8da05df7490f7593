"""A tiny NYUDv2 release in the FCN reference's layout, with depth maps.

``{train,val,test}.txt`` (ids), ``segmentation/img_<id>.mat`` (``segmentation``: 0 void,
1..40), ``data/images/img_<id>.png`` (colour, RGB as stored), ``data/hha/img_<id>.png``
(3 channels) and ``data/depth/img_<id>.png`` (16-bit, millimetres), as
``tools/dataset_converters/nyud.py`` reads them.
"""

from pathlib import Path
from typing import Dict, NamedTuple

import numpy as np
from PIL import Image
from scipy.io import savemat

SPLITS = {'train': ['5001', '5002'], 'val': ['5003'], 'test': ['5004', '5005']}
SHAPE = (21, 27)


class Frame(NamedTuple):
    """The arrays written for one image id."""

    colour: np.ndarray  # (H, W, 3) uint8, RGB as stored
    hha: np.ndarray  # (H, W, 3) uint8, as stored
    depth: np.ndarray  # (H, W) uint16, mm
    label: np.ndarray  # (H, W) uint8, 0 void, 1..40


def write_nyud_release(root: Path, shape=SHAPE) -> Dict[str, Frame]:
    """Write the release below ``root``; return each id's arrays."""
    root = Path(root)
    frames = {}
    for folder in ('segmentation', 'data/images', 'data/hha', 'data/depth'):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for split, ids in SPLITS.items():
        (root / f'{split}.txt').write_text('\n'.join(ids) + '\n')
        for image_id in ids:
            rng = np.random.default_rng(int(image_id))
            depth = rng.integers(600, 9000, shape).astype(np.uint16)
            depth[0, 0] = 0  # one missing pixel
            frame = Frame(
                colour=rng.integers(0, 256, (*shape, 3), dtype=np.uint8),
                hha=rng.integers(0, 256, (*shape, 3), dtype=np.uint8),
                depth=depth,
                label=rng.integers(0, 41, shape).astype(np.uint8),
            )
            name = f'img_{image_id}'
            Image.fromarray(frame.colour).save(root / 'data' / 'images' / f'{name}.png')
            Image.fromarray(frame.hha).save(root / 'data' / 'hha' / f'{name}.png')
            Image.fromarray(frame.depth).save(root / 'data' / 'depth' / f'{name}.png')
            savemat(str(root / 'segmentation' / f'{name}.mat'), dict(segmentation=frame.label))
            frames[image_id] = frame
    return frames
