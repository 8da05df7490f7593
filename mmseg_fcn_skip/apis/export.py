"""ONNX export of the plugin's FCN models with dynamic batch, height and width.

The exported graph takes the image as loaded, not a normalised tensor, and returns
logits at the input size:

- input ``image``: ``float32 (N, 3, H, W)``, pixel values 0..255 in the channel order
  of mmcv/OpenCV loading (BGR), any ``H`` and ``W``; a multi-modal net takes one
  channel per mean of its data preprocessor (colour-HHA: ``(N, 6, H, W)``, colour BGR
  then HHA as stored, as ``LoadMultiModalImage`` makes them). The data preprocessor's channel
  swap (``bgr_to_rgb``) and normalisation (``mean``, ``std``) are part of the graph.
  The test pipeline's resizing is not: the prediction is made at the given size.
- output ``logits``: ``float32 (N, num_classes, H, W)``, scores before softmax, aligned
  with the input pixels; ``argmax`` over axis 1 gives the label map.
- a ``MultiTaskEncoderDecoder`` (SIFT Flow: semantic and geometric) has one output per
  task, the backbone run once: ``logits`` for the first task (``decode_head``), then
  ``<task>_logits`` for each further task in the order of ``task_heads`` (SIFT Flow:
  ``logits`` with 33 classes, ``geo_logits`` with 3), each ``(N, C_task, H, W)``.

The graph is traced with PyTorch's TorchScript-based exporter (``dynamo=False``),
which needs the ``onnx`` package only (the dynamo exporter also needs ``onnxscript``).
The crops that align the skip levels are whole numbers of pixels fixed by the
architecture and every size in the head stays symbolic while tracing, so a trace at
one size is exact at every size; :func:`check_onnx` confirms this against PyTorch with
onnxruntime.

mmdeploy 1.3.1 exports through ``torch.onnx.export`` without choosing the exporter;
wrap its ``torch2onnx`` in :func:`torchscript_onnx_export` on torch >= 2.9.
"""

import functools
import importlib.util
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmseg.models import BaseSegmentor
from torch import Tensor

from ..models.decode_heads import FCNSkipHead, LateFusionHead
from ..models.segmentors.multi_task import FIRST_TASK, MultiTaskEncoderDecoder

#: Relative tolerance of :func:`check_onnx`: max |ONNX - PyTorch| over the logits may be
#: at most this fraction of max |PyTorch logits| (plus the same absolute amount).
ONNX_TOLERANCE = 1e-4
#: Input name, and output name of the (first) task's logits; see :func:`output_name`.
INPUT_NAME, OUTPUT_NAME = 'image', 'logits'
#: Standard deviation of the weights that replace all-zero ones (see redraw_zero_weights).
REDRAW_STD = 0.01


def output_name(task: str) -> str:
    """The ONNX output name of a task's logits: ``logits`` for the first task
    (``decode_head``), ``<task>_logits`` for a further task.

    >>> output_name('decode'), output_name('geo')
    ('logits', 'geo_logits')
    """
    return OUTPUT_NAME if task == FIRST_TASK else f'{task}_{OUTPUT_NAME}'


def exported_heads(model: BaseSegmentor) -> Dict[str, nn.Module]:
    """The decode head of each output, by output name, in the graph's output order.

    One (``logits``: ``decode_head``) for a single-task segmentor; for a
    ``MultiTaskEncoderDecoder`` the first task's, then each further task's (see
    :func:`output_name`).
    """
    if isinstance(model, MultiTaskEncoderDecoder):
        return OrderedDict((output_name(task), head) for task, head in model.heads().items())
    return OrderedDict([(OUTPUT_NAME, getattr(model, 'decode_head', None))])


