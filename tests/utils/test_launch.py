import datetime
import weakref
from typing import Iterator

import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config
from torch.nn.parallel import DistributedDataParallel

from mmseg_fcn_skip.utils import close_distributed, prepare_cpu_distributed
from tests.helpers.processes import free_port


@pytest.fixture
def cpu_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)


@pytest.fixture
def torchrun_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Single-process torchrun environment; tears the group down after."""
    for name, value in dict(
        RANK='0',
        WORLD_SIZE='1',
        LOCAL_RANK='0',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(free_port()),
    ).items():
        monkeypatch.setenv(name, value)
    yield
    close_distributed()


def test_launcher_none_leaves_config_alone(cpu_only):
    cfg = Config(dict(model=dict(type='EncoderDecoder')))
    assert prepare_cpu_distributed(cfg, 'none') is False
    assert 'model_wrapper_cfg' not in cfg
    assert not dist.is_initialized()


def test_gpu_machine_leaves_config_alone(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = Config(dict(model=dict(type='EncoderDecoder')))
    assert prepare_cpu_distributed(cfg, 'pytorch') is False
    assert 'model_wrapper_cfg' not in cfg
    assert not dist.is_initialized()


def test_cpu_pytorch_launcher_starts_gloo_and_drops_device_ids(cpu_only, torchrun_env):
    cfg = Config(dict(model=dict(type='EncoderDecoder')))
    assert prepare_cpu_distributed(cfg, 'pytorch') is True
    assert dist.is_initialized()
    assert dist.get_backend() == 'gloo'
    assert cfg.model_wrapper_cfg == dict(type='MMDistributedDataParallel', device_ids=None)


def test_the_dist_cfg_timeout_is_in_seconds(cpu_only, torchrun_env, monkeypatch):
    started = []
    monkeypatch.setattr(dist, 'init_process_group', lambda **kwargs: started.append(kwargs))
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=1800))))
    prepare_cpu_distributed(cfg, 'pytorch')
    assert started[0]['backend'] == 'gloo'
    assert started[0]['timeout'] == datetime.timedelta(minutes=30)


def test_cpu_pytorch_launcher_keeps_user_wrapper_keys(cpu_only, torchrun_env):
    cfg = Config(
        dict(
            model_wrapper_cfg=dict(
                type='MMDistributedDataParallel', device_ids=[0], find_unused_parameters=True
            )
        )
    )
    prepare_cpu_distributed(cfg, 'pytorch')
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel', device_ids=None, find_unused_parameters=True
    )


def test_cpu_without_torchrun_env_raises(cpu_only, monkeypatch):
    monkeypatch.delenv('MASTER_PORT', raising=False)
    with pytest.raises(ValueError, match='MASTER_PORT'):
        prepare_cpu_distributed(Config(), 'pytorch')


@pytest.mark.parametrize('launcher', ['slurm', 'mpi'])
def test_cpu_with_cuda_only_launcher_raises(cpu_only, launcher):
    with pytest.raises(ValueError, match=launcher):
        prepare_cpu_distributed(Config(), launcher)


def test_close_distributed_first_frees_unreachable_models_that_hold_the_group(
    cpu_only, torchrun_env
):
    prepare_cpu_distributed(Config(dict(model=dict(type='EncoderDecoder'))), 'pytorch')
    wrapped = DistributedDataParallel(torch.nn.Linear(2, 2))
    wrapped.cycle = [wrapped]  # freed only by the garbage collector
    alive = weakref.ref(wrapped)
    del wrapped
    assert alive() is not None
    assert close_distributed() is True
    assert alive() is None and not dist.is_initialized()


def test_close_distributed_destroys_the_group_once(cpu_only, torchrun_env):
    assert close_distributed() is False
    prepare_cpu_distributed(Config(dict(model=dict(type='EncoderDecoder'))), 'pytorch')
    assert dist.is_initialized()
    assert close_distributed() is True
    assert not dist.is_initialized()
    assert close_distributed() is False
