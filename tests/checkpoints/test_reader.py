"""checkpoints.reader: damaged files are named, state dicts are unwrapped, a dict that
is only partly tensors is refused, the meta of an mmengine checkpoint comes back."""

import re

import pytest
import torch

from mmseg_fcn_skip.checkpoints import (
    CheckpointError,
    check_checkpoint_file,
    read_checkpoint,
    read_state_dict,
    read_weights,
    unwrap_state_dict,
)
from tests.helpers.light_models import light_model, save_checkpoint


@pytest.fixture(scope='module')
def fcn8s():
    return light_model()


_save = save_checkpoint


def test_intact_checkpoints_pass(tmp_path, fcn8s):
    check_checkpoint_file(_save(tmp_path / 'ok.pth', fcn8s))
    legacy = tmp_path / 'legacy.pth'
    torch.save(dict(state_dict=fcn8s.state_dict()), legacy, _use_new_zipfile_serialization=False)
    check_checkpoint_file(legacy)
    assert read_state_dict(legacy).keys() == fcn8s.state_dict().keys()


@pytest.mark.parametrize(
    'damage, problem',
    [
        (lambda data: b'', 'is empty (0 bytes)'),
        (lambda data: data[: len(data) // 2], 'is damaged'),
        (lambda data: data[:-30], 'is damaged'),
        (lambda data: data[:2000] + bytes([data[2000] ^ 1]) + data[2001:], 'is damaged'),
    ],
)
def test_damaged_checkpoints_are_named(tmp_path, fcn8s, damage, problem):
    path = _save(tmp_path / 'iter_8.pth', fcn8s)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError, match=re.escape(f'checkpoint {path} {problem}')):
        check_checkpoint_file(path)
    with pytest.raises(CheckpointError, match=re.escape(str(path))):
        read_state_dict(path)


def test_missing_and_foreign_files_are_named(tmp_path):
    with pytest.raises(CheckpointError, match='nope.pth does not exist'):
        check_checkpoint_file(tmp_path / 'nope.pth')
    caffe = tmp_path / 'fcn8s-heavy-pascal.caffemodel'
    caffe.write_bytes(b'\x0a\x0bVGG_ILSVRC\x12\x00')
    with pytest.raises(
        CheckpointError, match=re.escape(f'{caffe} is not a PyTorch checkpoint')
    ) as error:
        check_checkpoint_file(caffe)
    assert 'tools/model_converters/caffe_fcn2mmseg.py' in str(error.value)


def test_load_state_dict_unwraps_and_strips_the_ddp_prefix(tmp_path):
    weight = torch.ones(2)
    _save(tmp_path / 'ddp.pth', {'module.backbone.w': weight, 'module.head.module.b': 2 * weight})
    state_dict = read_state_dict(tmp_path / 'ddp.pth')
    assert list(state_dict) == ['backbone.w', 'head.module.b']  # the leading one only
    assert torch.equal(state_dict['head.module.b'], 2 * weight)
    torch.save({'backbone.w': weight}, tmp_path / 'plain.pth')
    assert list(read_state_dict(tmp_path / 'plain.pth')) == ['backbone.w']
    torch.save([weight], tmp_path / 'list.pth')
    with pytest.raises(CheckpointError, match='holds no state dict.*found list'):
        read_state_dict(tmp_path / 'list.pth')


@pytest.mark.parametrize('wrapper', [None, 'state_dict', 'model_state_dict', 'model'])
def test_unwrap_state_dict(wrapper):
    weights = {'a.weight': torch.zeros(1)}
    checkpoint = weights if wrapper is None else {wrapper: weights, 'epoch': 3}
    assert unwrap_state_dict(checkpoint) == weights


def test_unwrap_state_dict_without_tensors_raises():
    with pytest.raises(
        ValueError,
        match=r'holds no state dict .* found dict with keys '
        r"\['epoch', 'meta'\]",
    ):
        unwrap_state_dict({'epoch': 3, 'meta': {}})


def test_read_weights_reads_pytorch_files_and_names_missing_ones(tmp_path):
    weight = torch.arange(6.0)
    torch.save({'model': {'w': weight}}, tmp_path / 'w.pth')
    assert torch.equal(read_weights(tmp_path / 'w.pth')['w'], weight)
    with pytest.raises(CheckpointError, match='missing.pth does not exist'):
        read_weights(tmp_path / 'missing.pth')
    with pytest.raises(CheckpointError, match='missing.caffemodel does not exist'):
        read_weights(tmp_path / 'missing.caffemodel')


class _Pickled:
    """Not a tensor: unpickled only where allowed."""


def test_weights_from_elsewhere_are_read_without_unpickling(tmp_path):
    path = tmp_path / 'pickled.pth'
    torch.save({'state_dict': {'w': torch.ones(1)}, 'meta': _Pickled()}, path)
    assert list(read_weights(path, allow_pickle=True)) == ['w']
    assert list(read_state_dict(path)) == ['w']  # the tools' own checkpoints
    with pytest.raises(
        CheckpointError,
        match=f'checkpoint {path} cannot be loaded '
        r'\(UnpicklingError',
    ):
        read_weights(path)


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
