"""The built wheel alone: configs shipped in the package, inherited by a user's config.

The wheel is built from the checkout and installed into a fresh virtual environment
whose only view of the rest is a ``.pth`` line naming the site-packages of the running
environment (torch, mmseg, mmengine, mmcv; the plugin's own entry there, editable or
not, is a path-finder hook or folder that this line does not activate and that comes
after the fresh environment's own site-packages). From a folder outside the
repository, a user config inheriting ``mmseg_fcn_skip::fcn_skip/...`` trains two
iterations, is tested and its FLOPs counted, with the tools shipped in the package's
``.mim/tools``. The environment is built once for the folder (``wheel_env`` in conftest.py).
"""

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOY = 'fcn_skip/fcn8s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py'
USER_CONFIG = f"""_base_ = 'mmseg_fcn_skip::{TOY}'
data_root = 'toy'
model = dict(
    backbone=dict(base_channels=4, fc_channels=16),
    decode_head=dict(in_channels=(16, 32, 16)))
train_cfg = dict(max_iters=2, val_interval=2)
default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))
train_dataloader = dict(
    num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
val_dataloader = dict(
    num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
"""


def run(args, cwd, env=None):
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    return result.stdout


def test_the_wheel_ships_configs_tools_and_model_index(wheel_env):
    python, site, tmp = wheel_env
    package = site / 'mmseg_fcn_skip'
    assert (package / '.mim' / 'configs' / TOY).read_text() == (REPO / 'configs' / TOY).read_text()
    assert (package / '.mim' / 'model-index.yml').is_file()
    assert (package / '.mim' / 'tools' / 'train.py').is_file()
    assert not (package / '.mim' / 'tools' / 'dev').exists()
    assert not (package / '.mim' / 'tools' / 'experiments').exists()
    tools = package / '.mim' / 'tools'
    shipped_tools = {p.relative_to(tools).as_posix() for p in tools.rglob('*.py')}
    for tool in (
        'analysis_tools/benchmark.py',
        'analysis_tools/get_flops.py',
        'analysis_tools/analysis_lib/benchmark/flops.py',
        'analysis_tools/analysis_lib/grids.py',
        'deployment/export_onnx.py',
        'deployment/deploy_mmdeploy.py',
    ):
        assert tool in shipped_tools
    in_repo = {
        p.relative_to(REPO / 'tools' / 'analysis_tools').as_posix()
        for p in (REPO / 'tools' / 'analysis_tools').rglob('*.py')
    }
    assert {t for t in shipped_tools if t.startswith('analysis_tools/')} == {
        f'analysis_tools/{t}' for t in in_repo
    }
    # The package itself holds no tool-only code.
    assert not (package / 'benchmark').exists() and not (package / 'analysis').exists()
    shipped = {
        p.relative_to(package / '.mim' / 'configs').as_posix()
        for p in (package / '.mim' / 'configs').rglob('*.py')
    }
    in_repo = {p.relative_to(REPO / 'configs').as_posix() for p in (REPO / 'configs').rglob('*.py')}
    assert shipped == in_repo


def test_a_user_config_inherits_trains_and_tests_from_the_wheel(wheel_env):
    python, site, tmp = wheel_env
    work = tmp / 'user'
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['OMP_NUM_THREADS'] = '1'
    origin = (
        run(
            [python, '-c', 'import mmseg_fcn_skip; print(mmseg_fcn_skip.__file__)'],
            cwd=work,
            env=env,
        )
        .strip()
        .splitlines()[-1]
    )
    assert Path(origin).parent == site / 'mmseg_fcn_skip'
    run(
        [
            python,
            '-c',
            'from mmseg_fcn_skip.datasets import generate_toy_shapes; '
            'generate_toy_shapes("toy", num_train=4, num_val=2)',
        ],
        cwd=work,
        env=env,
    )
    (work / 'my_fcn.py').write_text(USER_CONFIG)
    tools = site / 'mmseg_fcn_skip' / '.mim' / 'tools'
    run([python, tools / 'train.py', 'my_fcn.py', '--work-dir', 'w'], cwd=work, env=env)
    checkpoint = work / 'w' / 'iter_2.pth'
    assert checkpoint.is_file()
    out = run(
        [python, tools / 'test.py', 'my_fcn.py', checkpoint, '--work-dir', 'w'], cwd=work, env=env
    )
    assert 'mIoU' in out
    # A shipped analysis tool finds its analysis_lib beside it.
    out = run(
        [python, tools / 'analysis_tools' / 'get_flops.py', 'my_fcn.py', '--shape', '64'],
        cwd=work,
        env=env,
    )
    assert 'Input shape: 3 x 64 x 64' in out and '1 multiply-add = 2 FLOPs' in out
    # The saved config is the user's, merged with the shipped base.
    dumped = (work / 'w' / 'my_fcn.py').read_text()
    assert 'base_channels=4' in dumped and 'ToyShapesDataset' in dumped
