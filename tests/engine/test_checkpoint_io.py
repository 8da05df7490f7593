"""engine: atomic checkpoint writes, and the newest intact checkpoint to resume from."""

import re

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import get_file_backend
from mmengine.runner.checkpoint import save_checkpoint

from mmseg_fcn_skip.checkpoints import CheckpointError
from mmseg_fcn_skip.engine import (
    AtomicLocalBackend,
    find_resume_checkpoint,
    resolve_resume,
    use_atomic_checkpoints,
    write_atomic,
)
from tests.helpers.light_models import save_checkpoint as _save

# resuming


def _work_dir(tmp_path, steps, damaged=(), pointer=None):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    for step in steps:
        path = _save(work_dir / f'iter_{step}.pth', {'w': torch.full((64,), step)})
        if step in damaged:
            path.write_bytes(path.read_bytes()[:100])
    if pointer is not None:
        (work_dir / 'last_checkpoint').write_text(pointer)
    return work_dir


def test_resume_takes_the_file_last_checkpoint_names(tmp_path):
    work_dir = _work_dir(tmp_path, [4, 8], pointer='')
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_4.pth'))
    assert find_resume_checkpoint(work_dir) == str(work_dir / 'iter_4.pth')


def test_resume_falls_back_past_damaged_checkpoints_and_keeps_them(tmp_path):
    work_dir = _work_dir(tmp_path, [4, 8, 12], damaged=(8, 12))
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_12.pth'))
    assert find_resume_checkpoint(work_dir) == str(work_dir / 'iter_4.pth')
    assert sorted(p.name for p in work_dir.iterdir()) == [
        'iter_12.pth',
        'iter_4.pth',
        'iter_8.pth',
        'last_checkpoint',
    ]


def test_resume_scans_when_last_checkpoint_is_empty(tmp_path):
    work_dir = _work_dir(tmp_path, [2, 10, 6], pointer='')
    assert find_resume_checkpoint(work_dir) == str(work_dir / 'iter_10.pth')


def test_resume_with_no_intact_checkpoint_says_so(tmp_path):
    work_dir = _work_dir(tmp_path, [4, 8], damaged=(4, 8))
    with pytest.raises(
        CheckpointError, match=re.escape(f'no usable checkpoint to resume from in {work_dir}')
    ) as error:
        find_resume_checkpoint(work_dir)
    message = str(error.value)

    assert f'{work_dir / "iter_8.pth"} is damaged' in message
    assert f'{work_dir / "iter_4.pth"} is damaged' in message
    assert 'Nothing was deleted' in message
    assert len(list(work_dir.glob('*.pth'))) == 2


def test_resolve_resume(tmp_path):
    cfg = Config(dict(work_dir=str(tmp_path / 'fresh'), resume=True, load_from=None))
    resolve_resume(cfg)
    assert cfg.resume is False and cfg.load_from is None
    work_dir = _work_dir(tmp_path, [3])
    cfg = Config(dict(work_dir=str(work_dir), resume=True, load_from=None))
    resolve_resume(cfg)
    assert cfg.resume is True and cfg.load_from == str(work_dir / 'iter_3.pth')
    (work_dir / 'iter_3.pth').write_bytes(b'')
    cfg = Config(dict(work_dir=str(work_dir), resume=True, load_from=str(work_dir / 'iter_3.pth')))
    with pytest.raises(CheckpointError, match='iter_3.pth is empty'):
        resolve_resume(cfg)


# atomic writes


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
        'mmseg_fcn_skip.engine.atomic_io.write_atomic', lambda data, path: written.append(path)
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
