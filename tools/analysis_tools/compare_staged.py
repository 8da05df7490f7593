"""Does staged training pay on your data? Train FCN-32s -> 16s -> 8s (each stage from the
one before through ``load_from``) and FCN-8s from scratch at the same total iterations,
per seed, score every run with ``tools/test.py`` and print one table of mIoU.

Usage (the toy shapes, three seeds, 600 iterations in all, the chain split 2:1:1, each
stage at a tenth of the rate before)::

    python tools/analysis_tools/compare_staged.py --iters 600 --split 2 1 1 \\
        --lr-factors 1 0.1 0.01 --seeds 0 1 2 --work-dir work_dirs/staged

Every run trains with ``tools/train.py`` on a small config written into its folder
(``<work-dir>/seed<S>/.../run_config.py``: your config plus the run's seed, rate,
schedule, length and ``load_from``); ``--cfg-options`` go to every train and test
command. A run's folder is named after what it trains (a stage's lies in the folder of
the stage before), so a run whose checkpoint is already there - of an interrupted
comparison, or the FCN-32s stage of another ``--tag`` with other later rates - is not
trained again, and a run already scored (under any tag) is not scored again.
Scores are appended to ``<work-dir>/scores.jsonl``; ``--table-only`` prints the table
of everything in it (several ``--tag``\\ s in one table).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from mmengine.config import Config

# analysis_lib/ lies beside this file (tool code, not part of the package)
sys.path.insert(0, str(Path(__file__).resolve().parent))
from analysis_lib.staged import (  # noqa: E402
    SCHEDULES,
    RunSpec,
    format_table,
    parse_miou,
    plan_runs,
    read_scores,
    run_config_text,
    score_record,
    test_command,
    train_command,
)

REPO = Path(__file__).resolve().parents[2]
TRAIN_TOOL = REPO / 'tools' / 'train.py'
TEST_TOOL = REPO / 'tools' / 'test.py'
DEFAULT_CONFIGS = [str(REPO / 'configs' / f'fcn{stage}_toy.py') for stage in ('32s', '16s', '8s')]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Train FCN-32s -> 16s -> 8s staged (load_from) and FCN-8s from scratch '
        'at the same total iterations, per seed; print one mIoU table'
    )
    parser.add_argument(
        '--configs',
        nargs=3,
        default=DEFAULT_CONFIGS,
        metavar=('FCN32S', 'FCN16S', 'FCN8S'),
        help='configs of the three stages; the FCN-8s one also trains from scratch '
        '(default: configs/fcn32s_toy.py fcn16s_toy.py fcn8s_toy.py)',
    )
    parser.add_argument(
        '--iters', type=int, default=1200, help='iterations of the chain in all, and of FCN-8s'
    )
    parser.add_argument(
        '--split',
        nargs=3,
        type=float,
        default=[2, 1, 1],
        help='shares of --iters for 32s, 16s, 8s (default: 2 1 1)',
    )
    parser.add_argument(
        '--lr',
        type=float,
        help="rate of FCN-32s and of FCN-8s from scratch (default: the FCN-8s config's)",
    )
    parser.add_argument(
        '--lr-factors',
        nargs=3,
        type=float,
        default=[1, 0.1, 0.01],
        help='each stage rate as a factor of --lr (default: 1 0.1 0.01, a tenth per stage)',
    )
    parser.add_argument(
        '--optimizer',
        choices=['config', 'sgd'],
        default='config',
        help="config: the config's optimiser at the rates above; sgd: the paper's SGD "
        '(--momentum, --weight-decay, biases at twice the rate, no decay)',
    )
    parser.add_argument('--momentum', type=float, default=0.99, help='SGD momentum')
    parser.add_argument('--weight-decay', type=float, default=5e-4, help='SGD weight decay')
    parser.add_argument(
        '--schedule',
        choices=SCHEDULES,
        default='poly',
        help='poly: linear warm-up then poly decay (the toy configs); fixed: constant rate',
    )
    parser.add_argument('--warmup', type=int, default=50, help='warm-up iterations (poly)')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2], help='seeds')
    parser.add_argument(
        '--runs',
        nargs='+',
        choices=['staged', 'scratch'],
        default=['staged', 'scratch'],
        help='which to train (default: both)',
    )
    parser.add_argument(
        '--work-dir',
        default='work_dirs/compare_staged',
        help='root folder; one per set of configs and data (runs are found again by their '
        'settings, not by the configs)',
    )
    parser.add_argument(
        '--tag', default='', help='name of this setting in the table (rows <tag>/<run>)'
    )
    parser.add_argument(
        '--cfg-options', nargs='+', default=[], help='key=value overrides for every run and test'
    )
    parser.add_argument(
        '--dry-run', action='store_true', help='print the commands and configs; run nothing'
    )
    parser.add_argument(
        '--table-only', action='store_true', help='print the table of <work-dir>/scores.jsonl'
    )
    return parser.parse_args(argv)


def config_lr(config: str) -> float:
    """The learning rate of ``config``'s optimiser."""
    optimizer = Config.fromfile(config).optim_wrapper.optimizer
    if 'lr' not in optimizer:
        raise ValueError(f'{config} sets no optim_wrapper.optimizer.lr; pass --lr')
    return float(optimizer.lr)


