"""tools/deployment/deploy_mmdeploy.py: mmdeploy's deploy.py runs with the TorchScript exporter,
in its own process and in the processes it spawns.

A stand-in deploy.py does what mmdeploy's does to the exporter: its ``main()`` parses
its arguments, sets the spawn start method and calls ``torch.onnx.export`` in a child
process. The real mmdeploy runs in tests/apis/test_export_mmdeploy.py where installed.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime

REPO = Path(__file__).resolve().parents[3]
STAND_IN = """
import argparse
import multiprocessing as mp
import sys

import torch


def export(path):
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        torch.onnx.export(torch.nn.Conv2d(3, 2, 3), (torch.randn(1, 3, 8, 8), ), path,
                          input_names=['x'], dynamic_axes={'x': {2: 'h', 3: 'w'}})
    legacy = any('legacy TorchScript-based' in str(w.message) for w in caught)
    print('child exporter:', 'torchscript' if legacy else 'dynamo', flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('out')
    args = parser.parse_args()
    mp.set_start_method('spawn', force=True)
    child = mp.Process(target=export, args=(args.out, ))
    child.start()
    child.join()
    sys.exit(child.exitcode)
"""


def run(*args, cwd):
    return subprocess.run(
        [
            sys.executable,
            str(REPO / 'tools' / 'deployment' / 'deploy_mmdeploy.py'),
            *map(str, args),
        ],
        cwd=cwd,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_deploy_script_exports_with_torchscript_in_its_spawned_child(tmp_path):
    (tmp_path / 'deploy.py').write_text(STAND_IN)
    done = run(tmp_path / 'deploy.py', tmp_path / 'conv.onnx', cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert 'child exporter: torchscript' in done.stdout
    session = onnxruntime.InferenceSession(
        str(tmp_path / 'conv.onnx'), providers=['CPUExecutionProvider']
    )
    out = session.run(None, {'x': np.zeros((1, 3, 20, 9), np.float32)})[0]
    assert out.shape == (1, 2, 18, 7)  # height and width stayed dynamic


def test_a_missing_deploy_script_names_the_fix(tmp_path):
    done = run(tmp_path / 'nowhere' / 'deploy.py', 'x', cwd=tmp_path)
    assert done.returncode != 0
    assert 'give the path of tools/deploy.py from mmdeploy' in done.stdout


#: A stand-in deploy.py whose ``parse_args()`` takes mmdeploy's positional arguments.
PARSING_STAND_IN = """
import argparse


def parse_args():
    parser = argparse.ArgumentParser()
    for name in ('deploy_cfg', 'model_cfg', 'checkpoint', 'img'):
        parser.add_argument(name)
    parser.add_argument('--work-dir')
    return parser.parse_args()


def main():
    print('deploy main ran with', parse_args().model_cfg, flush=True)
"""
CONFIGS = REPO / 'configs' / 'fcn_skip_caffe'


def test_a_multi_task_model_stops_before_mmdeploy_runs_naming_the_limitation(tmp_path):
    (tmp_path / 'deploy.py').write_text(PARSING_STAND_IN)
    config = CONFIGS / 'fcn16s_vgg16-caffe_1xb1-100k_siftflow-256x256.py'
    done = run(
        tmp_path / 'deploy.py',
        'deploy_cfg.py',
        config,
        'w.pth',
        'a.png',
        '--work-dir',
        'out',
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout[-3000:]
    assert 'deploy main ran' not in done.stdout
    error = done.stdout.strip().splitlines()[-1]
    assert error == (
        f'error: {config} builds a MultiTaskEncoderDecoder with 2 tasks (decode, geo); '
        'mmdeploy 1.3.1 exports a segmentor with one output and its export stops on a '
        'multi-task one (its rewrite of EncoderDecoder.predict does not reach this '
        "segmentor's predict). Export every task with tools/deployment/export_onnx.py "
        'CONFIG CHECKPOINT OUT.onnx (outputs logits, geo_logits)'
    )


def test_a_single_task_model_goes_on_to_mmdeploy(tmp_path):
    (tmp_path / 'deploy.py').write_text(PARSING_STAND_IN)
    config = CONFIGS / 'fcn16s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py'
    done = run(tmp_path / 'deploy.py', 'deploy_cfg.py', config, 'w.pth', 'a.png', cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert f'deploy main ran with {config}' in done.stdout
