"""Training hooks: reproducible randomness per iteration, and a non-finite loss guard."""

import logging
from typing import Dict, Optional, Tuple

import torch
from mmengine.dist import all_reduce, get_rank, is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from .seeding import STREAM_ITERATION, derive_seed, seed_global_rngs

NON_FINITE_ACTIONS = ('raise', 'warn')


@HOOKS.register_module()
class IterationSeedHook(Hook):
    """Reseed the global generators before every training iteration.

    The seed is ``derive_seed(runner.seed, STREAM_ITERATION, iteration)``, so
    the random draws of an iteration (dropout masks, ...) depend only on the
    run's seed and the iteration number. A resumed run therefore draws what
    the uninterrupted run drew, whatever else consumed random numbers in
    between (validation, new data loader iterators). ``runner.seed`` already
    includes the rank offset when ``randomness.diff_rank_seed`` is True, so
    ranks then draw differently, as mmengine intends.
    """

    priority = 'VERY_HIGH'

    def before_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None) -> None:
        """Seed ``random``, numpy and torch for iteration ``runner.iter``."""
        seed_global_rngs(derive_seed(runner.seed, STREAM_ITERATION, runner.iter))


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training when a loss term becomes NaN or infinite.

    Checks every loss term the model logs after each training iteration. In
    distributed training the ranks agree on the outcome, so all of them stop
    together instead of waiting for each other forever.

    It runs before ``CheckpointHook``, so a non-finite iteration is never
    saved; the last checkpoint on disk still holds finite weights.

    Args:
        action: ``'raise'`` (default) stops with a ``FloatingPointError``
            naming the iteration and the loss terms; ``'warn'`` logs the same
            message and trains on. To drop the guard, leave this hook out of
            ``custom_hooks``.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, action: str = 'raise') -> None:
        if action not in NON_FINITE_ACTIONS:
            raise ValueError(
                f'NonFiniteLossHook: action={action!r} is not '
                f'supported; use one of {NON_FINITE_ACTIONS}'
            )
        self.action = action

    def after_train_iter(
        self,
        runner,
        batch_idx: int,
        data_batch: Optional[dict] = None,
        outputs: Optional[Dict[str, torch.Tensor]] = None,
    ) -> None:
        """Raise or warn if a loss term of this iteration is not finite."""
        losses = {key: value for key, value in (outputs or {}).items() if 'loss' in key}
        if not losses:
            return
        locally_finite, everywhere_finite = _finite_here_and_everywhere(losses)
        if everywhere_finite:
            return
        message = _non_finite_message(runner.iter + 1, losses, locally_finite)
        if self.action == 'raise':
            raise FloatingPointError(
                f'{message}. Training stopped before this iteration was '
                f'checkpointed (last checkpoint: '
                f'{runner.message_hub.get_info("last_ckpt", "none yet")}). '
                'Usual causes: a learning rate too high for the batch size, '
                'a poisoned input, or fp16 overflow; lower the learning rate '
                'or add optim_wrapper.clip_grad and resume. To train on '
                "regardless, set action='warn' on NonFiniteLossHook in "
                'custom_hooks.'
            )
        print_log(
            f'{message}; training on (NonFiniteLossHook action=warn).',
            logger='current',
            level=logging.WARNING,
        )


def _finite_here_and_everywhere(losses: Dict[str, torch.Tensor]) -> Tuple[bool, bool]:
    """Whether every loss term is finite on this rank, and on every rank."""
    values = torch.stack([torch.as_tensor(v).detach().float().reshape(()) for v in losses.values()])
    bad = (~torch.isfinite(values)).any().to(torch.int32).reshape(1)
    locally_finite = int(bad.item()) == 0
    if is_distributed():
        all_reduce(bad, op='sum')
    return locally_finite, int(bad.item()) == 0


def _non_finite_message(
    iteration: int, losses: Dict[str, torch.Tensor], locally_finite: bool
) -> str:
    """Name the iteration, the rank(s) and this rank's loss terms."""
    terms = ', '.join(f'{key}={float(value):.6g}' for key, value in losses.items())
    if not is_distributed():
        return f'Non-finite loss at iteration {iteration}: {terms}'
    where = 'on another rank' if locally_finite else f'on rank {get_rank()}'
    return f'Non-finite loss at iteration {iteration} {where} (rank {get_rank()}: {terms})'
