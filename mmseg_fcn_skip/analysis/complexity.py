"""Parameters and FLOPs of a whole segmentor, counted by mmengine's analysis tools."""
from typing import Dict, Tuple

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

from mmseg.registry import MODELS


def model_complexity(cfg: Config, shape: Tuple[int, int]) -> Dict[str, int]:
    """Parameters and FLOPs of the model of ``cfg`` on one ``(H, W)`` image.

    The model is built without loading any pretrained weights and run forward once on
    CPU, from the normalised image to the decode head's logits (auxiliary heads, used
    in training only, are left out). FLOPs are counted as mmengine counts them: one
    multiply-add is one FLOP.

    Returns:
        ``{'flops': ..., 'params': ...}``.
    """
    height, width = shape
    if height < 1 or width < 1:
        raise ValueError(f'shape={tuple(shape)!r} must be two positive sizes (H W)')
    cfg = cfg.copy()
    if 'init_cfg' in cfg.model.get('backbone', {}):
        cfg.model.backbone.init_cfg = None
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).eval()
    if getattr(model, 'with_auxiliary_head', False):
        model.auxiliary_head = None
    image = torch.rand(3, height, width) * 255
    inputs = model.data_preprocessor(dict(inputs=[image]), False)['inputs']
    with torch.no_grad():
        info = get_model_complexity_info(
            model, inputs=inputs, show_table=False, show_arch=False)
    return dict(flops=int(info['flops']), params=int(info['params']))
