"""Staged FCN training (32s -> 16s -> 8s through ``load_from``) against FCN-8s trained at
once from the start, at the same total iterations (``compare_staged.py``).

Pure functions: the plan of the runs, the config each run trains (a few lines over the
user's config), the command lines of ``tools/train.py`` and ``tools/test.py``, the mIoU
read from ``tools/test.py``'s output and the table of the scores. The command line
tool runs the commands.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

#: The staged chain, coarsest first.
STAGES = ('32s', '16s', '8s')
#: The schedules a run can have: the toy configs' (linear warm-up, then poly decay) or a
#: fixed rate (the paper's).
SCHEDULES = ('poly', 'fixed')
#: Poly decay ends at the run's rate divided by this (the toy configs: 3e-3 -> 1e-5).
POLY_END_DIVISOR = 300
#: mIoU as mmengine's logger prints the test metrics of ``tools/test.py``.
_MIOU = re.compile(r'Iter\(test\).*?\bmIoU:\s*([0-9]+(?:\.[0-9]+)?)')


@dataclass(frozen=True)
class RunSpec:
    """One training run of the comparison.

    Args:
        name: Row name in the table, e.g. ``'staged-16s'`` or ``'scratch-8s'``.
        seed: ``randomness.seed`` of the run.
        config: The user's config that the run's config builds on.
        iters: Training iterations of this run alone.
        lr: Learning rate at the start of its schedule.
        work_dir: Folder of the run (its config, logs, checkpoint and score).
        load_from: Final checkpoint of the stage before, or ``None`` (from scratch).
        iters_in_all: Iterations of this run and of the stages before it.
    """

    name: str
    seed: int
    config: str
    iters: int
    lr: float
    work_dir: Path
    load_from: Optional[Path] = None
    iters_in_all: int = 0

    @property
    def checkpoint(self) -> Path:
        """The checkpoint the run ends with (mmengine's ``iter_<iters>.pth``)."""
        return self.work_dir / f'iter_{self.iters}.pth'


def split_iters(total: int, fractions: Sequence[float]) -> List[int]:
    """Iterations of each stage: ``total`` shared in proportion to ``fractions``.

    Rounding puts what is left over on the last stage, so the stages add up to ``total``.

    Args:
        total: Iterations of the whole chain.
        fractions: One positive share per stage (need not add up to 1).

    Returns:
        One positive iteration count per stage.

    Raises:
        ValueError: a share is not positive, or a stage would get no iteration.
    """
    if any(share <= 0 for share in fractions):
        raise ValueError(f'stage shares {list(fractions)} must all be positive')
    whole = float(sum(fractions))
    iters = [int(total * share / whole) for share in fractions[:-1]]
    iters.append(total - sum(iters))
    if min(iters) < 1:
        raise ValueError(
            f'{total} iterations split {list(fractions)} leaves a stage with none '
            f'({iters}); raise --iters or change --split'
        )
    return iters


def stage_lrs(base_lr: float, factors: Sequence[float]) -> List[float]:
    """Each stage's learning rate: ``base_lr`` times the stage's factor.

    Args:
        base_lr: Rate of the first stage (and of the from-scratch FCN-8s) at factor 1.
        factors: One factor per stage, relative to ``base_lr`` (not to the stage before).
    """
    return [float(f'{base_lr * factor:.6g}') for factor in factors]


def plan_runs(
    configs: Sequence[str],
    total_iters: int,
    split: Sequence[float],
    lr_factors: Sequence[float],
    base_lr: float,
    seeds: Iterable[int],
    work_dir: Path,
    runs: Sequence[str] = ('staged', 'scratch'),
    recipe: str = 'config-poly',
) -> List[RunSpec]:
    """The runs of the comparison, in the order they must be trained.

    Per seed: the staged chain (each stage from the final checkpoint of the stage before)
    and FCN-8s from scratch for ``total_iters`` at ``base_lr``.

    Args:
        configs: Configs of FCN-32s, FCN-16s and FCN-8s (the last one also trains at once).
        total_iters: Iterations of the staged chain in all, and of the from-scratch run.
        split: Shares of ``total_iters`` per stage.
        lr_factors: Rate of each stage as a factor of ``base_lr``.
        base_lr: Rate of the first stage and of the from-scratch run.
        seeds: Seeds; every run is repeated with each.
        work_dir: Root folder. A run lives in ``work_dir/seed<S>/staged_<recipe>/`` or
            ``.../scratch_<recipe>/`` in a folder named after what it trains
            (:func:`run_folder`), a stage inside the folder of the stage before: runs that train the same (the FCN-32s stage of two chains that
            differ later) share their folder and are trained once.
        runs: ``'staged'``, ``'scratch'`` or both.
        recipe: Name of the optimiser and schedule settings (part of the folder names).

    Raises:
        ValueError: the lists do not have one entry per stage, or ``runs`` names
            something else.
    """
    for label, values in (('configs', configs), ('split', split), ('lr factors', lr_factors)):
        if len(values) != len(STAGES):
            raise ValueError(
                f'{len(values)} {label} given; give one per stage ({", ".join(STAGES)})'
            )
    unknown = set(runs) - {'staged', 'scratch'}
    if unknown:
        raise ValueError(f'unknown runs {sorted(unknown)}; choose from staged, scratch')
    iters = split_iters(total_iters, split)
    lrs = stage_lrs(base_lr, lr_factors)
    plan = []
    for seed in seeds:
        seed_dir = Path(work_dir) / f'seed{seed}'
        if 'staged' in runs:
            before, done, work = None, 0, seed_dir / f'staged_{recipe}'
            for stage, config, stage_iters, lr in zip(STAGES, configs, iters, lrs):
                name = f'staged-{stage}'
                done += stage_iters
                work = work / run_folder(stage, stage_iters, lr)
                plan.append(RunSpec(name, seed, config, stage_iters, lr, work, before, done))
                before = plan[-1].checkpoint
        if 'scratch' in runs:
            name = 'scratch-8s'
            work = seed_dir / f'scratch_{recipe}' / run_folder(STAGES[-1], total_iters, base_lr)
            plan.append(
                RunSpec(name, seed, configs[-1], total_iters, base_lr, work, None, total_iters)
            )
    return plan


def run_folder(stage: str, iters: int, lr: float) -> str:
    """Folder name of a run: ``<stage>_<iters>it_lr<lr>``, e.g. ``32s_300it_lr0.003``."""
    return f'{stage}_{iters}it_lr{lr:g}'


def optimizer_lines(lr: float, optimizer: str, momentum: float, weight_decay: float) -> str:
    """Config lines that set the run's optimiser.

    Args:
        lr: Learning rate.
        optimizer: ``'config'`` keeps the config's optimiser and sets its rate;
            ``'sgd'`` is the paper's SGD (momentum, weight decay, biases at twice the
            rate and without decay).
        momentum: SGD momentum (``'sgd'`` only).
        weight_decay: SGD weight decay (``'sgd'`` only).
    """
    if optimizer == 'config':
        return f'optim_wrapper = dict(optimizer=dict(lr={lr!r}))\n'
    if optimizer == 'sgd':
        return (
            'optim_wrapper = dict(\n'
            "    type='OptimWrapper',\n"
            f"    optimizer=dict(_delete_=True, type='SGD', lr={lr!r}, momentum={momentum!r},\n"
            f'                   weight_decay={weight_decay!r}),\n'
            '    paramwise_cfg=dict(bias_lr_mult=2.0, bias_decay_mult=0.0),\n'
            ')\n'
        )
    raise ValueError(f'unknown optimizer {optimizer!r}; choose config or sgd')


def schedule_lines(iters: int, lr: float, schedule: str, warmup: int) -> str:
    """Config lines that set the run's learning-rate schedule and length.

    Args:
        iters: Iterations of the run.
        lr: Rate of the run (the poly decay ends at ``lr / POLY_END_DIVISOR``).
        schedule: ``'poly'`` (linear warm-up from a tenth of the rate over
            ``min(warmup, iters // 2)`` iterations, then poly decay with power 0.9, as the
            toy configs) or ``'fixed'``.
        warmup: Warm-up iterations of the poly schedule.
    """
    if schedule == 'poly':
        warm = min(warmup, iters // 2)
        eta_min = lr / POLY_END_DIVISOR
        schedulers = []
        if warm > 0:
            schedulers.append(
                f"dict(type='LinearLR', start_factor=0.1, begin=0, end={warm}, by_epoch=False)"
            )
        schedulers.append(
            f"dict(type='PolyLR', eta_min={eta_min!r}, power=0.9, begin={warm}, "
            f'end={iters}, by_epoch=False)'
        )
    elif schedule == 'fixed':
        schedulers = [f"dict(type='ConstantLR', factor=1.0, begin=0, end={iters}, by_epoch=False)"]
    else:
        raise ValueError(f'unknown schedule {schedule!r}; choose from {", ".join(SCHEDULES)}')
    return (
        'param_scheduler = [\n' + ''.join(f'    {line},\n' for line in schedulers) + ']\n'
        # no validation while training: the comparison scores with tools/test.py
        f'train_cfg = dict(max_iters={iters}, val_interval={iters + 1})\n'
        f'default_hooks = dict(checkpoint=dict(interval={iters}))\n'
    )


def run_config_text(
    spec: RunSpec,
    optimizer: str = 'config',
    schedule: str = 'poly',
    warmup: int = 50,
    momentum: float = 0.99,
    weight_decay: float = 5e-4,
) -> str:
    """The config file a run trains: the user's config plus the run's seed, rate,
    schedule, length and ``load_from``.

    Args:
        spec: The run.
        optimizer, momentum, weight_decay: See :func:`optimizer_lines`.
        schedule, warmup: See :func:`schedule_lines`.
    """
    base = str(Path(spec.config).resolve())
    load_from = None if spec.load_from is None else str(spec.load_from)
    return (
        f'# {spec.name}, seed {spec.seed}: written by tools/analysis_tools/compare_staged.py\n'
        f'_base_ = {base!r}\n'
        + optimizer_lines(spec.lr, optimizer, momentum, weight_decay)
        + schedule_lines(spec.iters, spec.lr, schedule, warmup)
        + f'randomness = dict(seed={spec.seed})\n'
        + f'load_from = {load_from!r}\n'
    )


def train_command(
    python: str, tool: Path, config: Path, spec: RunSpec, cfg_options: Sequence[str] = ()
) -> List[str]:
    """``tools/train.py`` training ``config`` (the run's config file) into its work dir."""
    command = [python, str(tool), str(config), '--work-dir', str(spec.work_dir)]
    if cfg_options:
        command += ['--cfg-options', *cfg_options]
    return command


def test_command(
    python: str, tool: Path, config: Path, spec: RunSpec, cfg_options: Sequence[str] = ()
) -> List[str]:
    """``tools/test.py`` scoring the run's final checkpoint (logs under ``<work dir>/test``)."""
    command = [
        python,
        str(tool),
        str(config),
        str(spec.checkpoint),
        '--work-dir',
        str(spec.work_dir / 'test'),
    ]
    if cfg_options:
        command += ['--cfg-options', *cfg_options]
    return command


def parse_miou(output: str) -> float:
    """The mIoU (percent) in the output of ``tools/test.py``; the last one if several.

    Raises:
        ValueError: the output holds no test mIoU (the test failed or printed nothing).
    """
    found = _MIOU.findall(output)
    if not found:
        tail = '\n'.join(output.strip().splitlines()[-5:])
        raise ValueError(
            f'no "Iter(test) ... mIoU: <value>" line in the test output; its end:\n{tail}'
        )
    return float(found[-1])


def score_record(spec: RunSpec, miou: float, tag: str = '') -> Dict:
    """One line of the scores file: the run, its seed, length, rate, mIoU and folder."""
    return dict(
        tag=tag,
        run=spec.name,
        seed=spec.seed,
        iters=spec.iters,
        iters_in_all=spec.iters_in_all,
        lr=spec.lr,
        miou=miou,
        work_dir=str(spec.work_dir),
    )


def read_scores(path: Path) -> List[Dict]:
    """The score records in ``path`` (JSON lines), oldest first; none if it is missing."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _row_name(record: Dict) -> str:
    return f'{record["tag"]}/{record["run"]}' if record.get('tag') else record['run']


def format_table(records: Sequence[Dict]) -> str:
    """One table: a row per run (``tag/run``), the mIoU of each seed and their range.

    A run scored again with the same seed shows its latest score. Rows keep the order
    in which runs first appear; seeds are sorted.

    Args:
        records: Score records (:func:`score_record`).

    Returns:
        A Markdown table: run, its iterations (and those of the stages before it in all),
        rate, one column per seed, min-max over seeds.
    """
    latest: Dict[Tuple[str, int], Dict] = {}
    for record in records:
        latest[(_row_name(record), record['seed'])] = record
    rows = list(dict.fromkeys(name for name, _ in latest))
    seeds = sorted({seed for _, seed in latest})
    header = ['run', 'iters (in all)', 'lr'] + [f'seed {seed}' for seed in seeds] + ['range']
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for row in rows:
        cells = [latest.get((row, seed)) for seed in seeds]
        first = next(cell for cell in cells if cell is not None)
        scores = [cell['miou'] for cell in cells if cell is not None]
        span = f'{min(scores):.2f}-{max(scores):.2f}' if len(scores) > 1 else '-'
        values = [f'{cell["miou"]:.2f}' if cell else '-' for cell in cells]
        lines.append(
            '| '
            + ' | '.join(
                [row, f'{first["iters"]} ({first["iters_in_all"]})', f'{first["lr"]:.3g}']
                + values
                + [span]
            )
            + ' |'
        )
    return '\n'.join(lines)
