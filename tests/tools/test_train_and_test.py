"""tools/train.py, tools/test.py and --resume through mmengine's Runner, for real."""

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import DictAction
from PIL import Image

from mmseg_fcn_skip.apis import build_inference_pipeline, load_model, predict_labels
from mmseg_fcn_skip.apis.inference import read_image
from tests.helpers.processes import free_port
from tests.helpers.scores_by_hand import scores

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / 'configs' / 'fcn8s_toy.py')


def run_tool(*args: str, nproc: int = 1) -> subprocess.CompletedProcess:
    if nproc == 1:
        command = [sys.executable, *args]
    else:
        command = [
            sys.executable,
            '-m',
            'torch.distributed.run',
            '--nproc_per_node',
            str(nproc),
            '--master_port',
            '29517',
            *args,
            '--launcher',
            'pytorch',
        ]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def scalars(work_dir: Path) -> list:
    lines = []
    for path in sorted(work_dir.glob('*/vis_data/scalars.json')):
        lines += [json.loads(line) for line in path.read_text().splitlines()]
    return lines


@pytest.fixture(scope='module')
def trained(tmp_path_factory, light_toy_options):
    work_dir = tmp_path_factory.mktemp('train')
    run_tool(
        'tools/train.py',
        CONFIG,
        '--work-dir',
        str(work_dir),
        '--cfg-options',
        *light_toy_options(4),
    )
    return work_dir


def test_train_saves_checkpoints_and_validates(trained):
    assert (trained / 'iter_2.pth').is_file() and (trained / 'iter_4.pth').is_file()
    logged = scalars(trained)
    assert [entry['step'] for entry in logged if 'loss' in entry] == [1, 2, 3, 4]
    assert sum('mIoU' in entry for entry in logged) == 2


def test_test_tool_reports_miou_and_draws_predictions(trained, light_toy_options, toy_data_root):
    result = run_tool(
        'tools/test.py',
        CONFIG,
        str(trained / 'iter_4.pth'),
        '--work-dir',
        str(trained / 'test'),
        '--show-dir',
        'vis',
        '--cfg-options',
        *light_toy_options(),
    )
    # The mIoU it prints is that of the checkpoint's predictions, scored by hand.
    printed = re.search(r'Iter\(test\).*mIoU: ([\d.]+)', result.stdout + result.stderr)
    parser = argparse.ArgumentParser()
    parser.add_argument('--options', nargs='+', action=DictAction)
    options = parser.parse_args(['--options', *light_toy_options()]).options
    model = load_model(CONFIG, trained / 'iter_4.pth', cfg_options=options)
    pipeline = build_inference_pipeline(model.cfg)
    counts = np.zeros((5, 5), np.int64)
    for label_path in sorted(Path(toy_data_root, 'ann_dir', 'val').glob('*.png')):
        image = read_image(Path(toy_data_root, 'img_dir', 'val', label_path.name))
        truth = np.array(Image.open(label_path)).astype(np.int64).ravel()
        prediction = predict_labels(model, pipeline, [image])[0].ravel()
        valid = truth != 255
        counts += np.bincount(5 * truth[valid] + prediction[valid], minlength=25).reshape(5, 5)
    assert float(printed.group(1)) == pytest.approx(scores(counts)['mIoU'], abs=0.01)

    # One drawing per validation image, named test_<image>_<step>.png on both stacks.
    drawn = sorted(
        path.name.rsplit('_', 1)[0] for path in (trained / 'test').rglob('vis_image/*.png')
    )
    images = sorted(Path(toy_data_root, 'img_dir', 'val').glob('*.png'))
    assert len(images) == 4 and drawn == [f'test_{path.name}' for path in images]


def test_resume_continues_from_the_last_checkpoint(trained, light_toy_options):
    options = light_toy_options(4) + ['train_cfg.max_iters=6']
    result = run_tool(
        'tools/train.py', CONFIG, '--work-dir', str(trained), '--resume', '--cfg-options', *options
    )
    assert 'resumed' in (result.stdout + result.stderr).lower()
    steps = [entry['step'] for entry in scalars(trained) if 'loss' in entry]
    assert steps[-2:] == [5, 6] and (trained / 'iter_6.pth').is_file()


def test_two_process_gloo_training_with_the_pytorch_launcher(tmp_path, light_toy_options):
    result = run_tool(
        'tools/train.py',
        CONFIG,
        '--work-dir',
        str(tmp_path),
        '--cfg-options',
        *light_toy_options(2),
        nproc=2,
    )
    log = result.stdout + result.stderr
    assert 'Distributed training: True' in log and 'GPU number: 2' in log
    assert "model_wrapper_cfg = dict(device_ids=None, type='MMDistributedDataParallel')" in log
    assert (tmp_path / 'iter_2.pth').is_file()


# Runs a tool as a script in one process started as rank 0 of 1, then prints whether
# the process group outlived it (a live gloo group can abort the process at exit).
GROUP_AFTER_MAIN = """
import runpy, sys
import torch.distributed as dist
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
print('process group alive after main:', dist.is_initialized())
"""


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_tools_destroy_the_process_group_they_ran_in(tool, trained, light_toy_options, tmp_path):
    args = [f'tools/{tool}.py', CONFIG]
    if tool == 'test':
        args.append(str(trained / 'iter_4.pth'))
    args += [
        '--work-dir',
        str(tmp_path),
        '--launcher',
        'pytorch',
        '--cfg-options',
        *light_toy_options(2),
    ]
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        RANK='0',
        LOCAL_RANK='0',
        WORLD_SIZE='1',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(free_port()),
    )
    result = subprocess.run(
        [sys.executable, '-c', GROUP_AFTER_MAIN, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'Distributed training: True' in result.stdout + result.stderr
    assert 'process group alive after main: False' in result.stdout
