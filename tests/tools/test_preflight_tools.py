"""tools/train.py and tools/test.py stop on each config mistake with one line, status 2.

Each case runs the tool as a user would, on the toy dataset, and compares what it
writes on stderr with the exact line; nothing is built, so each takes the time of the
imports only.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / 'configs' / 'fcn8s_toy.py')
TOY_CLASSES = 'background, disc, box, triangle, bar'
MMSEG_TRAIN = Path(__import__('mmseg').__file__).parent / '.mim' / 'tools' / 'train.py'


def run(*args) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def toy_options(root: str, *extra: str) -> list:
    options = [
        f'{loader}_dataloader.dataset.data_root={root}' for loader in ('train', 'val', 'test')
    ]
    return ['--cfg-options', *options, *extra]


def assert_stopped_with(result: subprocess.CompletedProcess, line: str) -> None:
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stderr == f'error: {line}\n'
    assert 'Traceback' not in result.stdout


def test_train_with_too_few_classes(toy_data_root, tmp_path):
    result = run(
        'tools/train.py',
        CONFIG,
        '--work-dir',
        tmp_path,
        *toy_options(toy_data_root, 'model.decode_head.num_classes=4'),
    )
    assert_stopped_with(
        result,
        'model.decode_head.num_classes is 4 but train_dataloader.dataset (ToyShapesDataset) '
        f'has 5 classes ({TOY_CLASSES}): labels above it would stop training with "Target '
        'out of bounds"; set model.decode_head.num_classes=5 in the config (or --cfg-options '
        'model.decode_head.num_classes=5)',
    )
    assert not any(tmp_path.iterdir())  # stopped before the runner made its folders


def test_train_with_too_many_classes(toy_data_root, tmp_path):
    result = run(
        'tools/train.py',
        CONFIG,
        '--work-dir',
        tmp_path,
        *toy_options(toy_data_root, 'model.decode_head.num_classes=6'),
    )
    assert_stopped_with(
        result,
        'model.decode_head.num_classes is 6 but train_dataloader.dataset (ToyShapesDataset) '
        f'has 5 classes ({TOY_CLASSES}): its extra score maps would be trained on no pixel; '
        'set model.decode_head.num_classes=5 in the config (or --cfg-options '
        'model.decode_head.num_classes=5)',
    )


def test_train_with_a_wrong_data_root(toy_data_root, tmp_path):
    missing = tmp_path / 'data' / 'toy_shape'
    result = run(
        'tools/train.py',
        CONFIG,
        '--work-dir',
        tmp_path / 'w',
        '--cfg-options',
        f'train_dataloader.dataset.data_root={missing}',
        f'val_dataloader.dataset.data_root={toy_data_root}',
    )
    assert_stopped_with(
        result,
        f"train_dataloader.dataset.data_root '{missing}' is not a folder; set data_root in "
        'the config (or --cfg-options train_dataloader.dataset.data_root=PATH)',
    )


def test_train_with_a_misspelled_split(toy_data_root, tmp_path):
    result = run(
        'tools/train.py',
        CONFIG,
        '--work-dir',
        tmp_path,
        *toy_options(toy_data_root, 'val_dataloader.dataset.data_prefix.img_path=img_dir/vall'),
    )
    assert_stopped_with(
        result,
        f'val_dataloader.dataset.data_prefix.img_path: the folder {toy_data_root}/img_dir/vall '
        'does not exist; set data_root in the config (or --cfg-options '
        'val_dataloader.dataset.data_root=PATH) or val_dataloader.dataset.data_prefix.img_path '
        'to the folder of the split',
    )


def test_train_with_a_misspelled_weights_name(toy_data_root, tmp_path):
    result = run(
        'tools/train.py',
        CONFIG,
        '--work-dir',
        tmp_path,
        *toy_options(toy_data_root, 'load_from=fcn8s-heavy-pascall'),
    )
    assert_stopped_with(
        result,
        "load_from 'fcn8s-heavy-pascall' is neither a checkpoint file nor a name of published "
        "weights (did you mean 'fcn8s-heavy-pascal' or 'fcn32s-heavy-pascal'?); give the path "
        'of a checkpoint, a name of docs/weights.md or an http(s) URL',
    )


def test_test_with_a_truncated_checkpoint(toy_data_root, tmp_path):
    checkpoint = tmp_path / 'iter_2.pth'
    torch.save({'state_dict': {'w': torch.zeros(4096)}, 'meta': {}}, checkpoint)
    checkpoint.write_bytes(checkpoint.read_bytes()[:3000])
    result = run('tools/test.py', CONFIG, checkpoint, *toy_options(toy_data_root))
    assert_stopped_with(
        result,
        f'checkpoint {checkpoint} is damaged (File is not a zip file): it was probably cut off '
        'while being written, or corrupted on disk; use an earlier checkpoint',
    )


def test_test_with_a_misspelled_checkpoint_path(toy_data_root, tmp_path):
    torch.save({'state_dict': {}}, tmp_path / 'iter_40000.pth')
    given = tmp_path / 'iter_4000.pth'
    result = run('tools/test.py', CONFIG, given, *toy_options(toy_data_root))
    assert_stopped_with(
        result,
        f"checkpoint {given} does not exist (did you mean '{tmp_path}/iter_40000.pth'?); check "
        'the path, or give a name of published weights (docs/weights.md) or an http(s) URL',
    )


def test_test_with_a_misspelled_weights_name(toy_data_root):
    result = run('tools/test.py', CONFIG, 'fcn8s-heavy-pascall', *toy_options(toy_data_root))
    assert_stopped_with(
        result,
        "checkpoint 'fcn8s-heavy-pascall' is neither a checkpoint file nor a name of published "
        "weights (did you mean 'fcn8s-heavy-pascal' or 'fcn32s-heavy-pascal'?); give the path "
        'of a checkpoint, a name of docs/weights.md or an http(s) URL',
    )


def test_infer_with_a_misspelled_weights_name(toy_data_root, tmp_path):
    result = run(
        'tools/infer.py',
        CONFIG,
        'fcn8s-heavy-pascall',
        f'{toy_data_root}/img_dir/val',
        '--out',
        tmp_path / 'out',
    )
    assert_stopped_with(
        result,
        "checkpoint 'fcn8s-heavy-pascall' is neither a checkpoint file nor a name of published "
        "weights (did you mean 'fcn8s-heavy-pascal' or 'fcn32s-heavy-pascal'?); give the path "
        'of a checkpoint, a name of docs/weights.md or an http(s) URL',
    )
    assert not (tmp_path / 'out').exists()


@pytest.mark.skipif(not MMSEG_TRAIN.is_file(), reason="mmseg's tools are not installed")
def test_the_hook_stops_mmsegs_own_train_before_the_first_iteration(toy_data_root, tmp_path):
    # The one line docs/custom_dataset.md gives, in a config of the user's.
    config = tmp_path / 'my_config.py'
    config.write_text(
        f"_base_ = '{CONFIG}'\n"
        "custom_hooks = [dict(type='NonFiniteLossHook'), dict(type='IterationSeedHook'), "
        "dict(type='NumClassesCheckHook')]\n"
    )
    result = run(
        MMSEG_TRAIN,
        config,
        '--work-dir',
        tmp_path / 'w',
        *toy_options(
            toy_data_root,
            'model.decode_head.num_classes=4',
            'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0',
            'val_dataloader.persistent_workers=False',
        ),
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('ValueError: model.decode_head.num_classes is 4 but')
    assert 'out of bounds' not in result.stderr.replace('"Target out of bounds"', '')