class OnnxSegmentor(nn.Module):
    """A segmentor with an ``FCNSkipHead`` (or a ``LateFusionHead`` of them) as
    ``image -> logits`` (see the module doc); a ``MultiTaskEncoderDecoder`` whose every
    task has one as ``image -> (logits, <task>_logits, ...)``.

    Args:
        model: Segmentor built from a config of this plugin, with ``cfg``.

    Attributes:
        in_channels (int): Channels of the input image: one per mean of the data
            preprocessor, 3 without one.
        output_names (list[str]): The outputs, in the order ``forward`` returns them
            (:func:`exported_heads`).

    Raises:
        ValueError: if a task's decode head is neither ``FCNSkipHead`` nor a
            ``LateFusionHead`` of them, or the segmentor has no ``extract_feat``.
    """

    def __init__(self, model: BaseSegmentor) -> None:
        super().__init__()
        heads = exported_heads(model)
        for name, head in heads.items():
            _check_exported_head(model, name, head)
        self.model = model
        self.heads = list(heads.values())
        self.output_names = list(heads)
        preprocessor = model.cfg.model.get('data_preprocessor') or {}
        self.swap_channels = bool(preprocessor.get('bgr_to_rgb') or preprocessor.get('rgb_to_bgr'))
        mean, std = preprocessor.get('mean'), preprocessor.get('std')
        self.register_buffer('mean', _channel_vector(mean, 0.0))
        self.register_buffer('std', _channel_vector(std, 1.0))
        self.in_channels = self.mean.shape[1]
        # As SegDataPreProcessor: only 3-channel images are swapped.
        self.swap_channels = self.swap_channels and self.in_channels == 3

    def forward(self, image: Tensor) -> Union[Tensor, Tuple[Tensor, ...]]:
        """Logits ``(N, num_classes, H, W)`` of images ``(N, 3, H, W)``, 0..255; a tuple
        of them, one per output name, for a multi-task model (the backbone run once)."""
        x = image[:, [2, 1, 0]] if self.swap_channels else image
        x = (x - self.mean) / self.std
        features = self.model.extract_feat(x)
        height, width = image.shape[2], image.shape[3]
        logits = tuple(head(features)[:, :, :height, :width] for head in self.heads)
        return logits[0] if len(logits) == 1 else logits

    def outputs(self, image: Tensor) -> Dict[str, Tensor]:
        """``forward``'s logits by output name."""
        logits = self(image)
        logits = (logits,) if isinstance(logits, Tensor) else logits
        return OrderedDict(zip(self.output_names, logits))


def _check_exported_head(model: BaseSegmentor, name: str, head: Optional[nn.Module]) -> None:
    """Refuse a head the export does not cover (see :class:`OnnxSegmentor`)."""
    if isinstance(head, LateFusionHead) and all(
        isinstance(stream, FCNSkipHead) for stream in head.streams
    ):
        head = head.streams[0]
    if isinstance(head, FCNSkipHead) and hasattr(model, 'extract_feat'):
        return
    if name == OUTPUT_NAME:
        which = f'decode head {type(head).__name__}'
    else:
        task = name[: -len(OUTPUT_NAME) - 1]
        which = f'task {task!r} (output {name}) with decode head {type(head).__name__}'
    raise ValueError(
        f'the config builds a {type(model).__name__} with {which}; ONNX export covers '
        "EncoderDecoder models with the plugin's FCNSkipHead (every task's head for a "
        'MultiTaskEncoderDecoder), use a config from configs/ (e.g. configs/fcn8s_voc.py)'
    )


def export_onnx(
    model: BaseSegmentor, out_file: Path, shape: Tuple[int, int] = (512, 512), opset: int = 17
) -> Path:
    """Export ``model`` to ``out_file`` with dynamic batch, height and width.

    Args:
        model: Segmentor with an ``FCNSkipHead`` (see :class:`OnnxSegmentor`); a
            multi-task one gets one output per task (:func:`exported_heads`).
        out_file: The ``.onnx`` file to write.
        shape: ``(H, W)`` of the example image the graph is traced with.
        opset: ONNX opset version.
    """
    if importlib.util.find_spec('onnx') is None:
        raise ImportError("PyTorch's ONNX exporter needs the onnx package: pip install onnx")
    wrapper = OnnxSegmentor(model).cpu().eval()
    example = torch.rand(1, wrapper.in_channels, *shape) * 255
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    dynamic = {0: 'batch', 2: 'height', 3: 'width'}
    with warnings.catch_warnings():
        # Slices of dynamic extent are not constant-folded, which the exporter reports.
        warnings.filterwarnings('ignore', message='Constant folding')
        torch.onnx.export(
            wrapper,
            (example,),
            str(out_file),
            dynamo=False,
            input_names=[INPUT_NAME],
            output_names=wrapper.output_names,
            dynamic_axes={name: dynamic for name in [INPUT_NAME, *wrapper.output_names]},
            opset_version=opset,
        )
    return out_file


