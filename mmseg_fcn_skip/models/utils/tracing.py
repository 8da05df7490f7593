"""Whether a model is being traced, when sizes must stay symbolic."""

import torch


def is_tracing() -> bool:
    """True while ``torch.jit.trace`` (also inside ``torch.onnx.export(dynamo=False)``),
    ``torch.compile`` or ``torch.export`` records the model.

    Sizes are symbolic then (traced tensors or ``SymInt``): converting one to a Python
    ``int`` or branching on it would freeze the traced size into the graph, so shape
    checks are left to eager runs.
    """
    return torch.jit.is_tracing() or torch.compiler.is_compiling()
