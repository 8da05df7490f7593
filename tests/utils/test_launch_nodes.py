"""prepare_cpu_distributed on more than one node: torchrun's global RANK and
WORLD_SIZE make the process group, LOCAL_RANK and LOCAL_WORLD_SIZE (per node) do
not; each variable it needs is asked for by name; other launchers are refused."""

import pytest
import torch
from mmengine.config import Config

from mmseg_fcn_skip.utils import launch
from mmseg_fcn_skip.utils.launch import prepare_cpu_distributed

#: ``torchrun --nnodes 2 --nproc_per_node 2``, the second process of node 1.
NODE_1_OF_2 = dict(
    RANK='3',
    LOCAL_RANK='1',
    WORLD_SIZE='4',
    LOCAL_WORLD_SIZE='2',
    GROUP_RANK='1',
    MASTER_ADDR='10.0.0.1',
    MASTER_PORT='29500',
)


@pytest.fixture
def groups(monkeypatch):
    """Record the process groups asked for instead of creating them."""
    made = []
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(launch.dist, 'is_initialized', lambda: False)
    monkeypatch.setattr(launch.dist, 'init_process_group', lambda **kwargs: made.append(kwargs))
    return made


def set_env(monkeypatch, variables):
    for name in (
        'RANK',
        'LOCAL_RANK',
        'WORLD_SIZE',
        'LOCAL_WORLD_SIZE',
        'GROUP_RANK',
        'MASTER_ADDR',
        'MASTER_PORT',
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize('rank,local_rank', [(3, 1), (2, 0), (1, 1), (0, 0)])
def test_the_group_gets_the_global_rank_and_world_size(monkeypatch, groups, rank, local_rank):
    set_env(monkeypatch, dict(NODE_1_OF_2, RANK=str(rank), LOCAL_RANK=str(local_rank)))
    cfg = Config(dict(model_wrapper_cfg=dict(find_unused_parameters=True)))
    assert prepare_cpu_distributed(cfg, 'pytorch') is True
    assert len(groups) == 1
    group = groups[0]
    assert group['backend'] == 'gloo' and group['init_method'] == 'env://'
    assert group['rank'] == rank and group['world_size'] == 4
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel', find_unused_parameters=True, device_ids=None
    )


@pytest.mark.parametrize(
    'missing', ['RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT']
)
def test_each_missing_variable_is_named(monkeypatch, groups, missing):
    set_env(monkeypatch, {k: v for k, v in NODE_1_OF_2.items() if k != missing})
    with pytest.raises(ValueError, match=f'needs the environment variables {missing},'):
        prepare_cpu_distributed(Config(dict()), 'pytorch')
    assert groups == []


@pytest.mark.parametrize('launcher', ['slurm', 'mpi'])
def test_launchers_that_need_cuda_are_refused_on_cpu(monkeypatch, groups, launcher):
    set_env(monkeypatch, NODE_1_OF_2)
    with pytest.raises(ValueError, match=f"launcher='{launcher}' needs CUDA"):
        prepare_cpu_distributed(Config(dict()), launcher)
    assert groups == []


def test_no_launcher_leaves_everything_alone(monkeypatch, groups):
    set_env(monkeypatch, NODE_1_OF_2)
    cfg = Config(dict())
    assert prepare_cpu_distributed(cfg, 'none') is False
    assert groups == [] and 'model_wrapper_cfg' not in cfg
