"""The pad mode of an FCN config is written once and reaches backbone and head."""

import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (REPO / 'configs').rglob('*.py'))
MODEL_CONFIGS = [p for p in CONFIGS if '_base_' not in p.parts]


@pytest.mark.parametrize('path', MODEL_CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_backbone_and_head_take_the_config_pad_mode(path):
    cfg = Config.fromfile(str(path))
    modes = {
        module.pad_mode
        for part in ('backbone', 'decode_head')
        for module in cfg.model[part].get('streams', [cfg.model[part]])  # late fusion
        if 'pad_mode' in module
    }
    assert modes == {cfg.pad_mode}


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_config_writes_a_pad_mode_value_twice(path):
    text = path.read_text()
    assert not re.search(r"pad_mode=['\"]", text), 'use pad_mode=pad_mode'
    assert len(re.findall(r'^pad_mode = ', text, re.MULTILINE)) <= 1


def test_changing_the_one_line_switches_backbone_and_head(tmp_path):
    caffe = REPO / 'configs' / 'fcn_skip_caffe' / 'fcn8s_vgg16-caffe_4xb4-40k_voc12aug-512x512.py'
    text = caffe.read_text().replace("pad_mode = 'caffe'", "pad_mode = 'same'")
    base = 'fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'
    text = text.replace(f"_base_ = '../{base}'", f'_base_ = {str(REPO / "configs" / base)!r}')
    assert str(REPO) in text
    assert "pad_mode = 'same'" in text
    (tmp_path / 'switched.py').write_text(text)
    cfg = Config.fromfile(str(tmp_path / 'switched.py'))
    assert cfg.model.backbone.pad_mode == cfg.model.decode_head.pad_mode == 'same'


def test_changing_only_the_backbone_stops_with_the_line_to_change():
    cfg = Config.fromfile(str(REPO / 'configs' / 'fcn8s_toy.py'))
    cfg.model.backbone.pad_mode = 'caffe'
    model = MODELS.build(cfg.model).eval()
    with pytest.raises(
        ValueError,
        match=r"FullyConvVGG\(pad_mode='caffe'\).*the same "
        r"pad_mode in model.backbone and model.decode_head \(the plugin's "
        r'configs set both from one line, `pad_mode = ...`\)',
    ):
        model(torch.randn(1, 3, 64, 64), mode='tensor')
