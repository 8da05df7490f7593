"""Hooks the subprocess tests add to a training run, imported by the run's config as
``custom_imports = dict(imports=['tests.helpers.training_probes'])``.

The repository root must be on ``PYTHONPATH`` of the training process; see
``processes.subprocess_env``.
"""

import json
import os
import signal
from pathlib import Path

import torch
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class SigkillAtIterHook(Hook):
    """Kill the training process with SIGKILL right after iteration ``iteration``.

    Nothing runs after the signal (no ``finally``, no hooks, no flush): the same
    as the machine pulling the plug on the process.
    """

    priority = 'LOWEST'

    def __init__(self, iteration: int) -> None:
        self.iteration = iteration

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.iteration:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class RecordRankHook(Hook):
    """Write what this rank saw to ``work_dir/rank{r}.json`` at the end of the run.

    Records the runner's seed, the world size, the number of iterations, the
    (height, width) of each image of each batch before padding, the image files
    and a checksum of the final parameters.
    """

    def __init__(self) -> None:
        self.batches = []
        self.files = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.batches.append([list(img.shape[-2:]) for img in data_batch['inputs']])
        self.files += [s.img_path for s in data_batch['data_samples']]

    def after_run(self, runner):
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        # Parameters only: BN running statistics are per rank under DDP.
        checksum = sum(float(p.double().sum()) for p in model.parameters())
        record = dict(
            rank=get_rank(),
            world_size=get_world_size(),
            seed=runner.seed,
            iterations=runner.iter,
            batches=self.batches,
            files=self.files,
            weight_checksum=checksum,
        )
        path = Path(runner.work_dir) / f'rank{get_rank()}.json'
        path.write_text(json.dumps(record))


@HOOKS.register_module()
class SaveStartWeightsHook(Hook):
    """Save the model's state dict as training starts, to ``work_dir/start.pth``.

    The runner has initialised the weights and loaded ``load_from`` by then, so the
    file holds what the first iteration starts from.
    """

    def before_train(self, runner) -> None:
        state = {k: v.detach().clone() for k, v in runner.model.state_dict().items()}
        torch.save(state, f'{runner.work_dir}/start.pth')
