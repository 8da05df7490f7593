"""The plugin built as a wheel and installed into a fresh virtual environment, once.

The environment's only view of the rest is a ``.pth`` line naming the site-packages of
the running environment (torch, mmseg, mmengine, mmcv; the plugin's own entry there,
editable or not, is a path-finder hook or folder that this line does not activate and
that comes after the fresh environment's own site-packages). pip installs the wheel's
console scripts (``fcn-train`` ...) into the environment's ``bin``.
"""

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: What a build must not see: environments, build outputs, data, runs.
NOT_SOURCE = (
    '.git',
    '.venv',
    'build',
    'dist',
    '*.egg-info',
    '__pycache__',
    '.pytest_cache',
    'data',
    'work_dirs',
    '.whl',
)


def _run(args, cwd):
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert result.returncode == 0, result.stdout[-4000:]
    return result.stdout


@pytest.fixture(scope='session')
def wheel_env(tmp_path_factory):
    """``(python, site-packages, folder)`` of a fresh environment with the wheel only."""
    tmp = tmp_path_factory.mktemp('wheel')
    # Built from a copy: setuptools reuses a build/ folder it finds in the source tree,
    # whose stale files would reach the wheel.
    source = tmp / 'source'
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    _run(
        [
            sys.executable,
            '-m',
            'pip',
            'wheel',
            '--no-deps',
            '--no-build-isolation',
            '--quiet',
            '-w',
            tmp / 'dist',
            source,
        ],
        cwd=tmp,
    )
    wheels = list((tmp / 'dist').glob('mmseg_fcn_skip-*.whl'))
    assert len(wheels) == 1, wheels
    venv = tmp / 'venv'
    _run([sys.executable, '-m', 'venv', '--without-pip', venv], cwd=tmp)
    python = venv / 'bin' / 'python'
    site = Path(
        _run(
            [python, '-c', 'import sysconfig; print(sysconfig.get_path("purelib"))'], cwd=tmp
        ).strip()
    )
    (site / 'outer_site_packages.pth').write_text(sysconfig.get_path('purelib') + '\n')
    _run(
        [
            sys.executable,
            '-m',
            'pip',
            '--python',
            python,
            'install',
            '--no-deps',
            '--no-index',
            '--quiet',
            wheels[0],
        ],
        cwd=tmp,
    )
    return python, site, tmp
