"""Checkpoint reading and resume discovery, case by case: a dict that is only partly
tensors, the meta of an mmengine checkpoint, and a last_checkpoint that points into
another folder."""

import pytest
import torch

from mmseg_fcn_skip.checkpoints import CheckpointError, read_checkpoint
from mmseg_fcn_skip.engine import find_resume_checkpoint

WEIGHTS = {'backbone.conv.weight': torch.arange(6.0).reshape(2, 3)}


def test_a_dict_with_other_values_beside_tensors_is_no_state_dict(tmp_path):
    path = tmp_path / 'mixed.pth'
    torch.save({'backbone.conv.weight': torch.ones(2), 'step': 3}, path)
    with pytest.raises(CheckpointError, match='holds no state dict'):
        read_checkpoint(path)
    torch.save({'state_dict': {'a': torch.ones(1), 'b': 'text'}}, path)
    with pytest.raises(CheckpointError, match='holds no state dict'):
        read_checkpoint(path)


def test_the_meta_of_an_mmengine_checkpoint_comes_back(tmp_path):
    path = tmp_path / 'iter_4.pth'
    meta = dict(dataset_meta=dict(classes=('a', 'b')), iter=4)
    torch.save({'state_dict': WEIGHTS, 'meta': meta, 'metainfo': {'other': 1}}, path)
    state_dict, found = read_checkpoint(path)
    assert found == meta
    assert torch.equal(state_dict['backbone.conv.weight'], WEIGHTS['backbone.conv.weight'])
    torch.save(WEIGHTS, path)  # a plain state dict has no meta
    assert read_checkpoint(path)[1] == {}


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
