"""A tiny synthetic SIFT Flow release in the layout of ``SiftFlowDataset.zip``.

Images of ``SHAPE`` (the release's are 256x256), semantic labels 0..33 (0 void) and
geometric labels -1 (void), 1..3 in .mat files (key ``S``), the reference's split lists,
and one of the two unannotated images listed in trainval.
"""

import zipfile
from pathlib import Path
from typing import Dict, Tuple

import numpy as np
from PIL import Image
from scipy.io import savemat

SUBFOLDER = 'spatial_envelope_256x256_static_8outdoorcategories'
SHAPE = (24, 28)
TRAINVAL = ('coast_n1', 'forest_n2', 'street_n3')
TEST = ('highway_n4', 'tallbuilding_n5')


def write_release(root: Path, seed: int = 0) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """Write the release below ``root/SiftFlowDataset``; return each name's released
    ``(semantic, geometric)`` label arrays."""
    rng = np.random.default_rng(seed)
    base = Path(root) / 'SiftFlowDataset'
    for folder in ('Images', 'SemanticLabels', 'GeoLabels'):
        (base / folder / SUBFOLDER).mkdir(parents=True, exist_ok=True)
    labels = {}
    for name in TRAINVAL + TEST:
        image = rng.integers(0, 256, (*SHAPE, 3), dtype=np.uint8)
        Image.fromarray(image).save(base / 'Images' / SUBFOLDER / f'{name}.jpg', quality=95)
        semantic = rng.integers(0, 34, SHAPE)
        semantic[0, :3] = (0, 1, 33)
        geometric = rng.integers(1, 4, SHAPE)
        geometric[0, :2] = (-1, 3)
        savemat(
            base / 'SemanticLabels' / SUBFOLDER / f'{name}.mat', dict(S=semantic.astype(np.uint16))
        )
        savemat(base / 'GeoLabels' / SUBFOLDER / f'{name}.mat', dict(S=geometric.astype(np.int16)))
        labels[name] = (semantic, geometric)
    # the reference's lists name the unannotated images too
    (base / 'trainval.txt').write_text('\n'.join(TRAINVAL + ('highway_bost181',)) + '\n')
    (base / 'test.txt').write_text('\n'.join(TEST) + '\n')
    return labels


def zip_release(root: Path, zip_path: Path) -> Path:
    """Zip ``root/SiftFlowDataset`` as ``SiftFlowDataset.zip`` is."""
    with zipfile.ZipFile(zip_path, 'w') as archive:
        for path in sorted((Path(root) / 'SiftFlowDataset').rglob('*')):
            archive.write(path, path.relative_to(root))
    return zip_path
