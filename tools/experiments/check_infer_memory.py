"""Check that tools/infer.py keeps its memory flat over many images of mixed sizes.

Usage: ``python tools/experiments/check_infer_memory.py [--num-images 1000] [--num-sizes 50]
[--work-dir DIR]``.

Writes random images in ``--num-sizes`` different sizes (16..160 px a side, every
tenth size 8 px thin and 300 px long), a randomly initialised light FCN-8s (the toy
config at a quarter of its width) and its checkpoint. Then it runs ``tools/infer.py``
twice in a subprocess: on a quarter of the images and on all of them. Every
``--interval`` seconds it reads the subprocess's resident memory (``VmRSS`` in
``/proc/<pid>/status``) and counts the label maps written so far.

PyTorch's CPU kernels keep per-shape caches (oneDNN's primitive cache holds up to
1024 entries, see ``ONEDNN_PRIMITIVE_CACHE_CAPACITY``), so memory rises with every
new input size until the caches are full. Both runs see every size, so they warm the
same caches; a leak per image would raise the peak of the long run by three quarters
of the images' worth. The script exits with status 1 if an output is missing,
infer.py failed, or the long run's peak exceeds the short run's by more than
``--max-growth-mb``.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import List, NamedTuple, Optional, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmseg_fcn_skip  # noqa: F401  (fills the registries)
from mmseg_fcn_skip.datasets import TOY_SHAPES_CLASSES, TOY_SHAPES_PALETTE

REPO = Path(__file__).resolve().parents[2]
LIGHT_CONFIG = f"""_base_ = {str(REPO / 'configs' / 'fcn8s_toy.py')!r}
model = dict(backbone=dict(base_channels=4, fc_channels=16),
             decode_head=dict(in_channels=(16, 32, 16)))
