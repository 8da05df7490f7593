"""The project's one FLOP counter, and the parameters and FLOPs of a config's model.

Convention, wherever the project quotes a FLOP figure: **one multiply-add is 2 FLOPs**,
counted by ``torch.utils.flop_counter.FlopCounterMode`` over matrix products and
convolutions (forward and, when the counted call runs one, backward); element-wise
work, resizing and optimizer updates are not counted. (mmengine's and fvcore's
``get_model_complexity_info`` count a multiply-add as one FLOP, so they report half.)
"""

import copy
from typing import Callable, Dict, Tuple

import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from torch.utils.flop_counter import FlopCounterMode

#: How the figures are counted, for reports and tools to print beside them.
FLOP_CONVENTION = (
    '1 multiply-add = 2 FLOPs; matrix products and convolutions, '
    'counted by torch.utils.flop_counter'
)


def count_flops(fn: Callable[[], object]) -> int:
    """FLOPs of one call of ``fn`` (see the module's convention)."""
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return counter.get_total_flops()


def model_complexity(cfg: Config, shape: Tuple[int, int]) -> Dict[str, int]:
    """Parameters and forward FLOPs of the model of ``cfg`` on one ``(H, W)`` image.

    The model is built without loading any pretrained weights (``cfg`` itself is left
    unchanged) and runs
    ``encode_decode`` once on CPU (what ``predict`` runs up to the logits at the input
    size: backbone and decode head; auxiliary heads, used in training only, are left
    out of both counts).

    Args:
        cfg (Config): A config with a ``model``.
        shape (tuple[int, int]): Input height and width.

    Returns:
        dict: ``{'flops': ..., 'params': ...}``, FLOPs with one multiply-add = 2.
    """
    height, width = shape
    if height < 1 or width < 1:
        raise ValueError(f'shape={tuple(shape)!r} must be two positive sizes (H W)')
    # A deep copy: the caller's config (which may go on to train from its pretrained
    # backbone) keeps its init_cfg.
    model_cfg = copy.deepcopy(cfg.model)
    if 'init_cfg' in model_cfg.get('backbone', {}):
        model_cfg.backbone.init_cfg = None
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = revert_sync_batchnorm(MODELS.build(model_cfg)).eval()
    if getattr(model, 'with_auxiliary_head', False):
        model.auxiliary_head = None
    image = torch.rand(3, height, width) * 255
    inputs = model.data_preprocessor(dict(inputs=[image]), False)['inputs']
    metas = [
        dict(
            img_shape=(height, width), ori_shape=(height, width), pad_shape=tuple(inputs.shape[-2:])
        )
    ]
    with torch.no_grad():
        flops = count_flops(lambda: model.encode_decode(inputs, metas))
    return dict(flops=int(flops), params=sum(p.numel() for p in model.parameters()))
