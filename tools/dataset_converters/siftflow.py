"""Prepare SIFT Flow (semantic + geometric labels) in mmseg's layout.

Reads ``SiftFlowDataset.zip`` (or the folder it extracts to), which holds below one
folder (``SiftFlowDataset/`` or the root):

- ``Images/spatial_envelope_256x256_static_8outdoorcategories/<name>.jpg``;
- ``SemanticLabels/spatial_envelope_256x256_static_8outdoorcategories/<name>.mat``:
  ``S``, 1..33 the classes, 0 void;
- ``GeoLabels/spatial_envelope_256x256_static_8outdoorcategories/<name>.mat``: ``S``,
  1 sky, 2 horizontal, 3 vertical, -1 (or 0) void;

and the FCN reference's split lists ``trainval.txt`` (2,488) and ``test.txt`` (200)
(shelhamer/fcn.berkeleyvision.org, data/sift-flow), one name a line, from
``--lists-dir`` (default: next to the images' folders).

Writes into OUT_DIR (default data/siftflow) what ``SiftFlowDataset`` reads:

- ``images/<name>.jpg``: copies of the released images;
- ``annotations/<name>.png``: semantic class k (1..33) as k - 1, void as 255;
- ``geo_annotations/<name>.png``: geometric class k (1..3) as k - 1, void as 255
  (as the reference's data layer feeds them);
- ``trainval.txt``, ``test.txt``: the listed names, less highway_bost181 and
  street_urb506 (released without annotations).

A listed image whose image or label file is missing stops the conversion, naming it.

Example:
    python tools/dataset_converters/siftflow.py SiftFlowDataset.zip --lists-dir \
        fcn.berkeleyvision.org/data/sift-flow --out-dir data/siftflow
"""

import argparse
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import List, Optional

import numpy as np
from PIL import Image
from scipy.io import loadmat

SUBFOLDER = 'spatial_envelope_256x256_static_8outdoorcategories'
NUM_CLASSES = 33
NUM_GEO_CLASSES = 3
IGNORE_INDEX = 255
SPLITS = ('trainval', 'test')
UNANNOTATED = ('highway_bost181', 'street_urb506')


def release_root(path: Path) -> Path:
    """The folder holding ``Images/``: ``path`` itself or its one subfolder that does.

    Raises:
        FileNotFoundError: if neither holds ``Images/``.
    """
    if (path / 'Images').is_dir():
        return path
    found = [child for child in sorted(path.iterdir()) if (child / 'Images').is_dir()]
    if not found:
        raise FileNotFoundError(
            f'{path} holds no Images/ folder (nor does any folder in it); give the '
            'extracted SiftFlowDataset folder or SiftFlowDataset.zip'
        )
    return found[0]


def read_label(mat_path: Path, num_classes: int, void: tuple) -> np.ndarray:
    """The ``(H, W)`` uint8 labels of a release .mat file: ``k - 1``, void as 255.

    Args:
        mat_path: ``SemanticLabels/.../<name>.mat`` or ``GeoLabels/.../<name>.mat``.
        num_classes: The largest class label (33 semantic, 3 geometric).
        void: The labels that mean void (``(0,)`` semantic, ``(-1, 0)`` geometric).

    Raises:
        FileNotFoundError: if the file is missing.
        ValueError: if it has no ``S`` or labels outside ``void`` and 1..num_classes.
    """
    if not mat_path.is_file():
        raise FileNotFoundError(f'label file {mat_path} does not exist; check SIFTFLOW_DIR')
    label = loadmat(str(mat_path)).get('S')
    if label is None:
        raise ValueError(f'{mat_path} holds no "S"; is it a SIFT Flow label file?')
    label = np.asarray(label, dtype=np.int64)
    if label.min() < min(void) or label.max() > num_classes:
        raise ValueError(
            f'{mat_path} has labels in [{label.min()}, {label.max()}]; expected '
            f'{", ".join(map(str, void))} (void) and 1..{num_classes}'
        )
    return np.where(np.isin(label, void), IGNORE_INDEX, label - 1).astype(np.uint8)


def read_split(lists_dir: Path, split: str) -> List[str]:
    """The names listed in ``<lists_dir>/<split>.txt`` (extensions dropped)."""
    split_file = lists_dir / f'{split}.txt'
    if not split_file.is_file():
        raise FileNotFoundError(
            f'split file {split_file} does not exist; give the folder of the '
            "reference's trainval.txt and test.txt with --lists-dir"
        )
    lines = (line.strip() for line in split_file.read_text().splitlines())
    return [Path(line).stem for line in lines if line]


def convert(root: Path, lists_dir: Path, out_dir: Path) -> dict:
    """Write the layout of the module docstring; return the names written per split."""
    for folder in ('images', 'annotations', 'geo_annotations'):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    written = {}
    for split in SPLITS:
        names = read_split(lists_dir, split)
        skipped = [name for name in names if name in UNANNOTATED]
        names = [name for name in names if name not in UNANNOTATED]
        for name in names:
            image = root / 'Images' / SUBFOLDER / f'{name}.jpg'
            if not image.is_file():
                raise FileNotFoundError(
                    f'image {image} of {split}.txt does not exist; check SIFTFLOW_DIR'
                )
            shutil.copyfile(image, out_dir / 'images' / f'{name}.jpg')
            labels = (root / 'SemanticLabels' / SUBFOLDER, root / 'GeoLabels' / SUBFOLDER)
            semantic = read_label(labels[0] / f'{name}.mat', NUM_CLASSES, (0,))
            geometric = read_label(labels[1] / f'{name}.mat', NUM_GEO_CLASSES, (-1, 0))
            Image.fromarray(semantic).save(out_dir / 'annotations' / f'{name}.png')
            Image.fromarray(geometric).save(out_dir / 'geo_annotations' / f'{name}.png')
        (out_dir / f'{split}.txt').write_text(''.join(f'{name}\n' for name in names))
        note = f' (left out, unannotated: {", ".join(skipped)})' if skipped else ''
        print(f'{split}: {len(names)} images{note}')
        written[split] = names
    return written


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('siftflow', help='SiftFlowDataset.zip or the folder it extracts to')
    parser.add_argument(
        '--lists-dir',
        help="folder of the reference's trainval.txt and test.txt "
        '(default: the folder holding Images/)',
    )
    parser.add_argument('--out-dir', default='data/siftflow', help='where to write')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Copy the images, write both label maps and the split lists."""
    args = parse_args(argv)
    source, out_dir = Path(args.siftflow), Path(args.out_dir)
    if not source.exists():
        raise FileNotFoundError(f'{source} does not exist; give SiftFlowDataset.zip or its folder')
    with tempfile.TemporaryDirectory() as extracted:
        if source.is_file():
            if not zipfile.is_zipfile(source):
                raise ValueError(
                    f'{source} is not a zip file; give SiftFlowDataset.zip or its folder'
                )
            with zipfile.ZipFile(source) as archive:
                archive.extractall(extracted)
            source = Path(extracted)
        root = release_root(source)
        lists_dir = Path(args.lists_dir) if args.lists_dir else root
        convert(root, lists_dir, out_dir)


if __name__ == '__main__':
    main()
