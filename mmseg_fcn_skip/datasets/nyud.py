"""NYUDv2 with the 40 classes of Gupta et al. (CVPR 2013), as the FCN paper scores it.

The images, HHA images and labels of the 1,449 labelled frames, split into trainval
795 (train 381 + val 414) and test 654, in mmseg's folder layout as
``tools/dataset_converters/nyud.py`` writes it from the reference layout::

    data/nyudv2/
      images/img_<id>.png        colour, as released
      hha/img_<id>.png           HHA (horizontal disparity, height, angle), as released
      depth/img_<id>.png         depth, 16-bit, millimetres (written with --depth)
      annotations/img_<id>.png   0..39 the classes below, 255 void (ignored)
      train.txt val.txt trainval.txt test.txt   one name (img_<id>) a line

The released labels are 1..40 with 0 for void; the converter writes them shifted
(0 -> 255, k -> k - 1) as the reference's data layer feeds them, so the dataset
reads them with ``reduce_zero_label=False``.
"""

from typing import List, Sequence, Tuple

from mmseg.registry import DATASETS

from .multi_task import MultiTaskSegDataset

#: The 40 classes in the order of their labels 1..40 (Gupta et al.; the written
#: labels are 0..39).
NYUD_CLASSES: Tuple[str, ...] = (
    'wall',
    'floor',
    'cabinet',
    'bed',
    'chair',
    'sofa',
    'table',
    'door',
    'window',
    'bookshelf',
    'picture',
    'counter',
    'blinds',
    'desk',
    'shelves',
    'curtain',
    'dresser',
    'pillow',
    'mirror',
    'floor mat',
    'clothes',
    'ceiling',
    'books',
    'refrigerator',
    'television',
    'paper',
    'towel',
    'shower curtain',
    'box',
    'whiteboard',
    'person',
    'night stand',
    'toilet',
    'sink',
    'lamp',
    'bathtub',
    'bag',
    'otherstructure',
    'otherfurniture',
    'otherprop',
)


def bit_palette(count: int, start: int = 1) -> List[List[int]]:
    """PASCAL VOC's colour map: the bits of each index spread over R, G and B.

    Args:
        count: Number of colours.
        start: Index of the first colour (1 skips VOC's black for label 0).

    Returns:
        list[list[int]]: ``count`` distinct RGB colours.
    """
    palette = []
    for index in range(start, start + count):
        colour, value = [0, 0, 0], index
        for bit in range(7, -1, -1):
            for channel in range(3):
                colour[channel] |= ((value >> channel) & 1) << bit
            value >>= 3
        palette.append(colour)
    return palette


NYUD_PALETTE = bit_palette(len(NYUD_CLASSES))


@DATASETS.register_module()
class NYUDv2Dataset(MultiTaskSegDataset):
    """NYUDv2, 40 classes, in the layout of ``tools/dataset_converters/nyud.py``.

    ``data_prefix=dict(img_path='images')`` reads the colour images,
    ``img_path='hha'`` the HHA images. A listed sample whose image or label file is
    missing is an error naming the files when the dataset is built (not when the
    sample is first loaded, possibly hours into a training).

    ``modalities`` names sibling images of each sample (colour plus HHA or depth,
    for ``LoadMultiModalImage``): ``dict(hha='hha')`` gives each sample's data info
    ``modality_paths=dict(hha='<data_root>/hha/img_<id>.png')``, the file of the same
    name (the image's, its suffix replaced by ``modality_suffix``) in the folder
    ``hha`` under ``data_root``; ``dict(depth='depth')`` the depth map. A missing
    modality file is an error naming it when the dataset is built, as above. The
    naming and the checks are those of :class:`MultiTaskSegDataset` (NYUDv2 has no
    further task).

    Args:
        img_suffix: Suffix of the image files.
        seg_map_suffix: Suffix of the label files.
        reduce_zero_label: False: the labels are already 0..39 with 255 void.
        **kwargs: Passed on to :class:`MultiTaskSegDataset` (``modalities``,
            ``modality_suffix``) and mmseg's ``BaseSegDataset``.

    Raises:
        FileNotFoundError: naming the missing files and the fix.
        ValueError: if ``modalities`` is not a dict of names to folders.
    """

    METAINFO = dict(classes=NYUD_CLASSES, palette=NYUD_PALETTE)
    MODALITIES_EXAMPLE = "dict(hha='hha') or dict(depth='depth')"

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

    def missing_files_message(self, missing: Sequence[str], listed: str) -> str:
        """The error for the ``missing`` files: the converter writes them."""
        return (
            f'NYUDv2: {len(missing)} file(s) of the samples listed in {self.ann_file} '
            f'are missing: {listed}. Write the dataset with '
            'tools/dataset_converters/nyud.py (see docs/datasets/nyud.md; --depth '
            'for the depth maps) or remove the samples from the list.'
        )
