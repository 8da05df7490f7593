"""SIFT Flow end to end with the tools: a tiny synthetic SiftFlowDataset.zip through
tools/dataset_converters/siftflow.py, tools/train.py (2 iterations of a light FCN-32s of
the Caffe-exact config), tools/test.py (both tasks' scores and tables) and
tools/infer.py (both tasks' label PNGs)."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.helpers import REPO
from tests.helpers.siftflow_release import SHAPE, TEST, write_release, zip_release

CONFIG = REPO / 'configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_siftflow-256x256.py'


def run_tool(*args):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """The converted dataset and a light config of the FCN-32s SIFT Flow config on it."""
    root = tmp_path_factory.mktemp('siftflow')
    write_release(root)
    zip_path = zip_release(root, root / 'SiftFlowDataset.zip')
    data = root / 'data'
    run_tool('tools/dataset_converters/siftflow.py', zip_path, '--out-dir', data)
    loaders = ''.join(
        f'{loader} = dict(num_workers=0, persistent_workers=False, '
        f'dataset=dict(data_root={str(data)!r}))\n'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    )
    config = root / 'siftflow_light.py'
    config.write_text(
        f'_base_ = {str(CONFIG)!r}\n'
        'model = dict(\n'
        '    data_preprocessor=dict(size=None, size_divisor=1),\n'
        '    backbone=dict(base_channels=4, fc_channels=8, init_cfg=None),\n'
        '    decode_head=dict(in_channels=(8,)),\n'
        '    task_heads=dict(geo=dict(in_channels=(8,))),\n'
        ')\n'
        'train_cfg = dict(max_iters=2, val_interval=2)\n'
        'default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))\n' + loaders
    )
    return root, data, config


def test_train_logs_both_losses_and_test_prints_both_tasks(run):
    root, _, config = run
    work_dir = root / 'work'
    out = run_tool('tools/train.py', config, '--work-dir', work_dir)
    assert 'decode.loss_ce' in out and 'geo.loss_ce' in out
    out = run_tool('tools/test.py', config, work_dir / 'iter_2.pth', '--work-dir', work_dir)
    assert 'left out of the means: cow, desert, moon' in out
    assert 'task geo:' in out
    for name in ('aAcc', 'mIoU', 'geo/aAcc', 'geo/mIoU', 'geo/fwIoU'):
        assert re.search(rf'(^|\s){re.escape(name)}: [\d.]+', out), name
    assert re.search(r'\|\s+horizontal\s+\|', out) and re.search(r'\|\s+crosswalk\s+\|', out)


def test_infer_writes_every_task_label_png(run):
    root, data, config = run
    work_dir = root / 'work'
    checkpoint = work_dir / 'iter_2.pth'
    if not checkpoint.is_file():
        run_tool('tools/train.py', config, '--work-dir', work_dir)
    out_dir = root / 'infer'
    run_tool(
        'tools/infer.py', config, checkpoint, data / 'images', '--out', out_dir, '--device', 'cpu'
    )
    for name in TEST:
        semantic = np.array(Image.open(out_dir / 'pred' / f'{name}.png'))
        geometric = Image.open(out_dir / 'pred_geo' / f'{name}.png')
        assert semantic.shape == SHAPE and semantic.max() < 33
        assert geometric.mode == 'P' and np.array(geometric).shape == SHAPE
        assert np.array(geometric).max() < 3
        assert geometric.getpalette()[:3] == [70, 130, 180]  # the geometric palette's sky
