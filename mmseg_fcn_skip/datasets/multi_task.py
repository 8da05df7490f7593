"""A segmentation dataset of your own with further tasks' labels (and modalities).

mmseg's ``BaseSegDataset`` (any layout it reads: ``data_root``, ``data_prefix``,
``img_suffix``, ``seg_map_suffix``, an ``ann_file`` of names or a scan of the image
folder) plus, for a ``MultiTaskEncoderDecoder``, the label files of each further
task. The first task's labels are mmseg's (``seg_map_path`` -> ``gt_sem_seg``); task
``t`` of ``task_seg_map_prefixes=dict(t=<folder>)`` has, for every sample, the file of
the sample's name in ``<folder>``::

    data/my_dataset/
      img_dir/train/<name>.jpg         the image
      ann_dir/train/<name>.png         the first task's labels     -> gt_sem_seg
      depth_ann_dir/train/<name>.png   task 'depth' (0..K-1, 255)  -> gt_depth_seg

``<name>`` is the image's path below ``data_prefix['img_path']`` less ``img_suffix``
(subfolders included, as mmseg names the first task's label file), so
``task_seg_map_prefixes=dict(depth='depth_ann_dir/train')`` gives the sample
``img_dir/train/a/0001.jpg`` the file ``depth_ann_dir/train/a/0001<seg_map_suffix>``.
``LoadTaskAnnotations`` reads them (as they are: ``reduce_zero_label`` and the class
remapping of ``metainfo['classes']`` apply to the first task only).

Each further task's classes are given in the meta, ``metainfo=dict(classes=...,
task_classes=dict(depth=(...)), task_palettes=dict(depth=[...]))`` (palettes
optional); ``TaskMetric`` names its scores by them and ``tools/infer.py`` colours with
the palette.
"""

import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine import fileio
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from ..models.segmentors.multi_task import check_task_name
from .transforms.multi_modal import MODALITY_CHANNELS, MODALITY_SUFFIX

#: How many missing files an error lists by name.
MAX_LISTED_FILES = 5


def check_folders(value: Optional[Dict[str, str]], argument: str, example: str) -> Dict[str, str]:
    """``value`` as a dict of names to folders (empty for None).

    Raises:
        ValueError: unless it maps names to folders (non-empty strings), naming
            ``argument`` and showing ``example``.
    """
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items()
    ):
        raise ValueError(
            f'{argument}={value!r} must map each name to its folder under data_root '
            f'(or an absolute folder), e.g. {argument}={example}'
        )
    return dict(value)


