"""tools/infer.py under load: a killed folder run restarts where it stopped, and
memory stays flat over many images of mixed sizes (tools/experiments/check_infer_memory.py)."""

import importlib.util
import signal
import subprocess
import sys
import time

import cv2

from tests.helpers import REPO
from tests.helpers.processes import subprocess_env

CHECK_SCRIPT = REPO / 'tools' / 'experiments' / 'check_infer_memory.py'
NUM_IMAGES = 60


def _check_module():
    spec = importlib.util.spec_from_file_location('check_infer_memory', CHECK_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _complete(out_dir):
    """Names of the images whose label map and overlay both exist."""
    return {
        p.name for p in (out_dir / 'pred').glob('*.png') if (out_dir / 'vis' / p.name).is_file()
    }


def _identity(out_dir, names):
    """(inode, mtime) of both outputs of each image: changes if a file is rewritten."""
    return {
        (kind, name): (
            (out_dir / kind / name).stat().st_ino,
            (out_dir / kind / name).stat().st_mtime_ns,
        )
        for kind in ('pred', 'vis')
        for name in names
    }


def _kill_when(process, out_dir, done):
    while process.poll() is None:
        if len(_complete(out_dir)) >= done:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    return process.wait()


def test_killed_folder_run_restarts_and_skips_what_is_done(tmp_path):
    check = _check_module()
    images, out_dir = tmp_path / 'images', tmp_path / 'out'
    check.make_images(images, NUM_IMAGES, num_sizes=6, seed=0)
    config, checkpoint = check.make_model(tmp_path)
    command = [
        sys.executable,
        str(REPO / 'tools' / 'infer.py'),
        str(config),
        str(checkpoint),
        str(images),
        '--out',
        str(out_dir),
        '--device',
        'cpu',
    ]

    first = subprocess.Popen(
        command, env=subprocess_env(threads=1), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    assert _kill_when(first, out_dir, done=10) == -signal.SIGKILL
    done = _complete(out_dir)
    assert 10 <= len(done) < NUM_IMAGES
    kept = _identity(out_dir, done)

    second = subprocess.run(
        command, env=subprocess_env(threads=1), capture_output=True, text=True, timeout=240
    )
    assert second.returncode == 0, second.stderr[-3000:]
    assert (
        f'{NUM_IMAGES - len(done)} images written to {out_dir}, '
        f'{len(done)} skipped (outputs exist), 0 failed'
    ) in second.stdout
    names = {p.name for p in images.iterdir()}
    assert _complete(out_dir) == names
    assert _identity(out_dir, done) == kept  # the first run's outputs were not rewritten
    for kind in ('pred', 'vis'):
        for name in names:
            assert cv2.imread(str(out_dir / kind / name)) is not None, (kind, name)


def test_memory_stays_flat_over_many_mixed_size_images(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(CHECK_SCRIPT),
            '--num-images',
            '120',
            '--num-sizes',
            '12',
            '--interval',
            '0.2',
            '--max-growth-mb',
            '20',
            '--work-dir',
            str(tmp_path),
        ],
        env=subprocess_env(threads=1),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'exit status 0, 30/30 label maps' in result.stdout
    assert 'exit status 0, 120/120 label maps' in result.stdout
    assert 'peak RSS growth from 30 to 120 images' in result.stdout
