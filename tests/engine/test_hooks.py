import logging
import math
import random
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner import Runner

from mmseg_fcn_skip.datasets import generate_toy_shapes
from mmseg_fcn_skip.engine import IterationSeedHook, NonFiniteLossHook

REPO_CONFIG = str(Path(__file__).resolve().parents[2] / 'configs' / 'fcn8s_toy.py')


def _runner(iteration, seed=0):
    return SimpleNamespace(
        iter=iteration, seed=seed, message_hub=MessageHub.get_instance('test_hooks')
    )


def test_iteration_seed_hook_draws_depend_on_seed_and_iteration_only():
    def draws(iteration, seed=0):
        IterationSeedHook().before_train_iter(_runner(iteration, seed), 0)
        return torch.rand(3)

    first = draws(5)
    torch.rand(100)  # draws in between (validation, loaders) do not matter
    assert torch.equal(draws(5), first)
    assert not torch.equal(draws(6), first)
    assert not torch.equal(draws(5, seed=1), first)


def test_iteration_seed_is_the_iteration_stream_seed():
    """Iteration 7 of seed 3 seeds every generator from SeedSequence([3, 2, 7]), the
    iteration stream: not the sample stream (1), whose seeds the data pipeline uses."""
    low, high = np.random.SeedSequence([3, 2, 7]).generate_state(2, np.uint32)
    seed = int(low) | int(high) << 32
    IterationSeedHook().before_train_iter(_runner(7, seed=3), 0)
    drawn = (torch.rand(4), np.random.rand(4), random.random())
    expected_torch = torch.rand(4, generator=torch.Generator().manual_seed(seed))
    expected_numpy = np.random.RandomState([int(low), int(high)]).rand(4)
    assert torch.equal(drawn[0], expected_torch)
    assert np.array_equal(drawn[1], expected_numpy)
    assert drawn[2] == random.Random(seed).random()


@pytest.mark.parametrize('value', [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize('term', ['loss', 'decode.loss_ce'])
def test_one_non_finite_term_alone_stops_training(term, value):
    outputs = {
        'loss': torch.tensor(2.5),
        'decode.loss_ce': torch.tensor(2.5),
        'decode.acc_seg': torch.tensor(50.0),
    }
    outputs[term] = torch.tensor(value)
    expected = {k: ('2.5' if k != term else f'{value}') for k in ('loss', 'decode.loss_ce')}
    with pytest.raises(
        FloatingPointError,
        match=re.escape(
            f'Non-finite loss at iteration 8: loss={expected["loss"]}, '
            f'decode.loss_ce={expected["decode.loss_ce"]}.'
        ),
    ):
        NonFiniteLossHook().after_train_iter(_runner(7), 0, outputs=outputs)


def test_non_finite_loss_stops_with_iteration_and_terms():
    outputs = {
        'loss': torch.tensor(math.nan),
        'decode.loss_ce': torch.tensor(math.inf),
        'decode.acc_seg': torch.tensor(50.0),
    }
    with pytest.raises(
        FloatingPointError,
        match=re.escape('Non-finite loss at iteration 5: loss=nan, decode.loss_ce=inf.'),
    ) as error:
        NonFiniteLossHook().after_train_iter(_runner(4), 0, outputs=outputs)
    message = str(error.value)
    assert 'acc_seg' not in message
    assert "action='warn'" in message


def test_non_finite_accuracy_is_not_a_loss():
    outputs = {'loss': torch.tensor(1.0), 'decode.acc_seg': torch.tensor(math.nan)}
    assert NonFiniteLossHook().after_train_iter(_runner(0), 0, outputs=outputs) is None


def test_non_finite_loss_warn_action_logs_and_trains_on(monkeypatch):
    logged = []
    monkeypatch.setattr(
        'mmseg_fcn_skip.engine.hooks.print_log',
        lambda message, **kwargs: logged.append((message, kwargs)),
    )
    outputs = {'loss': torch.tensor(math.nan), 'decode.loss_ce': torch.tensor(0.5)}
    NonFiniteLossHook(action='warn').after_train_iter(_runner(2), 0, outputs=outputs)
    assert logged == [
        (
            'Non-finite loss at iteration 3: loss=nan, decode.loss_ce=0.5; '
            'training on (NonFiniteLossHook action=warn).',
            dict(logger='current', level=logging.WARNING),
        )
    ]


def test_finite_losses_pass_silently_and_bad_action_is_named(monkeypatch):
    logged = []
    monkeypatch.setattr(
        'mmseg_fcn_skip.engine.hooks.print_log', lambda *args, **kwargs: logged.append(args)
    )
    finite = {'loss': torch.tensor(3e38), 'decode.loss_ce': torch.tensor(-1.0)}
    for action in ('raise', 'warn'):
        NonFiniteLossHook(action).after_train_iter(_runner(0), 0, outputs=finite)
    assert logged == []
    with pytest.raises(ValueError, match="action='ignore' is not supported"):
        NonFiniteLossHook(action='ignore')


def test_exploding_training_stops_before_saving_the_bad_iteration(tmp_path):
    data_root = generate_toy_shapes(tmp_path / 'data', num_train=4, num_val=1, size_range=(33, 40))
    cfg = Config.fromfile(REPO_CONFIG)
    cfg.merge_from_dict(
        {
            'work_dir': str(tmp_path / 'work'),
            'experiment_name': 'exploding',
            'model.backbone.base_channels': 4,
            'model.backbone.fc_channels': 16,
            'model.decode_head.in_channels': (16, 32, 16),
            'optim_wrapper.optimizer': dict(type='SGD', lr=1e30),
            'param_scheduler': [],
            'train_cfg.max_iters': 6,
            'train_cfg.val_interval': 100,
            'default_hooks.checkpoint.interval': 1,
            'train_dataloader.dataset.data_root': str(data_root),
            'train_dataloader.num_workers': 0,
            'train_dataloader.persistent_workers': False,
            'val_dataloader.dataset.data_root': str(data_root),
            'val_dataloader.num_workers': 0,
            'val_dataloader.persistent_workers': False,
        }
    )
    cfg.test_dataloader = cfg.val_dataloader
    runner = Runner.from_cfg(cfg)
    with pytest.raises(FloatingPointError, match='Non-finite loss at iteration') as error:
        runner.train()

    found = re.search(
        r'Non-finite loss at iteration (\d): loss=(nan|inf), '
        r'decode.loss_ce=(nan|inf)\.',
        str(error.value),
    )
    assert found, str(error.value)
    bad = int(found.group(1))
    saved = sorted(p.name for p in (tmp_path / 'work').glob('iter_*.pth'))
    assert saved == [f'iter_{i}.pth' for i in range(1, bad)]
