"""The optimizer constructor that lets mmengine compile a training step with
param groups."""

import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.optim import build_optim_wrapper

OPTIM_WRAPPER = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(bias_lr_mult=2.0, bias_decay_mult=0.0),
)


def _wrapper(model: nn.Module, constructor: str):
    # A ConfigDict, as the runner passes it when the config comes from a file.
    return build_optim_wrapper(model, ConfigDict(OPTIM_WRAPPER, constructor=constructor))


def test_groups_are_plain_dicts_with_the_default_settings():
    model = nn.Linear(4, 3)
    default = _wrapper(model, 'DefaultOptimWrapperConstructor').optimizer.param_groups
    plain = _wrapper(model, 'CompilableOptimWrapperConstructor').optimizer.param_groups
    assert all(type(group) is ConfigDict for group in default)
    assert all(type(group) is dict for group in plain)
    assert plain == [dict(group) for group in default]
    assert [g['lr'] for g in plain] == [0.1, 0.2]  # weight, then bias at 2x
    assert [g['weight_decay'] for g in plain] == [5e-4, 0.0]


def test_a_compiled_training_step_runs_and_matches_eager():
    torch.manual_seed(0)
    eager_model = nn.Linear(4, 3)
    compiled_model = nn.Linear(4, 3)
    compiled_model.load_state_dict(eager_model.state_dict())
    x = torch.randn(5, 4)

    def make_step(model: nn.Module):
        wrapper = _wrapper(model, 'CompilableOptimWrapperConstructor')

        def step() -> torch.Tensor:
            loss = model(x).square().mean()
            wrapper.update_params(loss)
            return loss

        return step

    eager_step, compiled_step = make_step(eager_model), torch.compile(make_step(compiled_model))
    for _ in range(3):
        torch.testing.assert_close(compiled_step(), eager_step())
    torch.testing.assert_close(compiled_model.weight, eager_model.weight)
