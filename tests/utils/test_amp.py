import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmseg_fcn_skip.utils import CPUAmpOptimWrapper, enable_amp


def _sgd_config(wrapper_type: str = 'OptimWrapper') -> Config:
    return Config(dict(optim_wrapper=dict(type=wrapper_type, optimizer=dict(type='SGD', lr=0.1))))


def test_cpu_amp_uses_bfloat16_autocast(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = _sgd_config()
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper'

    init_default_scope('mmseg')
    model = torch.nn.Conv2d(3, 2, 3)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert isinstance(wrapper, CPUAmpOptimWrapper)
    with wrapper.optim_context(model):
        out = model(torch.rand(1, 3, 8, 8))
    assert out.dtype == torch.bfloat16
    before = model.weight.detach().clone()
    wrapper.update_params(out.float().mean())
    assert not torch.equal(model.weight, before)


def test_gpu_amp_uses_mmengine_wrapper(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = _sgd_config()
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'


def test_amp_already_enabled_is_kept():
    cfg = _sgd_config('AmpOptimWrapper')
    enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper


def test_unknown_wrapper_raises():
    with pytest.raises(ValueError, match='MyWrapper'):
        enable_amp(_sgd_config('MyWrapper'))


def test_cpu_wrapper_rejects_float16():
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match='float16'):
        CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1), dtype='float16')
