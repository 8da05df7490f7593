import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import get_file_backend
from mmengine.runner.checkpoint import save_checkpoint

from mmseg.models import SegTTAModel
from mmseg.registry import MODELS
from mmseg_fcn_skip.engine import AtomicLocalBackend, use_atomic_checkpoints, write_atomic
from mmseg_fcn_skip.utils.checkpoint import (CheckpointError, check_checkpoint_file,
                                             check_checkpoint_matches,
                                             find_resume_checkpoint, read_state_dict,
                                             resolve_resume, verify_checkpoint)

REPO = Path(__file__).resolve().parents[2]
#: Backbone outputs and their channels (base_channels=4, fc_channels=16) per variant.
VARIANTS = {
    '32s': ((5, ), (16, )),
    '16s': ((3, 5), (32, 16)),
    '8s': ((2, 3, 5), (16, 32, 16)),
}


def _model(variant='8s', num_classes=5):
    cfg = Config.fromfile(str(REPO / 'configs' / 'fcn8s_toy.py'))
    out_indices, channels = VARIANTS[variant]
    cfg.merge_from_dict(dict(model=dict(
        backbone=dict(base_channels=4, fc_channels=16, out_indices=out_indices),
        decode_head=dict(in_channels=channels, in_index=tuple(range(len(channels))),
                         num_classes=num_classes))))
    return MODELS.build(cfg.model)


@pytest.fixture(scope='module')
def fcn8s():
    return _model()


def _save(path, model_or_dict, **extra):
    state = (model_or_dict if isinstance(model_or_dict, dict) else
             model_or_dict.state_dict())
    torch.save(dict(state_dict=state, meta=dict(iter=1), **extra), path)
    return path


def _mismatch(model, state_dict):
    with pytest.raises(CheckpointError, match='checkpoint x.pth does not fit') as error:
        check_checkpoint_matches(model, state_dict, 'x.pth')
    return str(error.value)


# check_checkpoint_file / read_state_dict

def test_intact_checkpoints_pass(tmp_path, fcn8s):
    check_checkpoint_file(_save(tmp_path / 'ok.pth', fcn8s))
    legacy = tmp_path / 'legacy.pth'
    torch.save(dict(state_dict=fcn8s.state_dict()), legacy,
               _use_new_zipfile_serialization=False)
    check_checkpoint_file(legacy)
    assert read_state_dict(legacy).keys() == fcn8s.state_dict().keys()


