"""The demo's four nets: fcn{32,16,8,4}s_toy.py differ only in their skips."""

from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from mmseg_fcn_skip.apis.skips import skip_removal_name, variant_name

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
# variant: backbone levels (pool2=1, pool3=2, pool4=3, fc7=5), their channels at
# base_channels=16 (pool2 32, pool3 64, pool4 128) and fc_channels=128
LEVELS = {
    '32s': ((5,), (128,)),
    '16s': ((3, 5), (128, 128)),
    '8s': ((2, 3, 5), (64, 128, 128)),
    '4s': ((1, 2, 3, 5), (32, 64, 128, 128)),
}
SKIP_KEYS = (
    ('backbone', 'out_indices'),
    ('decode_head', 'in_channels'),
    ('decode_head', 'in_index'),
)


def load(variant: str) -> Config:
    return Config.fromfile(str(CONFIGS / f'fcn{variant}_toy.py'))


def without_skips(cfg: Config) -> dict:
    """The config as a plain dict, less the keys that choose the skip levels."""
    plain = cfg.to_dict()
    for module, key in SKIP_KEYS:
        del plain['model'][module][key]
    plain.pop('filename', None)
    return plain


@pytest.mark.parametrize('variant', ['32s', '16s', '4s'])
def test_variant_is_fcn8s_toy_but_for_its_levels(variant):
    cfg, fcn8s = load(variant), load('8s')
    levels, channels = LEVELS[variant]
    assert tuple(cfg.model.backbone.out_indices) == levels
    assert tuple(cfg.model.decode_head.in_channels) == channels
    assert tuple(cfg.model.decode_head.in_index) == tuple(range(len(levels)))
    assert without_skips(cfg) == without_skips(fcn8s)


@pytest.mark.parametrize('variant', list(LEVELS))
def test_variant_builds_the_named_net_and_predicts_every_pixel(variant):
    cfg = load(variant)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model).eval()
    levels, channels = LEVELS[variant]
    assert model.backbone.out_channels == channels
    assert variant_name(model) == f'FCN-{variant}'
    with torch.no_grad():
        logits = model.decode_head(model.extract_feat(torch.rand(1, 3, 37, 53)))
    assert logits.shape[:2] == (1, 5)
    assert logits.shape[-2] >= 37 and logits.shape[-1] >= 53


def test_an_fcn4s_with_skips_removed_is_named_by_what_is_left_out():
    init_default_scope('mmseg')
    model = MODELS.build(load('4s').model)
    assert [skip_removal_name(model, k) for k in (1, 2, 3, 4)] == [
        'FCN-4s without the stride-16, 8, 4 skips',
        'FCN-4s without the stride-8, 4 skips',
        'FCN-4s without the stride-4 skip',
        'FCN-4s',
    ]
