"""configs/fcn_skip/fcn8s_vgg16_4xb4-bf16-40k_voc12aug-512x512.py: its settings, and a
short CPU training run with them."""

import argparse
from pathlib import Path

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner
from mmseg.registry import MODELS

from mmseg_fcn_skip.performance import ChannelsLastSegDataPreProcessor, is_channels_last

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / 'configs' / 'fcn_skip' / 'fcn8s_vgg16_4xb4-bf16-40k_voc12aug-512x512.py')


def test_config_enables_bf16_channels_last_cudnn_autotuning_and_compile():
    cfg = Config.fromfile(CONFIG)
    base = Config.fromfile(str(REPO / 'configs' / 'fcn8s_voc.py'))
    wrapper = cfg.optim_wrapper
    assert wrapper.type == 'AmpOptimWrapper' and wrapper.dtype == 'bfloat16'
    assert wrapper.loss_scale == dict(enabled=False)
    assert wrapper.constructor == 'CompilableOptimWrapperConstructor'
    assert wrapper.optimizer == base.optim_wrapper.optimizer
    assert wrapper.paramwise_cfg == base.optim_wrapper.paramwise_cfg
    assert cfg.env_cfg.cudnn_benchmark is True
    assert cfg.compile is True
    # The runtime's NaN guard and per-iteration seeding stay on beside channels-last.
    assert cfg.custom_hooks == [
        dict(type='NonFiniteLossHook'),
        dict(type='IterationSeedHook'),
        dict(type='ChannelsLastHook'),
    ]
    assert cfg.model.data_preprocessor.type == 'ChannelsLastSegDataPreProcessor'
    assert cfg.model.data_preprocessor.non_blocking is True
    assert cfg.train_dataloader.pin_memory and cfg.train_dataloader.num_workers == 8
    assert cfg.val_dataloader.pin_memory and cfg.test_dataloader.pin_memory
    assert cfg.train_dataloader.dataset == base.train_dataloader.dataset
    assert cfg.model.data_preprocessor.mean == base.model.data_preprocessor.mean
    # The plain plugin import registers the speed options the config names.
    assert cfg.custom_imports.imports == ['mmseg_fcn_skip']
    assert MODELS.get('ChannelsLastSegDataPreProcessor') is ChannelsLastSegDataPreProcessor
    assert cfg.model.backbone == base.model.backbone
    assert cfg.model.decode_head == base.model.decode_head


def test_light_variant_trains_on_cpu_channels_last_in_bf16(tmp_path, light_toy_options):
    """AmpOptimWrapper needs a GPU: CPUAmpOptimWrapper (bf16 autocast) stands in, and
    compile is left to the GPU run (compiling takes minutes on two CPU cores)."""
    cfg = Config.fromfile(CONFIG)
    toy = Config.fromfile(str(REPO / 'configs' / 'fcn8s_toy.py'))
    parser = argparse.ArgumentParser()
    parser.add_argument('--options', nargs='+', action=DictAction)
    toy.merge_from_dict(parser.parse_args(['--options', *light_toy_options(2)]).options)
    for key in (
        'train_dataloader',
        'val_dataloader',
        'test_dataloader',
        'val_evaluator',
        'test_evaluator',
        'train_cfg',
        'param_scheduler',
        'default_hooks',
    ):
        cfg[key] = toy[key]
    cfg.model.data_preprocessor.size = toy.model.data_preprocessor.size
    cfg.model.backbone = toy.model.backbone
    cfg.model.decode_head = toy.model.decode_head
    cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
    cfg.optim_wrapper.pop('loss_scale')
    cfg.compile = False
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert (tmp_path / 'iter_2.pth').is_file()
    assert isinstance(runner.model.data_preprocessor, ChannelsLastSegDataPreProcessor)
    convs = [p for p in runner.model.parameters() if p.dim() == 4]
    assert convs and all(is_channels_last(p) for p in convs)
    assert all(type(g) is dict for g in runner.optim_wrapper.optimizer.param_groups)
    # The wrapper's context runs the model in bf16: logits within bf16's precision
    # (8 bits of mantissa) of the float32 ones, not equal to them.
    model = runner.model.eval()  # no dropout, running BN statistics
    data = model.data_preprocessor(next(iter(runner.train_dataloader)), training=True)
    with torch.no_grad():
        full = model(data['inputs'], mode='tensor')
        with runner.optim_wrapper.optim_context(model):
            half = model(data['inputs'], mode='tensor')
    assert full.dtype == torch.float32 and half.dtype == torch.bfloat16
    assert not torch.equal(half.float(), full)
    scale = full.abs().max().item()
    torch.testing.assert_close(half.float(), full, rtol=0.05, atol=0.05 * scale)
