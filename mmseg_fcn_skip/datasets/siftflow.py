"""SIFT Flow (Liu, Yuen, Torralba): 33 semantic and 3 geometric classes per pixel.

The 2,688 outdoor 256x256 images of ``SiftFlowDataset.zip``, less the 2 without
annotations (highway_bost181, street_urb506), split as the FCN reference's lists
(trainval 2,488, test 200), in mmseg's folder layout as
``tools/dataset_converters/siftflow.py`` writes it::

    data/siftflow/
      images/<name>.jpg              as released
      annotations/<name>.png         semantic: 0..32 the classes below, 255 void
      geo_annotations/<name>.png     geometric: 0 sky, 1 horizontal, 2 vertical, 255 void
      trainval.txt test.txt          one name a line

The semantic labels are the first task (``gt_sem_seg``), the geometric the task
``geo`` (``gt_geo_seg``, loaded by ``LoadTaskAnnotations``): each sample's
``task_seg_map_paths`` is ``dict(geo=<path>)`` and the dataset meta's ``task_classes``
``dict(geo=GEO_CLASSES)``. The paper leaves cow, desert and moon, absent from the
test set, out of the semantic scores: the configs say so with
``FCNMetric(exclude_classes=SIFTFLOW_TEST_ABSENT)``.
"""

from typing import Dict, Optional, Sequence, Tuple

from mmseg.registry import DATASETS

from .multi_task import MultiTaskSegDataset
from .nyud import bit_palette

#: The 33 semantic classes in the order of the released labels 1..33 (written 0..32)
#: and of the released nets' ``_sem`` score channels.
SIFTFLOW_CLASSES: Tuple[str, ...] = (
    'awning',
    'balcony',
    'bird',
    'boat',
    'bridge',
    'building',
    'bus',
    'car',
    'cow',
    'crosswalk',
    'desert',
    'door',
    'fence',
    'field',
    'grass',
    'moon',
    'mountain',
    'person',
    'plant',
    'pole',
    'river',
    'road',
    'rock',
    'sand',
    'sea',
    'sidewalk',
    'sign',
    'sky',
    'staircase',
    'streetlight',
    'sun',
    'tree',
    'window',
)
#: The geometric classes, labels 1..3 released (written 0..2), the ``_geo`` channels.
SIFTFLOW_GEO_CLASSES: Tuple[str, ...] = ('sky', 'horizontal', 'vertical')
#: Semantic classes absent from the test set, left out of the paper's scores.
SIFTFLOW_TEST_ABSENT: Tuple[str, ...] = ('cow', 'desert', 'moon')
#: Images of the release without annotations, in no split.
SIFTFLOW_UNANNOTATED: Tuple[str, ...] = ('highway_bost181', 'street_urb506')
SIFTFLOW_PALETTE = bit_palette(len(SIFTFLOW_CLASSES))
#: Sky blue, ground brown, upright grey.
SIFTFLOW_GEO_PALETTE = [[70, 130, 180], [140, 100, 40], [128, 128, 128]]


@DATASETS.register_module()
class SiftFlowDataset(MultiTaskSegDataset):
    """SIFT Flow in the layout of ``tools/dataset_converters/siftflow.py``.

    Semantic labels are the first task; each further task of ``task_seg_map_prefixes``
    (default: ``geo`` in ``geo_annotations/``) gives every sample
    ``task_seg_map_paths[task]`` (``<data_root>/<folder>/<name><seg_map_suffix>``). A
    listed sample whose image, semantic or task label file is missing is an error
    naming the files when the dataset is built. A ``MultiTaskSegDataset`` with SIFT
    Flow's classes, suffixes and task folder as defaults.

    Args:
        img_suffix: Suffix of the image files. Default: ``'.jpg'``.
        seg_map_suffix: Suffix of the label files (every task). Default: ``'.png'``.
        reduce_zero_label: False: the labels are already 0-based with 255 void.
        task_seg_map_prefixes (dict[str, str], optional): Task -> folder of its label
            files below ``data_root``. Default: ``dict(geo='geo_annotations')``; ``{}``
            loads the semantic labels only.
        **kwargs: Passed on to :class:`MultiTaskSegDataset`.

    Raises:
        FileNotFoundError: naming the missing files and the fix.
        ValueError: if a task of ``task_seg_map_prefixes`` has no classes in the meta.
    """

    METAINFO = dict(
        classes=SIFTFLOW_CLASSES,
        palette=SIFTFLOW_PALETTE,
        task_classes=dict(geo=SIFTFLOW_GEO_CLASSES),
        task_palettes=dict(geo=SIFTFLOW_GEO_PALETTE),
    )

    def __init__(
        self,
        img_suffix: str = '.jpg',
        seg_map_suffix: str = '.png',
        reduce_zero_label: bool = False,
        task_seg_map_prefixes: Optional[Dict[str, str]] = None,
        **kwargs,
    ) -> None:
        if task_seg_map_prefixes is None:
            task_seg_map_prefixes = dict(geo='geo_annotations')
        super().__init__(
            task_seg_map_prefixes=task_seg_map_prefixes,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs,
        )

    def missing_files_message(self, missing: Sequence[str], listed: str) -> str:
        """The error for the ``missing`` files: written by the converter."""
        return (
            f'SIFT Flow: {len(missing)} file(s) of the samples listed in '
            f'{self.ann_file} are missing: {listed}. Write the dataset with '
            'tools/dataset_converters/siftflow.py (see docs/datasets/siftflow.md) or '
            'remove the samples from the list.'
        )