@DATASETS.register_module()
class MultiTaskSegDataset(BaseSegDataset):
    """mmseg's ``BaseSegDataset`` whose samples also name each further task's labels.

    Every sample's data info gets ``task_seg_map_paths``, task -> label file
    (``<folder>/<name><seg_map_suffix>``, the folder of ``task_seg_map_prefixes``
    below ``data_root`` unless absolute, ``<name>`` the image's path below
    ``data_prefix['img_path']`` less ``img_suffix``: see the module docstring), for
    ``LoadTaskAnnotations``; with ``modalities``, also ``modality_paths``, modality
    -> file (``<folder>/<name><modality_suffix>``), for ``LoadMultiModalImage``. A
    sample whose image, label file, task label file or modality file is missing is an
    error naming the files when the dataset is built (not when the sample is first
    loaded, possibly hours into a training).

    The meta's ``task_classes`` keeps the tasks loaded: ``TaskMetric(task=t)`` reads
    ``task_classes[t]`` (and ``task_palettes[t]`` if given).

    Args:
        task_seg_map_prefixes (dict[str, str], optional): Further task -> folder of
            its label files, e.g. ``dict(depth='depth_ann_dir/train')``. Task names
            are those of the model's ``task_heads``. Default: None (the first task
            only).
        modalities (dict[str, str], optional): Modality -> folder of its files,
            ``'hha'`` or ``'depth'`` as ``LoadMultiModalImage`` reads them, e.g.
            ``dict(depth='depth_dir/train')``. Default: None (colour images only).
        modality_suffix (str): Suffix of the modality files. Default: ``'.png'``.
        **kwargs: Passed on to :class:`mmseg.datasets.BaseSegDataset`; ``metainfo``
            gives ``classes`` (the first task's), ``task_classes`` (one tuple of
            class names per task of ``task_seg_map_prefixes``) and, optionally,
            ``palette`` and ``task_palettes``.

    Raises:
        ValueError: if ``task_seg_map_prefixes`` or ``modalities`` is not a dict of
            names to folders, a task name is not valid, a task of
            ``task_seg_map_prefixes`` has no classes in ``metainfo['task_classes']``,
            a task's palette has another count than its classes, or a modality is
            unknown.
        FileNotFoundError: naming the missing files and the fix.
    """

    #: The ``modalities`` shown in its errors.
    MODALITIES_EXAMPLE = "dict(depth='depth_dir/train')"

    def __init__(
        self,
        task_seg_map_prefixes: Optional[Dict[str, str]] = None,
        modalities: Optional[Dict[str, str]] = None,
        modality_suffix: str = MODALITY_SUFFIX,
        **kwargs,
    ) -> None:
        name = type(self).__name__
        self.task_seg_map_prefixes = check_folders(
            task_seg_map_prefixes, 'task_seg_map_prefixes', "dict(depth='depth_ann_dir/train')"
        )
        for task in self.task_seg_map_prefixes:
            check_task_name(task)
        self.modalities = check_folders(modalities, 'modalities', self.MODALITIES_EXAMPLE)
        unknown_modalities = sorted(set(self.modalities) - set(MODALITY_CHANNELS))
        if unknown_modalities:
            raise ValueError(
                f'{name}: modalities {unknown_modalities} are unknown; LoadMultiModalImage '
                f'reads {tuple(MODALITY_CHANNELS)}: name the folders by those, e.g. '
                f'modalities={self.MODALITIES_EXAMPLE}'
            )
        self.modality_suffix = modality_suffix
        metainfo = kwargs.get('metainfo') or {}
        if metainfo.get('classes', self.METAINFO.get('classes')) is None:
            raise ValueError(
                f"{name}: metainfo has no 'classes' (the first task's class names, in "
                'label order); give them with metainfo=dict(classes=(...), '
                'task_classes=dict(<task>=(...)))'
            )
        task_classes = dict(self.METAINFO.get('task_classes', {}))
        task_classes.update(metainfo.get('task_classes') or {})
        unknown = sorted(set(self.task_seg_map_prefixes) - set(task_classes))
        if unknown:
            raise ValueError(
                f'{name}: the tasks {unknown} of task_seg_map_prefixes have no '
                "classes in metainfo['task_classes']; give them with "
                'metainfo=dict(task_classes=dict(<task>=(...)))'
            )
        task_palettes = dict(self.METAINFO.get('task_palettes', {}))
        task_palettes.update(metainfo.get('task_palettes') or {})
        for task in self.task_seg_map_prefixes:
            palette = task_palettes.get(task)
            if palette is not None and len(palette) != len(task_classes[task]):
                raise ValueError(
                    f"{name}: metainfo['task_palettes'][{task!r}] has {len(palette)} "
                    f'colours for the {len(task_classes[task])} classes of task {task!r}; '
                    'give one [R, G, B] per class, in the order of its task_classes'
                )
        super().__init__(**kwargs)
        # only the tasks loaded are scored
        self._metainfo['task_classes'] = {
            task: classes
            for task, classes in task_classes.items()
            if task in self.task_seg_map_prefixes
        }

    def sample_name(self, img_path: str) -> str:
        """The sample's name: the image's path below the image folder, less
        ``img_suffix`` (``img_dir/train/a/0001.jpg`` -> ``a/0001``)."""
        relative = osp.relpath(img_path, self.data_prefix.get('img_path') or os.curdir)
        if self.img_suffix and relative.endswith(self.img_suffix):
            relative = relative[: -len(self.img_suffix)]
        return relative

    def _folder(self, folder: str) -> str:
        return folder if osp.isabs(folder) else osp.join(self.data_root or '', folder)

    def load_data_list(self) -> List[dict]:
        """mmseg's samples, each with every task's label path and every modality's
        file, all present."""
        data_list = super().load_data_list()
        task_folders = {t: self._folder(f) for t, f in self.task_seg_map_prefixes.items()}
        modality_folders = {m: self._folder(f) for m, f in self.modalities.items()}
        for info in data_list:
            name = self.sample_name(info['img_path'])
            info['task_seg_map_paths'] = {
                task: osp.join(folder, name + self.seg_map_suffix)
                for task, folder in task_folders.items()
            }
            if modality_folders:
                info['modality_paths'] = {
                    modality: osp.join(folder, name + self.modality_suffix)
                    for modality, folder in modality_folders.items()
                }
        missing = [
            path
            for info in data_list
            for path in (
                info['img_path'],
                info.get('seg_map_path'),
                *info['task_seg_map_paths'].values(),
                *info.get('modality_paths', {}).values(),
            )
            if path is not None and not fileio.isfile(path, backend_args=self.backend_args)
        ]
        if missing:
            more = len(missing) - MAX_LISTED_FILES
            listed = ', '.join(missing[:MAX_LISTED_FILES]) + (
                f' and {more} more' if more > 0 else ''
            )
            raise FileNotFoundError(self.missing_files_message(missing, listed))
        return data_list

    def missing_files_message(self, missing: Sequence[str], listed: str) -> str:
        """The error for the ``missing`` files (``listed``: the first few, joined)."""
        source = (
            f'listed in {self.ann_file}'
            if self.ann_file
            else f'found in {self.data_prefix.get("img_path")}'
        )
        return (
            f'{type(self).__name__}: {len(missing)} file(s) of the samples {source} are '
            f'missing: {listed}. Every sample needs its image, its label file (data_prefix '
            "seg_map_path) and the file of the sample's name in each folder of "
            f'task_seg_map_prefixes (ending in seg_map_suffix {self.seg_map_suffix!r}) and '
            f'of modalities (ending in modality_suffix {self.modality_suffix!r}): add the '
            'files or remove the samples' + (f' from {self.ann_file}.' if self.ann_file else '.')
        )
