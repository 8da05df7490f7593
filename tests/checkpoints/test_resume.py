"""checkpoints.resume: which checkpoint --resume continues from."""

import re

import pytest
import torch
from mmengine.config import Config

from mmseg_fcn_skip.checkpoints import CheckpointError, find_resume_checkpoint, resolve_resume
from tests.helpers.light_models import save_checkpoint as _save

WEIGHTS = {'backbone.conv.weight': torch.arange(6.0).reshape(2, 3)}


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


def test_resume_searches_the_folder_last_checkpoint_points_into(tmp_path):
    """last_checkpoint names a damaged file in another folder: the newest intact one
    beside it wins over the older ones of the work dir."""
    work_dir, other = tmp_path / 'work', tmp_path / 'elsewhere'
    work_dir.mkdir()
    other.mkdir()
    torch.save(WEIGHTS, work_dir / 'iter_2.pth')
    torch.save(WEIGHTS, other / 'iter_6.pth')
    (other / 'iter_8.pth').write_bytes(b'')  # cut off while being written
    (work_dir / 'last_checkpoint').write_text(str(other / 'iter_8.pth'))
    assert find_resume_checkpoint(work_dir) == str(other / 'iter_6.pth')


def test_resume_takes_the_newest_epoch_checkpoint(tmp_path):
    """Epoch-based runs save ``epoch_N.pth``: the largest N wins, not the newest name."""
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    for epoch in (9, 10, 2):
        torch.save(WEIGHTS, work_dir / f'epoch_{epoch}.pth')
    assert find_resume_checkpoint(work_dir) == str(work_dir / 'epoch_10.pth')
    (work_dir / 'epoch_10.pth').write_bytes(b'')  # cut off while being written
    assert find_resume_checkpoint(work_dir) == str(work_dir / 'epoch_9.pth')


def test_resume_passes_over_files_of_other_names(tmp_path):
    """Only mmengine's checkpoint names count: best and converted files are no resume
    points, even when newer."""
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    torch.save(WEIGHTS, work_dir / 'iter_4.pth')
    for name in ('best_mIoU_iter_8.pth', 'iter_8_backup.pth', 'fcn8s.pth'):
        torch.save(WEIGHTS, work_dir / name)
    assert find_resume_checkpoint(work_dir) == str(work_dir / 'iter_4.pth')


def test_resume_in_a_work_dir_without_checkpoints_starts_afresh(tmp_path):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (work_dir / 'last_checkpoint').write_text('')
    assert find_resume_checkpoint(work_dir) is None