@contextmanager
def torchscript_onnx_export() -> Iterator[None]:
    """Within the block, ``torch.onnx.export`` uses the TorchScript exporter by default.

    mmdeploy 1.3.1 calls ``torch.onnx.export`` without ``dynamo``; torch >= 2.9 then
    takes the dynamo exporter, with which mmdeploy's export fails. Its rewriters are
    made for the TorchScript exporter (``dynamo=False``)::

        with torchscript_onnx_export():
            torch2onnx(image, work_dir, 'end2end.onnx', deploy_cfg, model_cfg,
                       checkpoint, 'cpu')

    A call that passes ``dynamo`` itself keeps its choice.
    """
    export = torch.onnx.export
    torch.onnx.export = functools.partial(export, dynamo=False)
    try:
        yield
    finally:
        torch.onnx.export = export


def check_mmdeploy_model(model_cfg: Union[str, Path, Config]) -> None:
    """Refuse a model that mmdeploy's segmentation export cannot carry, before it runs.

    mmdeploy 1.3.1 exports a segmentor with one output (``output``: the labels or
    logits of ``decode_head``) and traces it through its rewrite of
    ``EncoderDecoder.predict``. A ``MultiTaskEncoderDecoder`` has one result per task
    and its own ``predict``, which that rewrite does not reach. mmdeploy's export of
    one stops with errors that name neither cause: with the SIFT Flow configs, a
    ``KeyError`` from ``LoadTaskAnnotations`` in the test pipeline it runs on the
    example image; without that step, ``AttributeError: 'list' object has no attribute
    'shape'`` in its ``base_segmentor__forward``.

    Args:
        model_cfg: The model config (file or ``Config``) given to mmdeploy.

    Raises:
        ValueError: for a ``MultiTaskEncoderDecoder``, naming its tasks, the limitation
            and ``tools/deployment/export_onnx.py`` (one output per task).
    """
    from mmseg.registry import MODELS

    cfg = model_cfg if isinstance(model_cfg, Config) else Config.fromfile(str(model_cfg))
    model = cfg.get('model') or {}
    kind = model.get('type')
    segmentor = MODELS.get(kind) if isinstance(kind, str) else kind
    if not (isinstance(segmentor, type) and issubclass(segmentor, MultiTaskEncoderDecoder)):
        return
    tasks = [FIRST_TASK, *(model.get('task_heads') or {})]
    outputs = ', '.join(output_name(task) for task in tasks)
    source = model_cfg if not isinstance(model_cfg, Config) else 'the model config'
    raise ValueError(
        f'{source} builds a {segmentor.__name__} with {len(tasks)} tasks '
        f'({", ".join(tasks)}); mmdeploy 1.3.1 exports a segmentor with one output and its '
        'export stops on a multi-task one (its rewrite of EncoderDecoder.predict does not '
        "reach this segmentor's predict). Export every task with "
        f'tools/deployment/export_onnx.py CONFIG CHECKPOINT OUT.onnx (outputs {outputs})'
    )


