"""The commands pip puts on PATH, from the wheel, outside any checkout.

docs/installation.md marks the blocks run here with ``<!-- pip-test: KIND -->``:
``run`` (the first run: toy data, copy of a shipped config, train, test, infer),
``python`` (``init_model`` and ``MMSegInferencer`` on a config with a
``mmseg_fcn_skip::`` base) and ``mmseg-tools`` (a merged copy for mmseg's own
tools). They run as written, in the fresh environment of ``wheel_env`` with its
``bin`` first on PATH, from an empty folder.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = None

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / 'docs' / 'installation.md'
BLOCK = re.compile(r'<!-- pip-test: ([\w-]+) -->\n```\w*\n(.*?)\n```', re.S)
#: Messages of the dependencies the commands hide (docs/installation.md, "Commands").
NOISE = ('Could not import OneDL', 'MultiScaleDeformableAttention', 'avg_non_ignore')


def page_block(kind: str) -> str:
    blocks = [text for marker, text in BLOCK.findall(PAGE.read_text()) if marker == kind]
    assert len(blocks) == 1, f'docs/installation.md needs one block marked pip-test: {kind}'
    return blocks[0]


def user_env(python: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['PATH'] = f'{python.parent}{os.pathsep}{env["PATH"]}'
    env['OMP_NUM_THREADS'] = '1'
    return env


def run(command, cwd: Path, env: dict, status: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == status, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def scripts() -> list:
    if tomllib is None:
        pytest.skip('tomllib needs Python 3.11')
    return sorted(tomllib.loads((REPO / 'pyproject.toml').read_text())['project']['scripts'])


@pytest.fixture(scope='module')
def first_run(wheel_env):
    """The page's first run, line by line, in an empty folder."""
    python, _, tmp = wheel_env
    folder = tmp / 'first_run'
    folder.mkdir()
    env = user_env(python)
    outputs = []
    for line in page_block('run').splitlines():
        assert line.startswith('fcn-'), line
        result = run(shlex.split(line), folder, env)
        outputs.append(result.stdout + result.stderr)
    return folder, env, outputs


def test_every_command_is_installed_and_explains_itself(wheel_env):
    python, _, _ = wheel_env
    names = scripts()
    assert {'fcn-train', 'fcn-test', 'fcn-infer', 'fcn-config'} <= set(names)
    env = user_env(python)
    running = {
        name: subprocess.Popen(
            [str(python.parent / name), '--help'],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name in names
    }
    for name, process in running.items():
        output, _ = process.communicate(timeout=600)
        assert process.returncode == 0, output[-2000:]
        assert output.startswith(f'usage: {name} '), output[:500]
        assert not any(noise in output for noise in NOISE), output


def test_the_first_run_trains_tests_and_infers_quietly(first_run):
    folder, _, outputs = first_run
    make, copy, train, test, infer = outputs
    assert 'Wrote 8 train and 4 val images to data/toy_shapes' in make
    assert copy.startswith('wrote my_fcn.py (from mmseg_fcn_skip::fcn8s_toy.py)')
    assert "_base_ = 'mmseg_fcn_skip::fcn_skip/" in (folder / 'my_fcn.py').read_text()
    assert (folder / 'work_dirs' / 'my_fcn' / 'iter_2.pth').is_file()
    assert 'Saving checkpoint at 2 iterations' in train
    assert 'mIoU' in test
    assert '4 images written to outputs' in infer
    assert len(list((folder / 'outputs' / 'pred').glob('*.png'))) == 4
    for output in outputs:
        assert not any(noise in output for noise in NOISE), output[-3000:]


def test_init_model_and_the_inferencer_take_the_config_after_the_import(first_run, wheel_env):
    folder, env, _ = first_run
    python, _, _ = wheel_env
    block = page_block('python')
    check = '\nprint(type(model.decode_head).__name__)\n'
    result = run([str(python), '-c', block + check], folder, env)
    assert result.stdout.strip().splitlines()[-1] == 'FCNSkipHead'
    # Without the import the base is not found, as the page says.
    without = block.replace('import mmseg_fcn_skip', '# import mmseg_fcn_skip', 1)
    failed = run([str(python), '-c', without], folder, env, status=1)
    assert (
        'AssertionError: mmengine does not support to load mmseg_fcn_skip config' in failed.stderr
    )


def test_mmsegs_own_train_reads_the_merged_copy(first_run, wheel_env):
    folder, env, _ = first_run
    python, _, _ = wheel_env
    merge, train = page_block('mmseg-tools').splitlines()
    assert merge.startswith('fcn-config copy --merged')
    run(shlex.split(merge), folder, env)
    assert 'mmseg_fcn_skip::' not in (folder / 'my_fcn_merged.py').read_text()
    mmseg_tools = (
        run(
            [str(python), '-c', 'import mmseg, os; print(os.path.dirname(mmseg.__file__))'],
            folder,
            env,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    command = shlex.split(train.split('#')[0])
    assert command[:2] == ['python', 'mmsegmentation/tools/train.py']
    light = [
        'train_cfg.max_iters=1',
        'train_cfg.val_interval=1',
        'default_hooks.checkpoint.interval=1',
    ]
    mmseg_train = os.path.join(mmseg_tools, '.mim', 'tools', 'train.py')
    run(
        [
            str(python),
            mmseg_train,
            *command[2:],
            '--work-dir',
            'mmseg_run',
            '--cfg-options',
            *light,
        ],
        folder,
        env,
    )
    assert (folder / 'mmseg_run' / 'iter_1.pth').is_file()
    # The copy with mmseg_fcn_skip:: bases fails there, as the page says.
    failed = run([str(python), mmseg_train, 'my_fcn.py'], folder, env, status=1)
    assert 'mmengine does not support to load mmseg_fcn_skip config' in failed.stderr
