"""Atomic checkpoint writes: a crash mid-save cannot damage an existing file.

mmengine writes a checkpoint by opening the final path and writing into it,
so a process killed mid-write leaves a truncated file under the final name
(and a rerun that saves the same step again truncates the old one first).
:class:`AtomicLocalBackend` writes to a temporary file in the same folder,
flushes it to disk and renames it over the final path, which POSIX and
Windows do atomically: the path holds either the old or the new complete
file. A kill leaves at most a ``.<name>.*.partial`` file behind.
"""

import os
import uuid
from pathlib import Path
from typing import Union

from mmengine.config import Config
from mmengine.fileio import LocalBackend, register_backend

ATOMIC_BACKEND = 'atomic_local'


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic :meth:`put`.

    Registered as the file backend ``'atomic_local'``; select it with
    ``backend_args=dict(backend='atomic_local')`` (see
    :func:`use_atomic_checkpoints`).
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write ``obj`` to ``filepath`` atomically (folders are created)."""
        write_atomic(obj, Path(filepath))


def register_atomic_backend() -> None:
    """Register :class:`AtomicLocalBackend` as mmengine's file backend ``'atomic_local'``."""
    register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)


def write_atomic(data: bytes, path: Path) -> None:
    """Write ``data`` to ``path`` through a synced temporary file and a rename.

    Raises:
        OSError: if the folder cannot be created or written; the temporary
            file is removed and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f'.{path.name}.{uuid.uuid4().hex[:12]}.partial')
    # 'xb' creates a new file with the usual permissions (umask applies).
    try:
        with temp.open('xb') as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def use_atomic_checkpoints(cfg: Config) -> bool:
    """Make the config's ``CheckpointHook`` write checkpoints atomically.

    Sets ``default_hooks.checkpoint.backend_args`` to the ``'atomic_local'``
    backend unless the hook already has ``backend_args`` or
    ``file_client_args`` (another storage, e.g. a remote one, is left alone)
    or there is no checkpoint hook.

    Returns:
        True if the config was changed.
    """
    hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if not hook or hook.get('backend_args') or hook.get('file_client_args'):
        return False
    hook['backend_args'] = dict(backend=ATOMIC_BACKEND)
    return True


def _sync_folder(folder: Path) -> None:
    """Flush the rename to disk where the platform allows opening folders."""
    if os.name != 'posix':
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
