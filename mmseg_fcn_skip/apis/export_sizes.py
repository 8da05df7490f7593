"""Whether an exported ONNX graph works at sizes other than the traced one.

The plugin's head keeps every size symbolic while it is traced, but a backbone may
not: mmseg's ``MixVisionTransformer`` reshapes its attention with sizes that become
constants of the trace (onnxruntime then fails at any other input size or batch), and
``SwinTransformer`` pads its windows by amounts computed from the traced size (other
sizes give logits of the wrong width). Such a graph works only at the traced size.

:func:`fixed_size_reason` knows these backbones and says so before anything is
exported; :func:`first_size_failure` runs an exported file at other sizes and batch 2
and reports the first that fails, for backbones not in the list.
"""

from pathlib import Path
from typing import Optional, Sequence, Tuple

import torch
from mmseg.models import BaseSegmentor

#: Backbones (class names) whose traced graph is fixed to the traced input, and how.
FIXED_SIZE_BACKBONES = {
    'MixVisionTransformer': 'its attention reshapes take the traced sizes as constants',
    'SwinTransformer': 'its window padding is computed from the traced size',
}
#: Batch size the exported graph is run with besides the traced one (1).
PROBE_BATCH = 2


def fixed_size_reason(model: BaseSegmentor) -> Optional[str]:
    """Why ``model``'s traced graph would work only at the traced size, or None.

    Args:
        model: A segmentor; its ``backbone`` class is looked up in
            :data:`FIXED_SIZE_BACKBONES`.
    """
    backbone = getattr(model, 'backbone', None)
    name = type(backbone).__name__
    if name in FIXED_SIZE_BACKBONES:
        return (
            f'its backbone {name} fixes the input size when traced ({FIXED_SIZE_BACKBONES[name]})'
        )
    return None


def first_size_failure(
    model: BaseSegmentor, onnx_file: Path, shapes: Sequence[Tuple[int, int]]
) -> Optional[str]:
    """Run ``onnx_file`` at each ``(H, W)`` with batch 2; the first failure, or None.

    Only whether the graph runs and gives logits of the input's size is checked here
    (every output of a multi-task model: each task's classes); the values are compared
    by ``apis.export.check_onnx``.

    Returns:
        ``'at 2x3x37x53 <what went wrong>'`` for the first size that fails to run or
        gives logits of another shape (``the geo_logits are ...`` for a further task's
        output), or None if all run.
    """
    import onnxruntime

    from .export import exported_heads

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # the failure is reported here, in one line
    session = onnxruntime.InferenceSession(
        str(onnx_file), options, providers=['CPUExecutionProvider']
    )
    classes = [head.num_classes for head in exported_heads(model).values()]
    channels = session.get_inputs()[0].shape[1]  # 3, or 6 for colour-HHA
    channels = channels if isinstance(channels, int) else 3
    for height, width in shapes:
        image = torch.zeros(PROBE_BATCH, channels, height, width).numpy()
        where = f'at {PROBE_BATCH}x{channels}x{height}x{width}'
        try:
            outputs = session.run(None, {session.get_inputs()[0].name: image})
        except Exception as error:  # onnxruntime's own error types
            first = str(error).strip().splitlines()[0]
            node = first.split("Name:'", 1)[1].split("'", 1)[0] if "Name:'" in first else ''
            return f'{where} onnxruntime fails' + (f' in node {node}' if node else '')
        names = [output.name for output in session.get_outputs()]
        for name, logits, num_classes in zip(names, outputs, classes):
            if tuple(logits.shape) != (PROBE_BATCH, num_classes, height, width):
                return f'{where} the {name} are {"x".join(map(str, logits.shape))}'
    return None
