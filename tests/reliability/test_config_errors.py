"""Every out-of-range FullyConvVGG / FCNSkipHead argument fails naming the argument."""

import re

import pytest
import torch
from mmseg.registry import MODELS

BACKBONE = dict(type='FullyConvVGG', base_channels=4, fc_channels=16)
HEAD = dict(type='FCNSkipHead', in_channels=(16, 32, 16), in_index=(0, 1, 2), num_classes=5)

BACKBONE_CASES = [
    dict(depth=17),
    dict(pad_mode='valid'),
    dict(base_channels=0),
    dict(base_channels=2.5),
    dict(fc_channels=-1),
    dict(out_indices=(6,)),
    dict(out_indices=()),
    dict(dropout_ratio=1.0),
    dict(dropout_ratio=-0.1),
    dict(frozen_stages=6),
    dict(frozen_stages=-2),
    dict(norm_cfg=dict(type='Nope')),
    dict(act_cfg=dict(type='Nope')),
]
HEAD_CASES = [
    dict(in_channels=(16, 32)),
    dict(in_channels=(0, 32, 16)),
    dict(in_channels=(16, -32, 16)),
    dict(in_strides=(8, 16)),
    dict(in_strides=(8, 12, 32)),
    dict(in_strides=(1, 16, 32)),
    dict(pad_mode='x'),
    dict(skip_scales=(1.0,)),
    dict(skip_scales=(0.01, 0.0)),
    dict(upsample='nearest'),
    dict(score_init='xavier'),
    dict(dropout_ratio=1.5),
    dict(dropout_ratio=-0.5),
    dict(num_classes=0),
    dict(num_classes=2.0),
    dict(channels=8),
    dict(input_transform='resize_concat'),
]


def _named(argument):
    return re.compile(rf'\b{argument}\b')


@pytest.mark.parametrize('override', BACKBONE_CASES, ids=str)
def test_backbone_argument_errors_name_the_argument(override):
    with pytest.raises(ValueError, match=_named(next(iter(override)))):
        MODELS.build({**BACKBONE, **override})


@pytest.mark.parametrize('override', HEAD_CASES, ids=str)
def test_head_argument_errors_name_the_argument(override):
    with pytest.raises(ValueError, match=_named(next(iter(override)))):
        MODELS.build({**HEAD, **override})


def test_in_index_beyond_the_backbone_outputs_is_named_at_forward():
    backbone = MODELS.build({**BACKBONE, 'out_indices': (3, 5)})
    head = MODELS.build({**HEAD, 'in_channels': (16, 32, 16), 'in_index': (0, 1, 2)})
    with pytest.raises(
        ValueError,
        match=r'in_index=\(0, 1, 2\) but the backbone '
        r'returns 2 outputs',
    ):
        head(backbone(torch.zeros(1, 3, 32, 32)))
