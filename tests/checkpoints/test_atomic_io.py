"""Atomic writes against what happens around a save: a save killed half-way, then the
next save of the same file; two writers (two ranks, two tools) of one path at once;
a folder that does not exist yet; the backend the checkpoint hook is given."""

import os
import threading

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import get_file_backend
from mmengine.runner.checkpoint import save_checkpoint

from mmseg_fcn_skip.checkpoints import AtomicLocalBackend, use_atomic_checkpoints, write_atomic
from tests.helpers import REPO
from tests.helpers.processes import run_python

#: Loads atomic_io.py alone and kills the process where the rename would come.
KILLED_SAVE = """
import importlib.util, os, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location('atomic_io', sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.os.replace = lambda *args: os._exit(9)
module.write_atomic(b'half' * 1000, Path(sys.argv[2]))
"""


def test_a_save_killed_before_its_rename_does_not_block_the_next_one(tmp_path):
    path = tmp_path / 'iter_4.pth'
    write_atomic(b'old', path)
    module = REPO / 'mmseg_fcn_skip' / 'checkpoints' / 'atomic_io.py'
    killed = run_python('-c', KILLED_SAVE, str(module), str(path))
    assert killed.returncode == 9, killed.stderr
    left = [p for p in tmp_path.iterdir() if p != path]
    assert len(left) == 1 and left[0].name.endswith('.partial')  # what a kill leaves
    assert path.read_bytes() == b'old'
    write_atomic(b'new', path)  # the same file saved again, the leftover beside it
    assert path.read_bytes() == b'new'
    # A second killed save of the same file leaves a second file, not a clash.
    killed = run_python('-c', KILLED_SAVE, str(module), str(path))
    assert killed.returncode == 9, killed.stderr
    write_atomic(b'newer', path)
    assert path.read_bytes() == b'newer'


def test_leftovers_named_like_any_temporary_file_do_not_block_a_save(tmp_path):
    path = tmp_path / 'iter_8.pth'
    for name in (
        '.iter_8.pth.partial',
        '.iter_8.pth.tmp',
        'iter_8.pth.partial',
        '.iter_8.pth.000000000000.partial',
    ):
        (tmp_path / name).write_bytes(b'stale')
    write_atomic(b'saved', path)
    assert path.read_bytes() == b'saved'


def test_two_writers_of_one_path_never_collide(tmp_path, monkeypatch):
    """Two threads save the same path at once, again and again: no save fails, the
    temporary names differ, and the file always holds one writer's whole data."""
    path = tmp_path / 'latest.pth'
    payloads = [bytes([k]) * (1 << 20) for k in (1, 2)]
    errors, temps = [], []
    start = threading.Barrier(2)
    lock = threading.Lock()
    real_replace = os.replace

    def recording_replace(source, target):
        with lock:
            temps.append(str(source))
        real_replace(source, target)

    def writer(payload):
        start.wait()
        for _ in range(6):
            try:
                write_atomic(payload, path)
            except Exception as error:  # noqa: BLE001  (collected, asserted below)
                errors.append(error)

    monkeypatch.setattr(os, 'replace', recording_replace)
    threads = [threading.Thread(target=writer, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monkeypatch.undo()
    assert errors == []
    assert len(temps) == 12 and len(set(temps)) == 12
    assert path.read_bytes() in payloads
    assert [p.name for p in tmp_path.iterdir()] == ['latest.pth']


def test_a_save_creates_its_folders(tmp_path):
    path = tmp_path / 'work_dir' / 'run' / 'iter_2.pth'
    write_atomic(b'data', path)
    assert path.read_bytes() == b'data'
    backend = AtomicLocalBackend()
    backend.put(b'other', tmp_path / 'another' / 'iter_2.pth')
    assert (tmp_path / 'another' / 'iter_2.pth').read_bytes() == b'other'


def test_the_checkpoint_hook_gets_the_atomic_backend(tmp_path):
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(type='CheckpointHook'))))
    assert use_atomic_checkpoints(cfg) is True
    args = cfg.default_hooks.checkpoint.backend_args
    backend = get_file_backend(str(tmp_path / 'iter_1.pth'), backend_args=args)
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'through the hook backend', tmp_path / 'iter_1.pth')
    assert (tmp_path / 'iter_1.pth').read_bytes() == b'through the hook backend'


def test_write_atomic_replaces_the_file_whole(tmp_path):
    path = tmp_path / 'sub' / 'iter_4.pth'
    write_atomic(b'first', path)
    write_atomic(b'second', path)
    assert path.read_bytes() == b'second'
    assert [p.name for p in path.parent.iterdir()] == ['iter_4.pth']


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path, monkeypatch):
    path = tmp_path / 'iter_4.pth'
    path.write_bytes(b'old and complete')

    def fail(_):
        raise OSError('disk full')

    monkeypatch.setattr('os.fsync', fail)
    with pytest.raises(OSError, match='disk full'):
        write_atomic(b'new', path)
    assert path.read_bytes() == b'old and complete'
    assert [p.name for p in tmp_path.iterdir()] == ['iter_4.pth']


def test_checkpoint_hook_config_selects_the_atomic_backend(tmp_path, monkeypatch):
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(type='CheckpointHook'))))
    assert use_atomic_checkpoints(cfg) is True
    backend_args = cfg.default_hooks.checkpoint.backend_args
    assert isinstance(
        get_file_backend(str(tmp_path), backend_args=backend_args), AtomicLocalBackend
    )
    written = []
    monkeypatch.setattr(
        'mmseg_fcn_skip.checkpoints.atomic_io.write_atomic', lambda data, path: written.append(path)
    )
    save_checkpoint({'w': torch.ones(1)}, str(tmp_path / 'iter_1.pth'), backend_args=backend_args)
    assert written == [tmp_path / 'iter_1.pth']


def test_other_storage_settings_are_left_alone():
    remote = Config(
        dict(
            default_hooks=dict(
                checkpoint=dict(type='CheckpointHook', backend_args=dict(backend='petrel'))
            )
        )
    )
    assert use_atomic_checkpoints(remote) is False
    assert remote.default_hooks.checkpoint.backend_args == dict(backend='petrel')
    assert use_atomic_checkpoints(Config(dict(default_hooks=dict()))) is False
