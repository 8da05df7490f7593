"""Prepare SBD and seg11valid, the data of the FCN paper, in mmseg's VOC layout.

SBD (the Semantic Boundaries Dataset, Hariharan et al., "benchmark_RELEASE") labels
11,355 PASCAL images: cls/<id>.mat holds a MATLAB struct GTcls whose Segmentation
field is the HxW class map (0 background, 1..20 the VOC classes). Its train split
has 8,498 images. seg11valid is the FCN paper's validation set: the VOC2011
segmentation val images that are not in SBD train (736 of 1,111). It may overlap
SBD val; only SBD train is excluded, as in the paper (its training images must not
be validated on).

Writes into VOC_ROOT (VOCdevkit/VOC2012, whose JPEGImages hold every SBD image and
whose SegmentationClass holds the seg11valid labels):

- SegmentationClassSBD/<id>.png: SBD class maps (8-bit, values 0..20)
- ImageSets/Segmentation/sbd_train.txt: the SBD train list
- ImageSets/Segmentation/seg11valid.txt: VOC2011 val minus SBD train

These are what configs/_base_/datasets/sbd_seg11valid.py reads.

Example:
    python tools/dataset_converters/sbd.py data/benchmark_RELEASE/dataset \\
        data/VOCdevkit/VOC2012 \\
        --voc2011-val data/VOCdevkit/VOC2011/ImageSets/Segmentation/val.txt
"""

import argparse
from functools import partial
from multiprocessing import Pool
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
from PIL import Image
from scipy.io import loadmat

SBD_TRAIN_SIZE = 8498
SEG11VALID_SIZE = 736
NUM_CLASSES = 21
IGNORE_INDEX = 255
LABEL_DIR = 'SegmentationClassSBD'
SPLIT_DIR = Path('ImageSets') / 'Segmentation'


def read_split(path: Path) -> List[str]:
    """Image ids of a split file, one per line, blank lines skipped."""
    if not path.is_file():
        raise FileNotFoundError(f'split file {path} does not exist; check the path')
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def write_split(path: Path, ids: Sequence[str]) -> None:
    """Write image ids one per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(f'{i}\n' for i in ids))


def sbd_label(mat_path: Path) -> np.ndarray:
    """The ``(H, W)`` uint8 class map of an SBD ``cls/*.mat`` file.

    Raises:
        ValueError: if the file has no ``GTcls.Segmentation`` or holds values other
            than classes 0..20 (and 255).
    """
    mat = loadmat(str(mat_path), squeeze_me=True, struct_as_record=False)
    if 'GTcls' not in mat or not hasattr(mat['GTcls'], 'Segmentation'):
        raise ValueError(
            f'{mat_path} has no GTcls.Segmentation: not an SBD cls file '
            '(the inst/ files hold instances, use cls/)'
        )
    label = np.asarray(mat['GTcls'].Segmentation)
    values = np.unique(label)
    if label.ndim != 2 or not np.isin(values, list(range(NUM_CLASSES)) + [IGNORE_INDEX]).all():
        raise ValueError(
            f'{mat_path}: GTcls.Segmentation of shape {label.shape} with '
            f'values {values.tolist()} is no class map (HxW, 0..20)'
        )
    return label.astype(np.uint8)


def convert_label(mat_path: Path, out_dir: Path) -> None:
    """Write the class map of ``mat_path`` to ``out_dir/<id>.png``."""
    Image.fromarray(sbd_label(mat_path)).save(out_dir / f'{mat_path.stem}.png')


def seg11valid_ids(voc2011_val: Sequence[str], sbd_train: Sequence[str]) -> List[str]:
    """VOC2011 val ids not in SBD train, in the VOC list's order."""
    excluded = set(sbd_train)
    return [i for i in voc2011_val if i not in excluded]


def prepare(sbd_dir: Path, voc_root: Path, voc2011_val: Path, nproc: int = 1) -> dict:
    """Convert the SBD labels and write both split files.

    Args:
        sbd_dir (Path): SBD's ``dataset`` directory (``cls/``, ``train.txt``).
        voc_root (Path): ``VOCdevkit/VOC2012``; outputs go here.
        voc2011_val (Path): VOC2011's ``ImageSets/Segmentation/val.txt``.
        nproc (int): Processes converting labels.

    Returns:
        dict: Counts: ``labels`` converted, ``sbd_train`` and ``seg11valid`` ids.

    Raises:
        FileNotFoundError: if an input is missing, or SBD train ids have no .mat or
            seg11valid ids no label in ``voc_root/SegmentationClass``.
    """
    cls_dir = sbd_dir / 'cls'
    mat_paths = sorted(cls_dir.glob('*.mat'))
    sbd_train = read_split(sbd_dir / 'train.txt')
    _check_present('SBD train', sbd_train, {p.stem for p in mat_paths}, cls_dir, '.mat')
    val_ids = seg11valid_ids(read_split(voc2011_val), sbd_train)
    voc_labels = voc_root / 'SegmentationClass'
    _check_present(
        'seg11valid', val_ids, {p.stem for p in voc_labels.glob('*.png')}, voc_labels, '.png'
    )
    out_dir = voc_root / LABEL_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    with Pool(nproc) as pool:
        pool.map(partial(convert_label, out_dir=out_dir), mat_paths)
    write_split(voc_root / SPLIT_DIR / 'sbd_train.txt', sbd_train)
    write_split(voc_root / SPLIT_DIR / 'seg11valid.txt', val_ids)
    return dict(labels=len(mat_paths), sbd_train=len(sbd_train), seg11valid=len(val_ids))


def _check_present(
    split: str, ids: Sequence[str], found: set, directory: Path, suffix: str
) -> None:
    missing = [i for i in ids if i not in found]
    if missing:
        raise FileNotFoundError(
            f'{len(missing)} {split} images have no {directory}/<id>{suffix} (e.g. '
            f'{missing[0]}): check the SBD and VOC paths (VOC_ROOT is VOC2012)'
        )


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        'sbd_dir', metavar='SBD_DIR', help="SBD's dataset directory (with cls/ and train.txt)"
    )
    parser.add_argument(
        'voc_root', metavar='VOC_ROOT', help='VOCdevkit/VOC2012, where the outputs are written'
    )
    parser.add_argument(
        '--voc2011-val',
        help="VOC2011's ImageSets/Segmentation/val.txt (default: "
        'VOC_ROOT/../VOC2011/ImageSets/Segmentation/val.txt)',
    )
    parser.add_argument(
        '--nproc', type=int, default=1, help='processes converting labels (default: 1)'
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Prepare SBD and seg11valid and report the counts."""
    args = parse_args(argv)
    voc_root = Path(args.voc_root)
    voc2011_val = (
        Path(args.voc2011_val)
        if args.voc2011_val
        else (voc_root.parent / 'VOC2011' / SPLIT_DIR / 'val.txt')
    )
    counts = prepare(Path(args.sbd_dir), voc_root, voc2011_val, args.nproc)
    print(f'{counts["labels"]} SBD label maps -> {voc_root / LABEL_DIR}')
    for split, expected in (('sbd_train', SBD_TRAIN_SIZE), ('seg11valid', SEG11VALID_SIZE)):
        note = (
            ''
            if counts[split] == expected
            else (f' (the paper has {expected}: check the input lists)')
        )
        print(f'{counts[split]} ids -> {voc_root / SPLIT_DIR / split}.txt{note}')


if __name__ == '__main__':
    main()
