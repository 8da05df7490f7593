"""Distributed launching on machines without CUDA.

mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` before it
creates the process group, which fails on a CPU-only PyTorch build, and the
runner wraps the model in DistributedDataParallel with
``device_ids=[LOCAL_RANK]``, which is only valid for GPU modules.
:func:`prepare_cpu_distributed` works around both so the same ``torchrun``
command trains on CPUs (with the gloo backend) and on GPUs.
:func:`close_distributed` ends the process group once a tool is done with it.
"""

import datetime
import gc
import os

import torch
import torch.distributed as dist
from mmengine.config import Config

TORCHRUN_ENV_VARS = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')


def prepare_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Set up CPU distributed training for the ``pytorch`` launcher.

    Does nothing when ``launcher`` is ``'none'`` or CUDA is available, where
    the runner's own set-up works. Otherwise it creates a gloo process group
    from the environment variables that ``torchrun`` sets (the runner skips
    its own initialisation when a group already exists) and sets
    ``cfg.model_wrapper_cfg['device_ids'] = None`` so DistributedDataParallel
    wraps the CPU model. Other keys of an existing ``model_wrapper_cfg`` are
    kept.

    Args:
        cfg: The config the runner is built from; updated in place.
        launcher: The ``--launcher`` argument: ``'none'``, ``'pytorch'``,
            ``'slurm'`` or ``'mpi'``.

    Returns:
        True if the CPU set-up was applied, False if nothing was changed.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise ValueError(
            f'launcher={launcher!r} needs CUDA, which this PyTorch build '
            'does not have; start the processes with `python -m '
            'torch.distributed.run` (tools/dist_train.sh) and pass '
            '`--launcher pytorch` to train on CPUs.'
        )
    if not dist.is_initialized():
        _init_gloo_from_env(cfg)
    wrapper_cfg = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
    wrapper_cfg['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper_cfg
    return True


def close_distributed() -> bool:
    """Free the default process group, if there is one, while Python is alive.

    The tools call it after their ``main()`` has returned, when the runner is
    gone. A process that exits with its group alive can abort in gloo's worker
    threads while Python shuts down ("terminate called without an active
    exception", exit code -6), which makes ``torchrun`` report a finished run
    as failed; with NCCL, torch warns that the group was not destroyed. A model
    wrapped in DistributedDataParallel holds the group too, so garbage is
    collected first: the group's last reference then goes here, not at exit.

    Returns:
        True if a process group was destroyed, False if there was none.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return False
    gc.collect()
    dist.destroy_process_group()
    return True


def _init_gloo_from_env(cfg: Config) -> None:
    """Create a gloo process group from torchrun's environment variables."""
    missing = [name for name in TORCHRUN_ENV_VARS if name not in os.environ]
    if missing:
        raise ValueError(
            f"launcher='pytorch' needs the environment variables "
            f'{", ".join(missing)}, which are not set; start the script with '
            '`python -m torch.distributed.run --nproc_per_node N ...` '
            '(tools/dist_train.sh) or use `--launcher none`.'
        )
    kwargs = {}
    timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
    if timeout is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=timeout)
    dist.init_process_group(
        backend='gloo',
        init_method='env://',
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs,
    )
