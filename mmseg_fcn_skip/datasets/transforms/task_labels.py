"""Loading and packing the labels of further tasks (``MultiTaskEncoderDecoder``).

A multi-task dataset gives each sample ``task_seg_map_paths=dict(geo=<path>, ...)``;
:class:`LoadTaskAnnotations` reads each into ``results['gt_{t}_seg']`` and lists it in
``results['seg_fields']``, :class:`PackMultiTaskInputs` packs it as the
``SegDataSample``'s ``gt_{t}_seg`` (``PixelData``) next to mmseg's ``gt_sem_seg``.

Geometric transforms that move every entry of ``seg_fields`` keep the task labels
aligned with the image and ``gt_seg_map`` (mmseg's own, registered in its
``TRANSFORMS``, as the ``mmseg`` and ``mmseg_fcn_skip`` scopes build them):
``RandomFlip``, ``Resize``, ``RandomResize`` and ``RandomChoiceResize`` (both build
the scope's ``Resize``), ``RandomCrop``, ``RandomRotate``, ``RandomRotFlip``,
``ResizeToMultiple``, ``SegRescale``, ``RandomCutOut``, ``RandomMosaic``. mmcv's
``Pad`` and mmcv's ``Resize``/``RandomFlip`` (type ``'mmcv.Resize'`` or a pipeline built
outside any scope) move ``gt_seg_map`` only: :class:`PackMultiTaskInputs` then finds the
sizes differ and raises. The batch padding of ``SegDataPreProcessor`` pads
``gt_sem_seg`` only; ``MultiTaskEncoderDecoder`` pads the task labels alike in its loss.
"""

import re
from typing import Dict, Optional, Sequence

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, to_tensor
from mmengine import fileio
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

from ...models.segmentors.multi_task import task_fields

#: Key of a task's label map in the results dict: ``gt_{task}_seg``.
TASK_LABEL_KEY = re.compile(r'^gt_(\w+)_seg$')


@TRANSFORMS.register_module()
class LoadTaskAnnotations(BaseTransform):
    """Read every task's label map: ``results['gt_{t}_seg']`` ``(H, W)`` uint8.

    Required keys: ``task_seg_map_paths`` (dict, task -> path, from the dataset).
    Added keys: ``gt_{t}_seg`` for each task, listed in ``seg_fields`` so that the
    geometric transforms move them with the image (see the module docstring).

    Args:
        tasks (Sequence[str], optional): The tasks to load; default: every task of
            ``task_seg_map_paths``.
        imdecode_backend (str): mmcv's image decoding backend. Default: ``'pillow'``
            (as mmseg's ``LoadAnnotations``).
        backend_args (dict, optional): Arguments of the file backend.

    Raises:
        KeyError: if the sample has no ``task_seg_map_paths`` or lacks a task asked
            for (naming the sample and the dataset setting that gives them).
    """

    def __init__(
        self,
        tasks: Optional[Sequence[str]] = None,
        imdecode_backend: str = 'pillow',
        backend_args: Optional[dict] = None,
    ) -> None:
        self.tasks = None if tasks is None else tuple(tasks)
        self.imdecode_backend = imdecode_backend
        self.backend_args = None if backend_args is None else dict(backend_args)

    def transform(self, results: Dict) -> Dict:
        """Load the label maps of the tasks into ``results``."""
        paths = results.get('task_seg_map_paths')
        sample = results.get('img_path', 'the sample')
        if paths is None:
            raise KeyError(
                f'{sample} has no task_seg_map_paths; LoadTaskAnnotations needs a '
                'multi-task dataset (MultiTaskSegDataset with task_seg_map_prefixes, or '
                'SiftFlowDataset) whose samples name each '
                "task's label file"
            )
        tasks = self.tasks if self.tasks is not None else tuple(paths)
        for task in tasks:
            if task not in paths:
                raise KeyError(
                    f'{sample} has no label file of task {task!r} (it has '
                    f'{sorted(paths)}); add the task to the dataset or drop it from '
                    'LoadTaskAnnotations(tasks=...)'
                )
            data = fileio.get(paths[task], backend_args=self.backend_args)
            label = mmcv.imfrombytes(data, flag='unchanged', backend=self.imdecode_backend)
            key = task_fields(task)[0]
            results[key] = label.squeeze().astype(np.uint8)
            results.setdefault('seg_fields', []).append(key)
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(tasks={self.tasks}, '
            f"imdecode_backend='{self.imdecode_backend}', backend_args={self.backend_args})"
        )


@TRANSFORMS.register_module()
class PackMultiTaskInputs(PackSegInputs):
    """mmseg's ``PackSegInputs``, plus each ``results['gt_{t}_seg']`` as the data
    sample's ``gt_{t}_seg`` ``PixelData`` ``(1, H, W)`` int64.

    Raises:
        ValueError: if a task's labels are not the size of ``gt_seg_map`` (a
            transform moved one and not the other), naming the task and the sizes.
    """

    def transform(self, results: dict) -> dict:
        """Pack the image, ``gt_sem_seg`` and every task's labels."""
        packed = super().transform(results)
        sample = packed['data_samples']
        for key, label in results.items():
            match = TASK_LABEL_KEY.match(key)
            if match is None or label is None:
                continue
            if 'gt_seg_map' in results and label.shape[:2] != results['gt_seg_map'].shape[:2]:
                raise ValueError(
                    f'the labels of task {match.group(1)!r} are {label.shape[:2]} but '
                    f'gt_seg_map is {results["gt_seg_map"].shape[:2]} in '
                    f'{results.get("img_path", "a sample")}: a transform moved only '
                    "gt_seg_map; use mmseg's transforms, which move every entry of "
                    'seg_fields (see mmseg_fcn_skip/datasets/transforms/task_labels.py)'
                )
            data = to_tensor(np.ascontiguousarray(label[None, ...]).astype(np.int64))
            sample.set_data({key: PixelData(data=data)})
        return packed
