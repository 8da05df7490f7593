"""Prepare PASCAL-Context (59 classes) in mmseg's layout from the release's .mat label maps.

For users without the Detail API json that mmseg's own converter reads. The
PASCAL-Context release (Mottaghi et al., CVPR 2014; trainval.tar.gz) holds
``trainval/<id>.mat``, whose ``LabelMap`` labels every pixel with one of 459 classes
(1-based indices into ``labels.txt``, lines ``<index>: <name>``), and the list of the
59 most frequent classes (``59_labels.txt``, or the FCN reference's
``data/pascal-context/classes-59.txt``, whose line 0 is background). Each pixel of one
of the 59 classes gets 1 + the index of the class in mmseg's ``PascalContextDataset59``
(alphabetical); every other pixel gets 0, which mmseg ignores (``reduce_zero_label``)
and the FCN reference trains as background. The lists' names are matched without
spaces, and the spellings ``diningtable``/``table``, ``bedcloth``/``bedclothes``,
``clothes``/``cloth`` are one class each.

Writes into VOC_ROOT (VOCdevkit/VOC2010, whose JPEGImages hold the images):

- SegmentationClassContext/<id>.png: 8-bit label maps, 0 other, 1..59 the classes
- ImageSets/SegmentationContext/{train,val}.txt: the ids of VOC2010's
  ImageSets/Main/{train,val}.txt with a label map (4,998 and 5,105), as the reference

These are what configs/fcn_skip_caffe/*_pascal-context-59-fullsize.py read.

Example:
    python tools/dataset_converters/pascal_context.py data/VOCdevkit/VOC2010 \\
        data/pascal-context
"""

import argparse
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmseg.datasets import PascalContextDataset59
from PIL import Image
from scipy.io import loadmat

LABEL_DIR = 'SegmentationClassContext'
SPLIT_DIR = Path('ImageSets') / 'SegmentationContext'
SPLITS = ('train', 'val')
#: One class, two spellings: the 59-class lists' and mmseg's / labels.txt's.
SPELLINGS = (('diningtable', 'table'), ('bedcloth', 'bedclothes'), ('clothes', 'cloth'))
MMSEG_CLASSES = tuple(PascalContextDataset59.METAINFO['classes'])


def read_names(path: Path) -> List[str]:
    """Class names of a list file: ``<index>: <name>`` or ``<name>`` lines, spaces removed.

    Raises:
        FileNotFoundError: if the file is missing.
    """
    if not path.is_file():
        raise FileNotFoundError(f'class list {path} does not exist; check the path')
    names = []
    for line in path.read_text().splitlines():
        if line.strip():
            names.append(re.sub(r'^\s*\d+\s*:', '', line).replace(' ', '').strip())
    return names


def _canonical(name: str) -> str:
    for *others, main in SPELLINGS:
        if name in others:
            return main
    return name


def label_table(all_labels: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Lookup table: ``LabelMap`` value (1-based into ``all_labels``) -> PNG value.

    Args:
        all_labels: The 459 names of ``labels.txt``, in order.
        classes: The 59 class names (a leading ``background`` is skipped).

    Returns:
        uint8 array of ``len(all_labels) + 1`` entries: 1 + the mmseg index of each
        of the 59 classes, 0 for every other label and for 0.

    Raises:
        ValueError: listing the classes not found in ``all_labels`` or not among
            mmseg's 59.
    """
    positions: Dict[str, int] = {_canonical(name): i + 1 for i, name in enumerate(all_labels)}
    mmseg = {name: i + 1 for i, name in enumerate(MMSEG_CLASSES)}
    table = np.zeros(len(all_labels) + 1, dtype=np.uint8)
    unknown = []
    for name in classes:
        if name == 'background':
            continue
        canonical = _canonical(name)
        if canonical not in positions or canonical not in mmseg:
            unknown.append(name)
            continue
        table[positions[canonical]] = mmseg[canonical]
    if unknown:
        raise ValueError(
            f"the classes {unknown} are not among the labels of labels.txt or mmseg's "
            'PascalContextDataset59 classes; give the 59-class list of the release '
            '(59_labels.txt) or of the FCN reference (classes-59.txt)'
        )
    return table


def convert_label_map(mat_path: Path, table: np.ndarray) -> np.ndarray:
    """The ``(H, W)`` uint8 label map of one ``trainval/<id>.mat``.

    Raises:
        ValueError: if the file has no ``LabelMap`` or a label beyond the table.
    """
    label_map = loadmat(str(mat_path)).get('LabelMap')
    if label_map is None:
        raise ValueError(f'{mat_path} holds no LabelMap; is it a PASCAL-Context label file?')
    label_map = np.asarray(label_map, dtype=np.int64)
    if label_map.min() < 0 or label_map.max() >= len(table):
        raise ValueError(
            f'{mat_path} has labels in [{label_map.min()}, {label_map.max()}], beyond the '
            f"{len(table) - 1} of labels.txt; check that the labels.txt is the release's"
        )
    return table[label_map]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('voc_root', help='VOCdevkit/VOC2010 (ImageSets/Main/{train,val}.txt)')
    parser.add_argument('context_dir', help='the release: trainval/<id>.mat and labels.txt')
    parser.add_argument(
        '--classes',
        help='the 59-class list (default: CONTEXT_DIR/59_labels.txt); the FCN '
        "reference's classes-59.txt works as well",
    )
    parser.add_argument('--out-dir', help='where to write (default: VOC_ROOT)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Write the label maps and the split lists."""
    args = parse_args(argv)
    voc_root, context_dir = Path(args.voc_root), Path(args.context_dir)
    out_dir = Path(args.out_dir) if args.out_dir else voc_root
    classes = read_names(Path(args.classes) if args.classes else context_dir / '59_labels.txt')
    table = label_table(read_names(context_dir / 'labels.txt'), classes)
    (out_dir / LABEL_DIR).mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        split_file = voc_root / 'ImageSets' / 'Main' / f'{split}.txt'
        if not split_file.is_file():
            raise FileNotFoundError(f'split file {split_file} does not exist; check VOC_ROOT')
        ids = [line.split()[0] for line in split_file.read_text().splitlines() if line.strip()]
        written = []
        for image_id in ids:
            mat_path = context_dir / 'trainval' / f'{image_id}.mat'
            if not mat_path.is_file():
                continue
            label = convert_label_map(mat_path, table)
            Image.fromarray(label).save(out_dir / LABEL_DIR / f'{image_id}.png')
            written.append(image_id)
        (out_dir / SPLIT_DIR).mkdir(parents=True, exist_ok=True)
        (out_dir / SPLIT_DIR / f'{split}.txt').write_text(''.join(f'{i}\n' for i in written))
        print(f'{split}: {len(written)} label maps ({len(ids) - len(written)} ids without one)')


if __name__ == '__main__':
    main()