def recipe_name(args: argparse.Namespace) -> str:
    """The optimiser and schedule settings in a folder name, e.g. ``config-poly-w50``."""
    optimizer = (
        'config'
        if args.optimizer == 'config'
        else (f'sgd-m{args.momentum:g}-wd{args.weight_decay:g}')
    )
    schedule = f'poly-w{args.warmup}' if args.schedule == 'poly' else args.schedule
    return f'{optimizer}-{schedule}'


def run(command: List[str], log: Path) -> str:
    """Run ``command``, keep its output in ``log``; return the output.

    Raises:
        RuntimeError: the command failed (its output's end and the log's path).
    """
    env = dict(os.environ)  # this repository's plugin first, as tools/train.py imports it
    env['PYTHONPATH'] = os.pathsep.join([str(REPO)] + [p for p in [env.get('PYTHONPATH')] if p])
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    output = result.stdout + result.stderr
    log.write_text(output)
    if result.returncode != 0:
        tail = '\n'.join(output.strip().splitlines()[-15:])
        raise RuntimeError(
            f'{" ".join(command)} failed (exit {result.returncode}); whole output in {log}:\n{tail}'
        )
    return output


def main(argv: Optional[List[str]] = None) -> None:
    """Plan, train, score and print the table."""
    args = parse_args(argv)
    root = Path(args.work_dir)
    scores_file = root / 'scores.jsonl'
    if args.table_only:
        print(format_table(read_scores(scores_file)))
        return
    base_lr = args.lr if args.lr is not None else config_lr(args.configs[-1])
    plan: List[RunSpec] = plan_runs(
        args.configs,
        args.iters,
        args.split,
        args.lr_factors,
        base_lr,
        args.seeds,
        root,
        args.runs,
        recipe_name(args),
    )
    scored = read_scores(scores_file)
    done = {(r['tag'], r['run'], r['seed']) for r in scored}
    # a run shared with another tag (same folder, same checkpoint) is scored once
    known = {r['work_dir']: r['miou'] for r in scored if 'work_dir' in r}
    records = []
    for spec in plan:
        config = spec.work_dir / 'run_config.py'
        text = run_config_text(
            spec, args.optimizer, args.schedule, args.warmup, args.momentum, args.weight_decay
        )
        train = train_command(sys.executable, TRAIN_TOOL, config, spec, args.cfg_options)
        test = test_command(sys.executable, TEST_TOOL, config, spec, args.cfg_options)
        if args.dry_run:
            print(f'# {config}\n{text}')
            print(' '.join(train))
            print(' '.join(test) + '\n')
            continue
        spec.work_dir.mkdir(parents=True, exist_ok=True)
        config.write_text(text)
        if not spec.checkpoint.exists():
            print(f'training {spec.name} (seed {spec.seed}, {spec.iters} it, lr {spec.lr:.3g})')
            run(train, spec.work_dir / 'train_output.log')
        if (args.tag, spec.name, spec.seed) in done:
            continue
        miou = known.get(str(spec.work_dir))
        if miou is None:
            miou = parse_miou(run(test, spec.work_dir / 'test_output.log'))
        record = score_record(spec, miou, args.tag)
        print(f'{spec.name} seed {spec.seed}: mIoU {miou:.2f}')
        with scores_file.open('a') as scores:
            scores.write(json.dumps(record) + '\n')
        records.append(record)
    if not args.dry_run:
        mine = [r for r in read_scores(scores_file) if r['tag'] == args.tag]
        print(format_table(mine))


if __name__ == '__main__':
    main()