@pytest.mark.parametrize('damage, problem', [
    (lambda data: b'', 'is empty (0 bytes)'),
    (lambda data: data[:len(data) // 2], 'is damaged'),
    (lambda data: data[:-30], 'is damaged'),
    (lambda data: data[:2000] + bytes([data[2000] ^ 1]) + data[2001:], 'is damaged'),
])
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
    with pytest.raises(CheckpointError, match=re.escape(
            f'{caffe} is not a PyTorch checkpoint')) as error:
        check_checkpoint_file(caffe)
    assert 'tools/model_converters/caffe_fcn2mmseg.py' in str(error.value)


def test_load_state_dict_unwraps_and_strips_the_ddp_prefix(tmp_path):
    weight = torch.ones(2)
    _save(tmp_path / 'ddp.pth', {'module.backbone.w': weight,
                                 'module.head.module.b': 2 * weight})
    state_dict = read_state_dict(tmp_path / 'ddp.pth')
    assert list(state_dict) == ['backbone.w', 'head.module.b']  # the leading one only
    assert torch.equal(state_dict['head.module.b'], 2 * weight)
    torch.save({'backbone.w': weight}, tmp_path / 'plain.pth')
    assert list(read_state_dict(tmp_path / 'plain.pth')) == ['backbone.w']
    torch.save([weight], tmp_path / 'list.pth')
    with pytest.raises(CheckpointError, match='holds no state dict.*found list'):
        read_state_dict(tmp_path / 'list.pth')


# check_checkpoint_matches

@pytest.mark.parametrize('wrap', [lambda m: m, lambda m: SegTTAModel(module=m)],
                         ids=['bare', 'tta'])
def test_wrapped_models_are_checked_as_the_segmentor_inside(fcn8s, wrap):
    """Exact weights pass; one tensor of another shape or one key less is named."""
    model, state_dict = wrap(fcn8s), fcn8s.state_dict()
    assert check_checkpoint_matches(model, state_dict, 'x.pth') is None
    wrong = dict(state_dict, **{'backbone.fc6.conv.bias': torch.zeros(3)})
    with pytest.raises(CheckpointError, match=re.escape(
            'Shapes that differ (checkpoint vs model): backbone.fc6.conv.bias (3,) vs '
            '(16,)')):
        check_checkpoint_matches(model, wrong, 'x.pth')
    partial = {k: v for k, v in state_dict.items() if k != 'decode_head.conv_seg.bias'}
    with pytest.raises(CheckpointError, match=re.escape(
            'Keys the checkpoint lacks: decode_head.conv_seg.bias')):
        check_checkpoint_matches(model, partial, 'x.pth')
    extra = dict(state_dict, **{'decode_head.extra': torch.zeros(1)})
    with pytest.raises(CheckpointError, match=re.escape(
            'Keys the model lacks: decode_head.extra')):
        check_checkpoint_matches(model, extra, 'x.pth')



def test_other_variant_is_named_with_keys_and_shapes(fcn8s):
    message = _mismatch(fcn8s, _model('16s').state_dict())
    assert 'checkpoint x.pth does not fit the model' in message
    assert 'is an FCN-16s (1 skip levels) but the config builds an FCN-8s (2)' in message
    assert 'decode_head.skip_scores.0.weight (5, 32, 1, 1) vs (5, 16, 1, 1)' in message
    assert 'Keys the checkpoint lacks: decode_head.skip_scores.1.bias' in message


def test_long_key_lists_show_six_and_count_the_rest(fcn8s):
    state_dict = fcn8s.state_dict()
    lacking = sorted(k for k in state_dict if k.startswith('backbone.blocks.'))[:10]
    message = _mismatch(fcn8s, {k: v for k, v in state_dict.items() if k not in lacking})
    assert f'Keys the checkpoint lacks: {", ".join(lacking[:6])} and 4 more' in message
    message = _mismatch(fcn8s, {k: v for k, v in state_dict.items()
                                if k not in lacking[:6]})
    assert message.endswith(f'Keys the checkpoint lacks: {", ".join(lacking[:6])}')


def test_other_class_count_is_named(fcn8s):

    message = _mismatch(fcn8s, _model(num_classes=21).state_dict())
    assert 'predicts 21 classes but the config has num_classes=5' in message
    assert "prefix='backbone.'" in message
    assert 'decode_head.conv_seg.weight (21, 16, 1, 1) vs (5, 16, 1, 1)' in message


@pytest.mark.parametrize('keys, converter', [
    (['features.0.weight', 'features.0.bias', 'classifier.0.weight'],
     'tools/model_converters/torchvision_vgg2mmseg.py'),
    (['conv1_1.weight', 'fc6.weight', 'score_fr.weight', 'upscore2.weight'],
     'tools/model_converters/caffe_fcn2mmseg.py'),
    (['conv1_1.weight', 'conv1_1.bias', 'fc7.weight'],
     'tools/model_converters/caffe_vgg2mmseg.py'),
])
def test_foreign_weights_point_to_their_converter(fcn8s, keys, converter):
    message = _mismatch(fcn8s, {key: torch.zeros(1) for key in keys})
    assert converter in message
    assert f'Keys the model lacks: {sorted(keys)[0]}' in message


def test_bare_backbone_weights_point_to_init_cfg(fcn8s):
    backbone = fcn8s.backbone.state_dict()
    message = _mismatch(fcn8s, backbone)
    assert 'holds backbone weights only' in message
    assert "init_cfg=dict(type='Pretrained', checkpoint='x.pth')" in message


def test_verify_checkpoint_checks_file_and_fit(tmp_path, fcn8s):
    verify_checkpoint(fcn8s, _save(tmp_path / 'ok.pth', fcn8s))
    with pytest.raises(CheckpointError, match='FCN-32s'):
        verify_checkpoint(fcn8s, _save(tmp_path / 'fcn32s.pth', _model('32s')))


# resuming

def _work_dir(tmp_path, steps, damaged=(), pointer=None):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    for step in steps:
        path = _save(work_dir / f'iter_{step}.pth', {'w': torch.full((64, ), step)})
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
        'iter_12.pth', 'iter_4.pth', 'iter_8.pth', 'last_checkpoint']


def test_resume_scans_when_last_checkpoint_is_empty(tmp_path):
    work_dir = _work_dir(tmp_path, [2, 10, 6], pointer='')
    assert find_resume_checkpoint(work_dir) == str(work_dir / 'iter_10.pth')


def test_resume_with_no_intact_checkpoint_says_so(tmp_path):
    work_dir = _work_dir(tmp_path, [4, 8], damaged=(4, 8))
    with pytest.raises(CheckpointError, match=re.escape(
            f'no usable checkpoint to resume from in {work_dir}')) as error:
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
    cfg = Config(dict(work_dir=str(work_dir), resume=True,
                      load_from=str(work_dir / 'iter_3.pth')))
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
    assert isinstance(get_file_backend(str(tmp_path), backend_args=backend_args),
                      AtomicLocalBackend)
    written = []
    monkeypatch.setattr('mmseg_fcn_skip.engine.atomic_io.write_atomic',
                        lambda data, path: written.append(path))
    save_checkpoint({'w': torch.ones(1)}, str(tmp_path / 'iter_1.pth'),
                    backend_args=backend_args)
    assert written == [tmp_path / 'iter_1.pth']


def test_other_storage_settings_are_left_alone():
    remote = Config(dict(default_hooks=dict(checkpoint=dict(
        type='CheckpointHook', backend_args=dict(backend='petrel')))))
    assert use_atomic_checkpoints(remote) is False
    assert remote.default_hooks.checkpoint.backend_args == dict(backend='petrel')
    assert use_atomic_checkpoints(Config(dict(default_hooks=dict()))) is False
