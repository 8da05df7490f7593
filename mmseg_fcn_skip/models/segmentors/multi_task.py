"""One backbone, one decode head per task, each task with its own labels."""

import keyword
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import ModuleDict
from mmengine.structures import PixelData
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, OptSampleList, SampleList
from torch import Tensor

#: Key of the first task (``decode_head``) in the dicts of logits; also its loss prefix.
FIRST_TASK = 'decode'
#: Names a further task may not take: the first task's and the auxiliary heads' loss
#: prefixes, and the first task's label field (``gt_sem_seg``).
RESERVED_TASK_NAMES = (FIRST_TASK, 'aux', 'sem')


def task_fields(task: str) -> Tuple[str, str, str]:
    """The ``SegDataSample`` fields of a further task: labels, logits, prediction.

    >>> task_fields('geo')
    ('gt_geo_seg', 'geo_seg_logits', 'pred_geo_seg')
    """
    return f'gt_{task}_seg', f'{task}_seg_logits', f'pred_{task}_seg'


def check_task_name(task: str) -> None:
    """Refuse a task name that cannot name its fields and loss prefix.

    Raises:
        ValueError: if ``task`` is not a Python identifier without dots, or is
            reserved (:data:`RESERVED_TASK_NAMES`).
    """
    if not isinstance(task, str) or not task.isidentifier() or keyword.iskeyword(task):
        raise ValueError(
            f'task name {task!r} is not a valid name: it names the fields gt_<task>_seg, '
            '<task>_seg_logits and pred_<task>_seg, so use letters, digits and '
            "underscores (e.g. 'geo')"
        )
    if task in RESERVED_TASK_NAMES or task.startswith('aux'):
        raise ValueError(
            f'task name {task!r} is reserved ({", ".join(RESERVED_TASK_NAMES)} and aux*: '
            'the first task and the auxiliary heads use them); rename the task'
        )