"""
SIZE_RANGE = (16, 161)
THIN, LONG = 8, 300


class Sample(NamedTuple):
    """One memory reading: seconds since the start, label maps written, RSS in MiB."""

    seconds: float
    done: int
    rss_mib: float


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Run tools/infer.py on many mixed-size images and watch its memory'
    )
    parser.add_argument('--num-images', type=int, default=1000, help='images to make')
    parser.add_argument(
        '--num-sizes',
        type=int,
        default=50,
        help='distinct image sizes; at most a quarter of --num-images',
    )
    parser.add_argument(
        '--work-dir',
        default='work_dirs/check_infer_memory',
        help='folder for the images, the model and the outputs',
    )
    parser.add_argument(
        '--batch-size',
        type=int,
        default=1,
        help='infer.py --batch-size (above 1, batch shapes also vary '
        'with how many images of a size there are)',
    )
    parser.add_argument(
        '--batch-mode', default='group', choices=('group', 'pad'), help='infer.py --batch-mode'
    )
    parser.add_argument(
        '--interval', type=float, default=1.0, help='seconds between memory readings'
    )
    parser.add_argument(
        '--max-growth-mb',
        type=float,
        default=30.0,
        help='allowed rise of the peak RSS from the quarter run to the full run, in MiB',
    )
    parser.add_argument('--seed', type=int, default=0, help='seed of the images')
    return parser.parse_args()


def make_images(folder: Path, count: int, num_sizes: int, seed: int) -> None:
    """Write ``count`` random RGB PNGs cycling through ``num_sizes`` sizes to ``folder``.

    Image ``i`` depends on ``(seed, i)`` only, so a smaller ``count`` writes the
    first images of a larger one.
    """
    folder.mkdir(parents=True, exist_ok=True)
    sizes = image_sizes(num_sizes, seed)
    for index in range(count):
        rng = np.random.default_rng([seed, index])
        image = rng.integers(0, 256, sizes[index % num_sizes] + (3,), dtype=np.uint8)
        cv2.imwrite(str(folder / f'img_{index:05d}.png'), image)


def image_sizes(count: int, seed: int) -> List[Tuple[int, int]]:
    """``count`` distinct (height, width): random, every tenth thin and long."""
    rng = np.random.default_rng(seed)
    sizes: List[Tuple[int, int]] = []
    while len(sizes) < count:
        if len(sizes) % 10 == 9:
            length = LONG - len(sizes)  # a different length each time
            size = (THIN, length) if len(sizes) % 20 == 9 else (length, THIN)
        else:
            size = tuple(int(v) for v in rng.integers(*SIZE_RANGE, size=2))
        if size not in sizes:
            sizes.append(size)
    return sizes


def make_model(work_dir: Path) -> Tuple[Path, Path]:
    """Write the light config and a randomly initialised checkpoint of it."""
    config = work_dir / 'light_fcn8s.py'
    config.write_text(LIGHT_CONFIG)
    init_default_scope('mmseg')
    model = MODELS.build(Config.fromfile(str(config)).model)
    model.init_weights()
    checkpoint = work_dir / 'light_fcn8s.pth'
    meta = dict(dataset_meta=dict(classes=TOY_SHAPES_CLASSES, palette=TOY_SHAPES_PALETTE))
    torch.save(dict(state_dict=model.state_dict(), meta=meta), checkpoint)
    return config, checkpoint


def rss_mib(pid: int) -> Optional[float]:
    """Resident memory of process ``pid`` in MiB, or None once it has exited."""
    try:
        status = Path(f'/proc/{pid}/status').read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    for line in status.splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return None


def watch(command: List[str], out_dir: Path, interval: float) -> Tuple[int, List[Sample]]:
    """Run ``command``, read its memory each ``interval`` s; return status, readings."""
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    samples = []
    while process.poll() is None:
        memory = rss_mib(process.pid)
        if memory is not None:
            done = count_outputs(out_dir)
            samples.append(Sample(time.monotonic() - start, done, memory))
        time.sleep(interval)
    return process.wait(), samples


def count_outputs(out_dir: Path) -> int:
    """Label maps written under ``out_dir/pred``."""
    return sum(1 for _ in (out_dir / 'pred').glob('*.png'))


def infer_run(
    work_dir: Path, name: str, count: int, model: Tuple[Path, Path], args: argparse.Namespace
) -> Tuple[int, int, List[Sample]]:
    """Make ``count`` images, run infer.py on them; return status, outputs, readings."""
    images, out_dir = work_dir / name / 'images', work_dir / name / 'out'
    make_images(images, count, args.num_sizes, args.seed)
    command = [
        sys.executable,
        str(REPO / 'tools' / 'infer.py'),
        str(model[0]),
        str(model[1]),
        str(images),
        '--out',
        str(out_dir),
        '--device',
        'cpu',
        '--batch-size',
        str(args.batch_size),
        '--batch-mode',
        args.batch_mode,
        '--no-skip-existing',
    ]
    status, samples = watch(command, out_dir, args.interval)
    if not samples:
        raise RuntimeError(
            f'infer.py on {images} ended before its memory was read '
            f'(exit status {status}); lower --interval'
        )
    return status, count_outputs(out_dir), samples


def report(name: str, count: int, status: int, written: int, samples: List[Sample]) -> float:
    """Print a run's readings at each tenth of the images and a summary; return peak."""
    print(f'{name}: {count} images')
    shown = -1
    for sample in samples:
        tenth = sample.done * 10 // count
        if tenth > shown:
            shown = tenth
            print(f'  {sample.seconds:7.1f} s  {sample.done:6d} done  {sample.rss_mib:8.1f} MiB')
    peak = max(s.rss_mib for s in samples)
    print(
        f'  exit status {status}, {written}/{count} label maps, '
        f'{samples[-1].seconds:.1f} s, RSS peak {peak:.1f} MiB'
    )
    return peak


def main() -> int:
    """Make the model, run infer.py on a quarter and on all images, compare peaks."""
    args = parse_args()
    if not 1 <= args.num_sizes <= args.num_images // 4:
        raise ValueError(
            f'--num-sizes {args.num_sizes} must be in 1..'
            f'{args.num_images // 4} (a quarter of --num-images), so that '
            'both runs see every size'
        )
    work_dir = Path(args.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    model = make_model(work_dir)
    ok = True
    peaks = []
    for name, count in (('quarter', args.num_images // 4), ('all', args.num_images)):
        status, written, samples = infer_run(work_dir, name, count, model, args)
        peaks.append(report(name, count, status, written, samples))
        ok = ok and status == 0 and written == count
    growth = peaks[1] - peaks[0]
    print(
        f'peak RSS growth from {args.num_images // 4} to {args.num_images} images: '
        f'{growth:+.1f} MiB (limit {args.max_growth_mb} MiB)'
    )
    return 0 if ok and growth <= args.max_growth_mb else 1


if __name__ == '__main__':
    sys.exit(main())
