"""Does the level grid matter? FCNSkipHead on a light non-dilated ResNet with the
centre grid (what the head assumed before ``in_grids``) and with the corner grid the
ResNet has, beside mmseg's FCNHead on a dilated ResNet and UPerHead on the
non-dilated one; all on the built-in toy shapes with the recipe of
configs/fcn8s_toy.py, shortened, over a few seeds.

Usage::

    python tools/experiments/toy_grid_comparison.py --work-dir work_dirs/toy_grids \\
        [--iters 400] [--seeds 0 1 2] [--models skip8s-centre skip8s-corner ...]

Prints a markdown table of mIoU and the thin-bar IoU per model: the range over the
seeds and each seed's value; writes ``results.json`` in the work dir.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmseg_fcn_skip  # noqa: F401  (fills the registries)
from mmseg_fcn_skip.datasets import generate_toy_shapes

# score_checkpoint lives in tools/analysis_tools/analysis_lib (tool code, not packaged)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'analysis_tools'))
from analysis_lib.scores import score_checkpoint  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
#: ResNetV1c-18 at a quarter of the width, BN; non-dilated (strides 4..32) or dilated
#: (the last two stages at stride 8, as mmseg's -d8 models).
LIGHT_RESNET = dict(
    type='ResNetV1c',
    depth=18,
    base_channels=16,
    stem_channels=16,
    norm_cfg=dict(type='BN', requires_grad=True),
    norm_eval=False,
    style='pytorch',
    contract_dilation=True,
    init_cfg=None,
    strides=(1, 2, 2, 2),
    dilations=(1, 1, 1, 1),
)
DILATED = dict(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4))
NUM_CLASSES = 5


def skip_head(in_grids: Optional[str], num_levels: int = 3) -> dict:
    """FCN-8s (3 levels: stages 1..3) or FCN-4s (4 levels) on ``LIGHT_RESNET``."""
    channels = (16, 32, 64, 128)[-num_levels:]
    return dict(
        type='FCNSkipHead',
        in_channels=channels,
        in_index=tuple(range(num_levels)),
        in_grids=in_grids,
        num_classes=NUM_CLASSES,
        score_init='normal',
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0),
    )


#: name: (backbone overrides, decode head)
MODELS = {
    'skip8s-centre': (dict(out_indices=(1, 2, 3)), skip_head(None)),
    'skip8s-corner': (dict(out_indices=(1, 2, 3)), skip_head('corner')),
    'skip4s-centre': (dict(out_indices=(0, 1, 2, 3)), skip_head(None, 4)),
    'skip4s-corner': (dict(out_indices=(0, 1, 2, 3)), skip_head('corner', 4)),
    'fcnhead-d8': (
        dict(DILATED, out_indices=(3,)),
        dict(
            type='FCNHead',
            in_channels=128,
            in_index=0,
            channels=64,
            num_convs=2,
            concat_input=True,
            dropout_ratio=0.1,
            num_classes=NUM_CLASSES,
            norm_cfg=dict(type='BN'),
            align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0),
        ),
    ),
    'upernet': (
        dict(out_indices=(0, 1, 2, 3)),
        dict(
            type='UPerHead',
            in_channels=(16, 32, 64, 128),
            in_index=(0, 1, 2, 3),
            pool_scales=(1, 2, 3, 6),
            channels=64,
            dropout_ratio=0.1,
            num_classes=NUM_CLASSES,
            norm_cfg=dict(type='BN'),
            align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0),
        ),
    ),
}

DEFAULT_MODELS = ['skip8s-centre', 'skip8s-corner', 'fcnhead-d8', 'upernet']


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', required=True, help='runs and results go here')
    parser.add_argument(
        '--data-root', default=None, help='toy shapes (default: generated into the work dir)'
    )
    parser.add_argument('--iters', type=int, default=400, help='iterations per run')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--models', nargs='+', default=DEFAULT_MODELS, choices=list(MODELS))
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    return parser.parse_args(argv)


def run_config(name: str, seed: int, iters: int, data_root: str, work_dir: Path) -> Config:
    """configs/fcn8s_toy.py with the model ``name``, ``iters`` iterations, ``seed``."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'fcn8s_toy.py'))
    overrides, head = MODELS[name]
    cfg.model.backbone = dict(LIGHT_RESNET, **overrides)
    cfg.model.decode_head = dict(head)
    cfg.model.data_preprocessor.bgr_to_rgb = True
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    warm_up = min(50, iters // 4)
    cfg.param_scheduler[0].end = warm_up
    cfg.param_scheduler[1].update(begin=warm_up, end=iters)
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.logger.interval = 50
    cfg.randomness = dict(seed=seed)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
    cfg.work_dir = str(work_dir)
    return cfg


def main(argv: Optional[List[str]] = None) -> Dict[str, list]:
    """Train and score every model for every seed; print and return the scores."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    work = Path(args.work_dir)
    data_root = args.data_root
    if data_root is None:
        data_root = str(work / 'toy_shapes')
        if not (work / 'toy_shapes' / 'img_dir').exists():
            generate_toy_shapes(data_root, seed=0)
    results: Dict[str, list] = {}
    for name in args.models:
        for seed in args.seeds:
            run_dir = work / f'{name}_seed{seed}'
            cfg = run_config(name, seed, args.iters, data_root, run_dir)
            cfg.dump(str(run_dir.with_suffix('.py')))
            Runner.from_cfg(cfg).train()
            scores = score_checkpoint(
                str(run_dir.with_suffix('.py')), run_dir / f'iter_{args.iters}.pth'
            )
            entry = dict(seed=seed, **scores.to_dict())
            results.setdefault(name, []).append(entry)
            (work / 'results.json').write_text(json.dumps(results, indent=1))
    print(format_table(results))
    return results


def format_table(results: Dict[str, list]) -> str:
    """Markdown table: mIoU and bar IoU per model, range over seeds and each seed."""
    lines = [
        '| model | mIoU (range) | bar IoU (range) | mIoU per seed | bar IoU per seed |',
        '|---|---|---|---|---|',
    ]
    for name, runs in results.items():
        miou = [r['mIoU'] for r in runs]
        bar = [r['IoU']['bar'] for r in runs]
        lines.append(
            f'| {name} | {min(miou):.1f}-{max(miou):.1f} | '
            f'{min(bar):.1f}-{max(bar):.1f} | '
            f'{", ".join(f"{v:.1f}" for v in miou)} | '
            f'{", ".join(f"{v:.1f}" for v in bar)} |'
        )
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
