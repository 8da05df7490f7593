"""Light toy FCNs of each variant, and checkpoints of them, for the checkpoint tests.

Importable as ``checkpoint_models`` (``tests/`` is on ``sys.path``).
"""

from pathlib import Path

import torch
from mmengine.config import Config
from mmseg.registry import MODELS

REPO = Path(__file__).resolve().parents[1]
#: Backbone outputs and their channels (base_channels=4, fc_channels=16) per variant.
VARIANTS = {
    '32s': ((5,), (16,)),
    '16s': ((3, 5), (32, 16)),
    '8s': ((2, 3, 5), (16, 32, 16)),
    '4s': ((1, 2, 3, 5), (8, 16, 32, 16)),
}


def light_model(variant='8s', num_classes=5, backbone=None, **head):
    """configs/fcn8s_toy.py at base_channels=4, fc_channels=16, as ``variant``.

    ``backbone`` updates the backbone settings, ``head`` the decode head's.
    """
    cfg = Config.fromfile(str(REPO / 'configs' / 'fcn8s_toy.py'))
    out_indices, channels = VARIANTS[variant]
    head = dict(
        dict(in_channels=channels, in_index=tuple(range(len(channels))), num_classes=num_classes),
        **head,
    )
    cfg.merge_from_dict(
        dict(
            model=dict(
                backbone=dict(
                    dict(base_channels=4, fc_channels=16, out_indices=out_indices),
                    **(backbone or {}),
                ),
                decode_head=head,
            )
        )
    )
    return MODELS.build(cfg.model)


def save_checkpoint(path, model_or_dict, **extra):
    """Save a model's (or a dict's) tensors as an mmengine-style checkpoint."""
    state = model_or_dict if isinstance(model_or_dict, dict) else model_or_dict.state_dict()
    torch.save(dict(state_dict=state, meta=dict(iter=1), **extra), path)
    return path
