"""Prepare NYUDv2 (40 classes) in mmseg's layout from the FCN reference's layout.

The reference (shelhamer/fcn.berkeleyvision.org, data/nyud) reads, below NYUD_DIR:

- ``{train,val,test}.txt``: image ids (``5001``), train 381 + val 414 = trainval
  795, test 654 (Gupta et al.'s split);
- ``segmentation/img_<id>.mat``: ``segmentation``, 1..40 the classes, 0 void;
- ``data/images/img_<id>.png`` (colour) and ``data/hha/img_<id>.png`` (HHA), or the
  same without ``data/``;
- with ``--depth``: ``data/depth/img_<id>.png``, the depth maps, 16-bit, in
  millimetres (the reference's colour-depth net reads them as ``log(depth)``).

Writes into OUT_DIR (default data/nyudv2) what ``NYUDv2Dataset`` reads:

- ``images/img_<id>.png`` and ``hha/img_<id>.png``: copies of the released images;
- with ``--depth``, ``depth/img_<id>.png``: copies of the depth maps, each checked to
  be a single-channel 16-bit PNG;
- ``annotations/img_<id>.png``: 8-bit labels, the class k (1..40) as k - 1 (0..39)
  and void (0) as 255, ignored; the reference's data layer shifts them so too;
- ``train.txt``, ``val.txt``, ``trainval.txt``, ``test.txt``: ``img_<id>`` a line.

A listed image whose label or image file is missing stops the conversion, naming it.

Example:
    python tools/dataset_converters/nyud.py data/nyud --out-dir data/nyudv2 --depth
"""

import argparse
import shutil
from pathlib import Path
from typing import List, Optional

import numpy as np
from PIL import Image
from scipy.io import loadmat

NUM_CLASSES = 40
IGNORE_INDEX = 255
SPLITS = ('train', 'val', 'test')
MODALITIES = ('images', 'hha')
#: The folder of the depth maps, written with ``--depth``.
DEPTH = 'depth'
#: Pillow modes of single-channel 16-bit PNGs.
DEPTH_MODES = ('I;16', 'I;16B', 'I;16L', 'I')


def nyud_label(mat_path: Path) -> np.ndarray:
    """The ``(H, W)`` uint8 label map of ``segmentation/img_<id>.mat``: 0..39, 255 void.

    Raises:
        FileNotFoundError: if the file is missing.
        ValueError: if it has no ``segmentation`` or labels outside 0..40.
    """
    if not mat_path.is_file():
        raise FileNotFoundError(f'label file {mat_path} does not exist; check NYUD_DIR')
    label = loadmat(str(mat_path)).get('segmentation')
    if label is None:
        raise ValueError(f'{mat_path} holds no "segmentation"; is it an NYUDv2 40-class label?')
    label = np.asarray(label, dtype=np.int64)
    if label.min() < 0 or label.max() > NUM_CLASSES:
        raise ValueError(
            f'{mat_path} has labels in [{label.min()}, {label.max()}]; the 40-class '
            'labels are 0 (void) and 1..40'
        )
    return np.where(label == 0, IGNORE_INDEX, label - 1).astype(np.uint8)


def check_depth_map(path: Path) -> None:
    """Check that ``path`` is a single-channel 16-bit PNG (depth in millimetres).

    Raises:
        ValueError: naming the file, its mode and what is expected.
    """
    with Image.open(path) as image:
        mode = image.mode
    if mode not in DEPTH_MODES:
        raise ValueError(
            f'depth map {path} is a {mode!r} image; NYUDv2 depth maps are single-channel '
            '16-bit PNGs in millimetres (data/depth/img_<id>.png of the release)'
        )


def image_folder(nyud_dir: Path, modality: str) -> Path:
    """``data/<modality>`` if present (the reference's layout), else ``<modality>``."""
    nested = nyud_dir / 'data' / modality
    return nested if nested.is_dir() else nyud_dir / modality


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('nyud_dir', help='the reference layout: split lists, segmentation/, data/')
    parser.add_argument('--out-dir', default='data/nyudv2', help='where to write')
    parser.add_argument(
        '--depth',
        action='store_true',
        help='also copy data/depth/img_<id>.png (16-bit, mm) into depth/ (colour-depth net)',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Copy the images, write the labels and the split lists."""
    args = parse_args(argv)
    nyud_dir, out_dir = Path(args.nyud_dir), Path(args.out_dir)
    modalities = MODALITIES + ((DEPTH,) if args.depth else ())
    for folder in modalities + ('annotations',):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    names = {}
    for split in SPLITS:
        split_file = nyud_dir / f'{split}.txt'
        if not split_file.is_file():
            raise FileNotFoundError(f'split file {split_file} does not exist; check NYUD_DIR')
        ids = [line.strip() for line in split_file.read_text().splitlines() if line.strip()]
        names[split] = [f'img_{image_id}' for image_id in ids]
        for name in names[split]:
            for modality in modalities:
                source = image_folder(nyud_dir, modality) / f'{name}.png'
                if not source.is_file():
                    raise FileNotFoundError(
                        f'{modality} file {source} of {split}.txt does not exist; check NYUD_DIR'
                    )
                if modality == DEPTH:
                    check_depth_map(source)
                shutil.copyfile(source, out_dir / modality / f'{name}.png')
            label = nyud_label(nyud_dir / 'segmentation' / f'{name}.mat')
            Image.fromarray(label).save(out_dir / 'annotations' / f'{name}.png')
    names['trainval'] = names['train'] + names['val']
    for split, split_names in names.items():
        (out_dir / f'{split}.txt').write_text(''.join(f'{name}\n' for name in split_names))
        print(f'{split}: {len(split_names)} images')


if __name__ == '__main__':
    main()
