import pytest
import torch
from analysis_lib.benchmark import count_flops, inference_flops, model_complexity
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from tests.helpers import REPO
from tests.helpers.light_models import VGG11_BACKBONE, write_config


@pytest.mark.parametrize('pad_mode', ['same', 'caffe'])
def test_params_are_those_of_the_model_and_flops_grow_with_the_area(tmp_path, pad_mode):
    cfg = Config.fromfile(write_config(tmp_path, pad_mode=pad_mode, backbone=VGG11_BACKBONE))
    small = model_complexity(cfg, (64, 64))
    large = model_complexity(cfg, (128, 128))
    # VGG11 at widths 8..64, fc6 7x7 64->32, fc7, three 1x1 score layers, BN.
    assert small['params'] == large['params'] == 246_999
    if pad_mode == 'same':
        assert large['flops'] / small['flops'] == pytest.approx(4, rel=0.05)
    else:  # the 100-pixel pad is a fixed cost, so the growth is slower
        assert 1.5 < large['flops'] / small['flops'] < 4


def test_auxiliary_heads_are_left_out(tmp_path):
    cfg = Config.fromfile(write_config(tmp_path, backbone=VGG11_BACKBONE))
    plain = model_complexity(cfg, (64, 64))
    cfg.model.auxiliary_head = dict(
        type='FCNHead', in_channels=64, in_index=1, channels=16, num_convs=1, num_classes=5
    )
    assert model_complexity(cfg, (64, 64)) == plain


def test_full_vgg16_fcn32s_has_the_papers_134m_parameters():
    cfg = Config.fromfile(
        REPO / 'configs' / 'fcn_skip' / 'fcn32s_vgg16_4xb4-40k_voc12aug-512x512.py'
    )
    assert model_complexity(cfg, (32, 32))['params'] == 134_346_581


def test_shape_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match=r'must be two positive sizes'):
        model_complexity(Config.fromfile(write_config(tmp_path, backbone=VGG11_BACKBONE)), (0, 64))


def test_a_multiply_add_counts_as_two_flops():
    """The convention: a 1x1 convolution of C_in -> C_out on H x W pixels (no bias)
    does H * W * C_in * C_out multiply-adds, counted 2 FLOPs each."""
    conv = torch.nn.Conv2d(8, 5, 1, bias=False)
    x = torch.rand(1, 8, 7, 3)
    assert count_flops(lambda: conv(x)) == 2 * 7 * 3 * 8 * 5


def test_the_complexity_count_is_the_benchmark_count(tmp_path):
    """get_flops and the benchmark count the same forward with the same counter."""
    cfg = Config.fromfile(write_config(tmp_path, backbone=VGG11_BACKBONE))
    counted = model_complexity(cfg, (64, 48))['flops']
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model).eval()
    inputs = model.data_preprocessor(dict(inputs=[torch.rand(3, 64, 48) * 255]), False)['inputs']
    samples = [
        SegDataSample(
            metainfo=dict(
                img_shape=(64, 48), ori_shape=(64, 48), pad_shape=tuple(inputs.shape[-2:])
            )
        )
    ]
    assert inference_flops(model, inputs, samples) == counted


def test_the_callers_config_keeps_its_pretrained_backbone(tmp_path):
    """Counting FLOPs, then training from the same Config, must start from the
    pretrained backbone: the count builds the model without it, on a copy."""
    cfg = Config.fromfile(write_config(tmp_path))
    pretrained = dict(type='Pretrained', checkpoint='weights/vgg_missing.pth')
    cfg.model.backbone.init_cfg = pretrained
    before = cfg.to_dict()
    model_complexity(cfg, (32, 32))
    assert cfg.model.backbone.init_cfg == pretrained
    assert cfg.to_dict() == before