def check_onnx(
    model: BaseSegmentor,
    onnx_file: Path,
    shapes: Sequence[Tuple[int, int]],
    seed: int = 0,
    per_output: bool = False,
) -> Dict[Tuple[int, int], Union[float, Dict[str, float]]]:
    """Run the ONNX file with onnxruntime (CPU) and PyTorch on random images.

    Every output is compared (a multi-task model's logits of every task).

    Args:
        model: The segmentor the file was exported from.
        onnx_file: The exported file.
        shapes: ``(H, W)`` of the images, batch 2.
        seed: Seed of the random images.
        per_output: Give each output's error instead of the largest.

    Returns:
        For each ``(H, W)``, max |ONNX - PyTorch| over the logits divided by
        ``1 + max |PyTorch logits|``, the largest over the outputs (with
        ``per_output``: a dict of it by output name); at most :data:`ONNX_TOLERANCE`
        when they agree.

    Raises:
        ImportError: if onnxruntime is not installed.
        ValueError: if the file's outputs are not the model's, or an output has
            another shape than the PyTorch one.
    """
    import onnxruntime

    session = onnxruntime.InferenceSession(str(onnx_file), providers=['CPUExecutionProvider'])
    wrapper = OnnxSegmentor(model).cpu().eval()
    names = [output.name for output in session.get_outputs()]
    if names != wrapper.output_names:
        raise ValueError(
            f'{onnx_file} has the outputs {", ".join(names)} but the model gives '
            f'{", ".join(wrapper.output_names)}; check the file exported from this model'
        )
    generator = torch.Generator().manual_seed(seed)
    errors = {}
    for height, width in shapes:
        image = torch.rand(2, wrapper.in_channels, height, width, generator=generator) * 255
        with torch.no_grad():
            expected = wrapper.outputs(image)
        got = session.run(names, {INPUT_NAME: image.numpy()})
        by_output = {}
        for name, value in zip(names, got):
            reference = expected[name].numpy()
            if value.shape != reference.shape:
                raise ValueError(
                    f'ONNX {name} of shape {value.shape} for a {height}x{width} '
                    f'input, PyTorch {reference.shape}; the export is broken'
                )
            by_output[name] = float(np.abs(value - reference).max() / (1 + np.abs(reference).max()))
        errors[(height, width)] = by_output if per_output else max(by_output.values())
    return errors


def constant_outputs(
    model: BaseSegmentor, shape: Tuple[int, int], seed: int = 0
) -> Dict[str, float]:
    """The outputs whose logits are one value everywhere, with that value.

    A model whose score layers still hold their zero initialisation (fresh weights of
    the plugin's configs) predicts 0 for every class and pixel; comparing such logits
    between ONNX and PyTorch checks nothing. A multi-task model may have such a head
    beside trained ones.

    Returns:
        ``{output name: value}`` (:func:`exported_heads`), empty if every output varies.
    """
    generator = torch.Generator().manual_seed(seed)
    wrapper = OnnxSegmentor(model).cpu().eval()
    image = torch.rand(1, wrapper.in_channels, *shape, generator=generator) * 255
    with torch.no_grad():
        outputs = wrapper.outputs(image)
    return OrderedDict(
        (name, float(logits.flatten()[0]))
        for name, logits in outputs.items()
        if bool((logits == logits.flatten()[0]).all())
    )


def constant_logit(model: BaseSegmentor, shape: Tuple[int, int], seed: int = 0) -> Optional[float]:
    """The value of every logit if the model gives one value everywhere (in every
    output), else None; :func:`constant_outputs` tells which outputs are constant."""
    constant = constant_outputs(model, shape, seed)
    values = set(constant.values())
    if len(constant) == len(OnnxSegmentor(model).output_names) and len(values) == 1:
        return values.pop()
    return None


@torch.no_grad()
def redraw_zero_weights(model: nn.Module, std: float = REDRAW_STD) -> List[str]:
    """Redraw every all-zero weight (dim >= 2) of ``model`` from N(0, std^2), in place.

    The score layers of a fresh model start at zero, so every logit is 0 (see
    :func:`constant_logit`) and comparing ONNX with PyTorch would check nothing;
    ``tools/deployment/export_onnx.py`` checks the graph of such a model on a copy with
    these weights redrawn. Timing measurements use it for the same reason.

    Args:
        model: The module whose parameters are changed.
        std: Standard deviation of the redrawn weights.

    Returns:
        The names of the redrawn parameters.
    """
    redrawn = []
    for name, param in model.named_parameters():
        if param.dim() >= 2 and not param.any():
            param.normal_(std=std)
            redrawn.append(name)
    return redrawn


def _channel_vector(values: Optional[Sequence[float]], default: float) -> Tensor:
    if values is None:
        return torch.full((1, 3, 1, 1), default)
    return torch.tensor(values, dtype=torch.float32).view(1, -1, 1, 1)
