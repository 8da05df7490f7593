"""A hook the load_from tests add to a training run (via ``custom_imports``).

This folder must be on ``PYTHONPATH`` of the training process.
"""

import torch
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class SaveStartWeightsHook(Hook):
    """Save the model's state dict as training starts, to ``work_dir/start.pth``.

    The runner has initialised the weights and loaded ``load_from`` by then, so the
    file holds what the first iteration starts from.
    """

    def before_train(self, runner) -> None:
        state = {k: v.detach().clone() for k, v in runner.model.state_dict().items()}
        torch.save(state, f'{runner.work_dir}/start.pth')
