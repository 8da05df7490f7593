"""Let mmengine's ``compile = True`` compile a training step that has param groups.

mmengine compiles the whole ``train_step`` (forward, loss, backward and the
optimizer step). With ``paramwise_cfg`` (bias lr/decay multipliers, as in
configs/fcn8s_voc.py) its default constructor passes the parameter groups
through the registry, which turns each group into a ``ConfigDict``;
TorchDynamo (torch 2.13) then fails while tracing ``optimizer.step`` with
``InternalTorchDynamoError: AttributeError: 'UserDefinedDictVariable' object
has no attribute 'items'``. :class:`CompilableOptimWrapperConstructor` builds
the same optimizer and hands it plain-dict groups.
"""

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class CompilableOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``DefaultOptimWrapperConstructor`` whose optimizer has plain-dict groups.

    Same arguments, learning rates and weight decays as the default
    constructor; select it with ``optim_wrapper = dict(constructor=
    'CompilableOptimWrapperConstructor', ...)``.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        """Build the wrapper as the parent does, then make each group a dict."""
        optim_wrapper = super().__call__(model)
        groups = optim_wrapper.optimizer.param_groups
        groups[:] = [dict(group) for group in groups]
        return optim_wrapper
