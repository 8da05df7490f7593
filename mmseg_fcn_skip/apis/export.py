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
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmseg.models import BaseSegmentor
from torch import Tensor

from ..models.decode_heads import FCNSkipHead, LateFusionHead

#: Relative tolerance of :func:`check_onnx`: max |ONNX - PyTorch| over the logits may be
#: at most this fraction of max |PyTorch logits| (plus the same absolute amount).
ONNX_TOLERANCE = 1e-4
INPUT_NAME, OUTPUT_NAME = 'image', 'logits'
#: Standard deviation of the weights that replace all-zero ones (see redraw_zero_weights).
REDRAW_STD = 0.01


class OnnxSegmentor(nn.Module):
    """A segmentor with an ``FCNSkipHead`` (or a ``LateFusionHead`` of them) as
    ``image -> logits`` (see the module doc).

    Args:
        model: Segmentor built from a config of this plugin, with ``cfg``.

    Attributes:
        in_channels (int): Channels of the input image: one per mean of the data
            preprocessor, 3 without one.

    Raises:
        ValueError: if the decode head is neither ``FCNSkipHead`` nor a
            ``LateFusionHead`` of them, or the segmentor has no ``extract_feat``.
    """

    def __init__(self, model: BaseSegmentor) -> None:
        super().__init__()
        head = getattr(model, 'decode_head', None)
        if isinstance(head, LateFusionHead) and all(
            isinstance(stream, FCNSkipHead) for stream in head.streams
        ):
            head = head.streams[0]
        if not isinstance(head, FCNSkipHead) or not hasattr(model, 'extract_feat'):
            raise ValueError(
                f'the config builds a {type(model).__name__} with decode head '
                f'{type(head).__name__}; ONNX export covers EncoderDecoder models with '
                "the plugin's FCNSkipHead, use a config from configs/ (e.g. "
                'configs/fcn8s_voc.py)'
            )
        self.model = model
        preprocessor = model.cfg.model.get('data_preprocessor') or {}
        self.swap_channels = bool(preprocessor.get('bgr_to_rgb') or preprocessor.get('rgb_to_bgr'))
        mean, std = preprocessor.get('mean'), preprocessor.get('std')
        self.register_buffer('mean', _channel_vector(mean, 0.0))
        self.register_buffer('std', _channel_vector(std, 1.0))
        self.in_channels = self.mean.shape[1]
        # As SegDataPreProcessor: only 3-channel images are swapped.
        self.swap_channels = self.swap_channels and self.in_channels == 3

    def forward(self, image: Tensor) -> Tensor:
        """Logits ``(N, num_classes, H, W)`` of images ``(N, 3, H, W)``, 0..255."""
        x = image[:, [2, 1, 0]] if self.swap_channels else image
        x = (x - self.mean) / self.std
        logits = self.model.decode_head(self.model.extract_feat(x))
        return logits[:, :, : image.shape[2], : image.shape[3]]


def export_onnx(
    model: BaseSegmentor, out_file: Path, shape: Tuple[int, int] = (512, 512), opset: int = 17
) -> Path:
    """Export ``model`` to ``out_file`` with dynamic batch, height and width.

    Args:
        model: Segmentor with an ``FCNSkipHead`` (see :class:`OnnxSegmentor`).
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
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: dynamic, OUTPUT_NAME: dynamic},
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


def check_onnx(
    model: BaseSegmentor, onnx_file: Path, shapes: Sequence[Tuple[int, int]], seed: int = 0
) -> Dict[Tuple[int, int], float]:
    """Run the ONNX file with onnxruntime (CPU) and PyTorch on random images.

    Returns:
        For each ``(H, W)``, max |ONNX - PyTorch| over the logits divided by
        ``1 + max |PyTorch logits|``; at most :data:`ONNX_TOLERANCE` when they agree.

    Raises:
        ImportError: if onnxruntime is not installed.
        ValueError: if an output has another shape than the PyTorch one.
    """
    import onnxruntime

    session = onnxruntime.InferenceSession(str(onnx_file), providers=['CPUExecutionProvider'])
    wrapper = OnnxSegmentor(model).cpu().eval()
    generator = torch.Generator().manual_seed(seed)
    errors = {}
    for height, width in shapes:
        image = torch.rand(2, wrapper.in_channels, height, width, generator=generator) * 255
        with torch.no_grad():
            expected = wrapper(image).numpy()
        got = session.run([OUTPUT_NAME], {INPUT_NAME: image.numpy()})[0]
        if got.shape != expected.shape:
            raise ValueError(
                f'ONNX logits of shape {got.shape} for a {height}x{width} '
                f'input, PyTorch {expected.shape}; the export is broken'
            )
        errors[(height, width)] = float(np.abs(got - expected).max() / (1 + np.abs(expected).max()))
    return errors


def constant_logit(model: BaseSegmentor, shape: Tuple[int, int], seed: int = 0) -> Optional[float]:
    """The value of every logit if the model gives one value everywhere, else None.

    A model whose score layers still hold their zero initialisation (fresh weights of
    the plugin's configs) predicts 0 for every class and pixel; comparing such logits
    between ONNX and PyTorch checks nothing.
    """
    generator = torch.Generator().manual_seed(seed)
    wrapper = OnnxSegmentor(model).cpu().eval()
    image = torch.rand(1, wrapper.in_channels, *shape, generator=generator) * 255
    with torch.no_grad():
        logits = wrapper(image)
    if bool((logits == logits.flatten()[0]).all()):
        return float(logits.flatten()[0])
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