@MODELS.register_module()
class MultiTaskEncoderDecoder(EncoderDecoder):
    """An ``EncoderDecoder`` whose backbone feeds one decode head per task.

    ``decode_head`` is the first task and keeps mmseg's fields (labels
    ``gt_sem_seg``, logits ``seg_logits``, prediction ``pred_sem_seg``), so every mmseg
    tool, metric, hook and visualiser works on it unchanged. Each further task ``t``
    of ``task_heads`` (any mmseg decode head) has its own fields on the same
    ``SegDataSample``: labels ``gt_{t}_seg``, logits ``{t}_seg_logits`` and prediction
    ``pred_{t}_seg`` (``PixelData``, see :func:`task_fields`). The pipeline loads the
    further labels with ``LoadTaskAnnotations`` and packs them with
    ``PackMultiTaskInputs``; ``TaskMetric`` scores a further task.

    Training: the backbone runs once; the loss is the sum of every task's loss (and
    the auxiliary heads'), each head's on its own labels, logged as ``decode.*``,
    ``aux.*`` and ``{t}.*`` (e.g. ``geo.loss_ce``). A further task's labels are padded
    on the bottom and right to the batch's input size with that head's
    ``ignore_index``, as ``SegDataPreProcessor`` pads ``gt_sem_seg``.

    Prediction: every task's logits are postprocessed as mmseg's
    ``postprocess_result`` does the first task's (padding removed, flip undone,
    resized to ``ori_shape`` with the head's ``align_corners``; argmax, or the
    head's ``threshold`` for one output channel). ``test_cfg.mode`` ``'whole'`` and
    ``'slide'`` both run the backbone once per image or crop and every head on it.
    Test-time augmentation (``SegTTAModel``) merges the first task only.

    Tensor mode (``forward(mode='tensor')``, e.g. ONNX export) returns the first
    task's raw logits ``(N, C, H', W')``, as ``EncoderDecoder`` does; with
    ``tensor_all_tasks=True`` it returns a tuple: the first task's, then each further
    task's in the order of ``task_heads``.

    Args:
        backbone, decode_head, neck, auxiliary_head, train_cfg, test_cfg,
        data_preprocessor, pretrained, init_cfg: as ``EncoderDecoder``.
        task_heads (dict[str, dict], optional): Further tasks: name -> head config,
            e.g. ``dict(geo=dict(type='FCNSkipHead', num_classes=3, ...))``. Names are
            identifiers other than ``decode``, ``sem`` and ``aux*``. Default: None
            (the first task only).
        tensor_all_tasks (bool): Return every task's logits in tensor mode. Default:
            False.

    State dict: the first task under ``decode_head.*``, task ``t`` under
    ``task_heads.{t}.*``.
    """

    def __init__(
        self,
        backbone: ConfigType,
        decode_head: ConfigType,
        task_heads: Optional[Dict[str, ConfigType]] = None,
        neck: OptConfigType = None,
        auxiliary_head: OptConfigType = None,
        train_cfg: OptConfigType = None,
        test_cfg: OptConfigType = None,
        data_preprocessor: OptConfigType = None,
        pretrained: Optional[str] = None,
        init_cfg: OptMultiConfig = None,
        tensor_all_tasks: bool = False,
    ) -> None:
        super().__init__(
            backbone=backbone,
            decode_head=decode_head,
            neck=neck,
            auxiliary_head=auxiliary_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            pretrained=pretrained,
            init_cfg=init_cfg,
        )
        if task_heads is None:
            task_heads = {}
        if not isinstance(task_heads, dict):
            raise TypeError(
                f'task_heads must be a dict of task name -> head config, got '
                f'{type(task_heads).__name__}; write task_heads=dict(geo=dict(type=...))'
            )
        # mmengine's ModuleDict: init_weights() reaches the heads (each one's own
        # init_cfg or score init), as it reaches decode_head
        self.task_heads = ModuleDict()
        for task, head in task_heads.items():
            check_task_name(task)
            self.task_heads[task] = MODELS.build(head)
        self.tensor_all_tasks = tensor_all_tasks

    @property
    def tasks(self) -> List[str]:
        """The further tasks' names, in the order of ``task_heads``."""
        return list(self.task_heads.keys())

    def heads(self) -> Dict[str, nn.Module]:
        """Every task's head: the first under ``'decode'``, then the further tasks'."""
        return OrderedDict([(FIRST_TASK, self.decode_head), *self.task_heads.items()])

    # training -----------------------------------------------------------------------

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """The losses of every task (and auxiliary head), the backbone run once.

        Args:
            inputs (Tensor): ``(N, C, H, W)`` images.
            data_samples (list[SegDataSample]): With ``gt_sem_seg`` and every further
                task's ``gt_{t}_seg``.

        Returns:
            dict[str, Tensor]: ``decode.*``, ``aux*.*`` and ``{t}.*`` losses.

        Raises:
            KeyError: if a sample lacks a further task's labels (naming the task and
                the transforms that load and pack them).
        """
        x = self.extract_feat(inputs)
        losses = self._decode_head_forward_train(x, data_samples)
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(x, data_samples))
        for task, head in self.task_heads.items():
            samples = self.task_samples(task, data_samples, inputs.shape[-2:])
            task_losses = head.loss(x, samples, self.train_cfg)
            losses.update((f'{task}.{name}', value) for name, value in task_losses.items())
        return losses

    def task_samples(
        self, task: str, data_samples: SampleList, input_size: Sequence[int]
    ) -> SampleList:
        """Samples whose ``gt_sem_seg`` is ``task``'s labels, for its head's loss.

        Each keeps the sample's meta; the labels are padded on the bottom and right
        to ``input_size`` with the head's ``ignore_index``.
        """
        label_field = task_fields(task)[0]
        ignore_index = self.task_heads[task].ignore_index
        samples = []
        for index, sample in enumerate(data_samples):
            if label_field not in sample:
                raise KeyError(
                    f'sample {index} ({sample.metainfo.get("img_path", "no img_path")}) '
                    f'has no {label_field}, the labels of task {task!r}; load them with '
                    f"dict(type='LoadTaskAnnotations') and pack them with "
                    f"dict(type='PackMultiTaskInputs') in the training pipeline"
                )
            label = sample.get(label_field).data
            height, width = label.shape[-2:]
            pad = (0, max(input_size[1] - width, 0), 0, max(input_size[0] - height, 0))
            if any(pad):
                label = F.pad(label, pad, value=ignore_index)
            proxy = SegDataSample(metainfo=sample.metainfo)
            proxy.gt_sem_seg = PixelData(data=label)
            samples.append(proxy)
        return samples

    # prediction ---------------------------------------------------------------------

    def predict(self, inputs: Tensor, data_samples: OptSampleList = None) -> SampleList:
        """Every task's logits and prediction, postprocessed.

        Args:
            inputs (Tensor): ``(N, C, H, W)`` images.
            data_samples (list[SegDataSample], optional): Their meta.

        Returns:
            list[SegDataSample]: ``seg_logits`` ``(C, H0, W0)`` and ``pred_sem_seg``
            ``(1, H0, W0)`` of the first task, ``{t}_seg_logits`` and
            ``pred_{t}_seg`` of each further task, at ``ori_shape`` ``(H0, W0)`` (the
            input's size without ``data_samples``).
        """
        if data_samples is not None:
            batch_img_metas = [sample.metainfo for sample in data_samples]
        else:
            batch_img_metas = [
                dict(
                    ori_shape=inputs.shape[2:],
                    img_shape=inputs.shape[2:],
                    pad_shape=inputs.shape[2:],
                    padding_size=[0, 0, 0, 0],
                )
            ] * inputs.shape[0]
        logits = self.inference_tasks(inputs, batch_img_metas)
        data_samples = self.postprocess_result(logits.pop(FIRST_TASK), data_samples)
        for task, task_logits in logits.items():
            self._postprocess_task(task, task_logits, data_samples, batch_img_metas)
        return data_samples

    def inference_tasks(self, inputs: Tensor, batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """Every task's logits at the input size: ``{'decode': ..., t: ...}``.

        ``test_cfg.mode`` ``'whole'`` or ``'slide'``, as ``EncoderDecoder.inference``.
        """
        mode = self.test_cfg.get('mode', 'whole')
        if mode not in ('whole', 'slide'):
            raise ValueError(f"test_cfg.mode={mode!r} is not supported; use 'whole' or 'slide'")
        if mode == 'slide':
            return self.slide_inference_tasks(inputs, batch_img_metas)
        return self.encode_decode_tasks(inputs, batch_img_metas)

    def encode_decode_tasks(self, inputs: Tensor, batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        """The backbone once, then every head's ``predict``: logits by task."""
        x = self.extract_feat(inputs)
        return OrderedDict(
            (task, head.predict(x, batch_img_metas, self.test_cfg))
            for task, head in self.heads().items()
        )

    def slide_inference_tasks(
        self, inputs: Tensor, batch_img_metas: List[dict]
    ) -> Dict[str, Tensor]:
        """``EncoderDecoder.slide_inference`` for every task: one backbone run a crop.

        Returns:
            dict[str, Tensor]: ``(N, C_t, H, W)`` logits by task, averaged over the
            crops that cover each pixel.
        """
        h_stride, w_stride = self.test_cfg.stride
        h_crop, w_crop = self.test_cfg.crop_size
        batch_size, _, h_img, w_img = inputs.size()
        h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
        w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
        preds = OrderedDict(
            (task, inputs.new_zeros((batch_size, head.out_channels, h_img, w_img)))
            for task, head in self.heads().items()
        )
        count = inputs.new_zeros((batch_size, 1, h_img, w_img))
        for h_idx in range(h_grids):
            for w_idx in range(w_grids):
                y2 = min(h_idx * h_stride + h_crop, h_img)
                x2 = min(w_idx * w_stride + w_crop, w_img)
                y1, x1 = max(y2 - h_crop, 0), max(x2 - w_crop, 0)
                crop = inputs[:, :, y1:y2, x1:x2]
                batch_img_metas[0]['img_shape'] = crop.shape[2:]
                crop_logits = self.encode_decode_tasks(crop, batch_img_metas)
                for task, logits in crop_logits.items():
                    preds[task] += F.pad(logits, (x1, w_img - x2, y1, h_img - y2))
                count[:, :, y1:y2, x1:x2] += 1
        return OrderedDict((task, pred / count) for task, pred in preds.items())

    def _postprocess_task(
        self,
        task: str,
        logits: Tensor,
        data_samples: SampleList,
        batch_img_metas: List[dict],
    ) -> None:
        """Set ``{task}_seg_logits`` and ``pred_{task}_seg`` as ``postprocess_result``."""
        head = self.task_heads[task]
        _, logits_field, pred_field = task_fields(task)
        height, width = logits.shape[-2:]
        for index, sample in enumerate(data_samples):
            meta = batch_img_metas[index]
            left, right, top, bottom = meta.get(
                'img_padding_size', meta.get('padding_size', [0, 0, 0, 0])
            )
            sample_logits = logits[
                index : index + 1, :, top : height - bottom, left : width - right
            ]
            if meta.get('flip'):
                direction = meta.get('flip_direction')
                if direction not in ('horizontal', 'vertical'):
                    raise ValueError(
                        f"flip_direction {direction!r} of sample {index}: use 'horizontal' "
                        "or 'vertical'"
                    )
                sample_logits = sample_logits.flip(dims=(3,) if direction == 'horizontal' else (2,))
            sample_logits = resize(
                sample_logits,
                size=meta['ori_shape'],
                mode='bilinear',
                align_corners=head.align_corners,
                warning=False,
            ).squeeze(0)
            if sample_logits.shape[0] > 1:
                pred = sample_logits.argmax(dim=0, keepdim=True)
            else:
                sample_logits = sample_logits.sigmoid()
                pred = (sample_logits > head.threshold).to(sample_logits)
            sample.set_data(
                {logits_field: PixelData(data=sample_logits), pred_field: PixelData(data=pred)}
            )

    def _forward(
        self, inputs: Tensor, data_samples: OptSampleList = None
    ) -> Union[Tensor, Tuple[Tensor, ...]]:
        """Raw logits: the first task's, or every task's with ``tensor_all_tasks``.

        Returns:
            Tensor or tuple[Tensor]: ``(N, C, H', W')`` of ``decode_head.forward``;
            with ``tensor_all_tasks`` a tuple, the first task's then each further
            task's in the order of ``task_heads``.
        """
        x = self.extract_feat(inputs)
        if not self.tensor_all_tasks:
            return self.decode_head.forward(x)
        return tuple(head.forward(x) for head in self.heads().values())
