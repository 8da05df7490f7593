"""A segmentation metric run on one further task of a ``MultiTaskEncoderDecoder``."""

from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import METRICS

from ..models.segmentors.multi_task import check_task_name, task_fields


@METRICS.register_module()
class TaskMetric(BaseMetric):
    """Run ``metric`` (``IoUMetric``, ``FCNMetric``, ...) on the task ``task``.

    The wrapped metric sees each sample with the task's prediction ``pred_{t}_seg``
    as ``pred_sem_seg``, its labels ``gt_{t}_seg`` as ``gt_sem_seg`` and its logits
    ``{t}_seg_logits`` as ``seg_logits``, and the dataset meta with the task's classes
    (``dataset_meta['task_classes'][task]``) and palette
    (``dataset_meta['task_palettes'][task]``, if any) as ``classes`` and ``palette``.
    Its scores are logged with the task's name as prefix (``geo/mIoU``), and it prints
    its per-class table under the task's name. The first task (``decode_head``) needs
    no wrapper: use the metric itself.

    Example::

        val_evaluator = [
            dict(type='FCNMetric'),
            dict(type='TaskMetric', task='geo', metric=dict(type='IoUMetric')),
        ]

    Args:
        task (str): The task's name (a key of ``task_heads``).
        metric (dict): Config of the wrapped metric. Its ``prefix`` defaults to
            ``task``; ``collect_device`` is its own.
        collect_device (str): Unused by the wrapper (the wrapped metric collects).
        prefix (str, optional): Unused by the wrapper; set the wrapped metric's.

    Raises:
        ValueError: (when the dataset meta is set) if the dataset has no classes for
            ``task``, naming the task and the tasks the dataset loads.
        KeyError: (in ``process``) if a sample lacks the task's prediction or labels.
    """

    def __init__(
        self,
        task: str,
        metric: dict,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        check_task_name(task)
        if not isinstance(metric, dict) or 'type' not in metric:
            raise TypeError(
                f'TaskMetric(metric=...) must be a metric config with a type, got '
                f"{metric!r}; e.g. metric=dict(type='IoUMetric')"
            )
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.task = task
        self.metric = METRICS.build(dict(dict(prefix=task), **metric))

    @property
    def dataset_meta(self) -> Optional[dict]:
        """The dataset's meta (the wrapped metric gets the task's classes)."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        self._dataset_meta = dataset_meta
        task_classes = dict(dataset_meta.get('task_classes') or {})
        if self.task not in task_classes:
            loaded = ', '.join(repr(t) for t in task_classes) or 'none'
            raise ValueError(
                f'TaskMetric(task={self.task!r}): the dataset loads no labels of task '
                f"{self.task!r} (its dataset meta 'task_classes' has the tasks: "
                f'{loaded}); score a task the dataset loads, or use a multi-task dataset '
                '(MultiTaskSegDataset with task_seg_map_prefixes and task_classes, or '
                'SiftFlowDataset)'
            )
        meta = dict(dataset_meta, classes=tuple(task_classes[self.task]))
        palette = (dataset_meta.get('task_palettes') or {}).get(self.task)
        if palette is not None:
            meta['palette'] = palette
        else:
            meta.pop('palette', None)
        self.metric.dataset_meta = meta

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Hand the wrapped metric each sample with the task's fields as mmseg's."""
        label_field, logits_field, pred_field = task_fields(self.task)
        samples = []
        for sample in data_samples:
            needed = [pred_field] + ([] if self._format_only else [label_field])
            missing = [field for field in needed if field not in sample]
            if missing:
                raise KeyError(
                    f'TaskMetric(task={self.task!r}): the sample '
                    f'{sample.get("img_path", "")} has no {" and no ".join(missing)}; the '
                    f'model must be a MultiTaskEncoderDecoder with task_heads.{self.task} '
                    "and the pipeline must end in LoadTaskAnnotations' and "
                    "PackMultiTaskInputs' fields"
                )
            proxy = dict(sample, pred_sem_seg=sample[pred_field])
            if label_field in sample:
                proxy['gt_sem_seg'] = sample[label_field]
            if logits_field in sample:
                proxy['seg_logits'] = sample[logits_field]
            samples.append(proxy)
        self.metric.process(data_batch, samples)

    def compute_metrics(self, results: List) -> Dict[str, float]:
        """The wrapped metric's scores (without prefix)."""
        return self.metric.compute_metrics(results)

    def evaluate(self, size: int) -> dict:
        """The wrapped metric's scores over the dataset, prefixed with the task."""
        print_log(f'task {self.task}:', logger='current')
        return self.metric.evaluate(size)

    @property
    def _format_only(self) -> bool:
        return bool(getattr(self.metric, 'format_only', False))
