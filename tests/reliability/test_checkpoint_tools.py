"""tools/test.py and tools/train.py refuse checkpoints that do not fit, and say why."""

import sys

import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from tests.helpers import REPO
from tests.helpers.light_models import TINY_CONFIG
from tests.helpers.processes import run
from tests.helpers.training_runs import data_options, make_toy_data, train_command


def _checkpoint(path, **model_overrides):
    cfg = Config.fromfile(str(TINY_CONFIG))
    cfg.merge_from_dict(model_overrides)
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict(), meta=dict()), path)
    return path


def test_test_tool_rejects_an_fcn16s_checkpoint_for_an_fcn8s_config(tmp_path):
    checkpoint = _checkpoint(
        tmp_path / 'fcn16s.pth',
        **{
            'model.backbone.out_indices': (3, 5),
            'model.decode_head.in_channels': (32, 16),
            'model.decode_head.in_index': (0, 1),
        },
    )
    data_root = make_toy_data(tmp_path / 'data', num_train=1, num_val=1)
    result = run(
        [
            sys.executable,
            str(REPO / 'tools' / 'test.py'),
            str(TINY_CONFIG),
            str(checkpoint),
            '--work-dir',
            str(tmp_path / 'work'),
            '--cfg-options',
            *data_options(data_root),
        ]
    )
    assert result.returncode != 0
    error = result.stderr
    assert f'CheckpointError: checkpoint {checkpoint} does not fit the model' in error
    assert 'is an FCN-16s (1 skip levels) but the config builds an FCN-8s' in error
    assert 'Iter(test)' not in result.stdout


def test_train_tool_rejects_a_load_from_of_another_backbone(tmp_path):
    """Another class count is fine-tuning (tests/tools/test_load_from.py); another
    backbone width is a mistake, refused before the first iteration."""
    checkpoint = _checkpoint(
        tmp_path / 'wide.pth',
        **{
            'model.backbone.base_channels': 8,
            'model.decode_head.in_channels': (32, 64, 16),
            'model.decode_head.num_classes': 21,
        },
    )
    data_root = make_toy_data(tmp_path / 'data', num_train=2, num_val=1)
    result = run(
        train_command(tmp_path / 'work', data_options(data_root) + [f'load_from={checkpoint}'])
    )
    assert result.returncode != 0
    assert f'CheckpointError: checkpoint {checkpoint} does not fit the model' in result.stderr
    assert "Its backbone is not the config's (another depth or width)" in result.stderr
    assert 'Iter(train)' not in result.stdout
