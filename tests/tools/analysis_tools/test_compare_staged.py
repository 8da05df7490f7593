"""tools/analysis_tools/compare_staged.py: the plan of the runs, their configs and commands,
the mIoU read from tools/test.py and the table; one real tiny comparison."""

import json
import re
from pathlib import Path

import pytest
from analysis_lib.staged import (
    format_table,
    parse_miou,
    plan_runs,
    run_config_text,
    split_iters,
    stage_lrs,
)
from mmengine.config import Config

from tests.helpers import REPO
from tests.helpers.light_models import light_settings
from tests.helpers.processes import load_tool

CONFIGS = [str(REPO / 'configs' / f'fcn{stage}_toy.py') for stage in ('32s', '16s', '8s')]
#: The end of tools/test.py's output as mmengine prints it.
TEST_OUTPUT = (
    '12/07 21:01:50 - mmengine - INFO - Iter(test) [40/40]    eta: 0:00:00  time: 0.0439\n'
    '12/07 21:01:50 - mmengine - INFO - Iter(test) [40/40]    aAcc: 76.9100  mIoU: 29.1800  '
    'mAcc: 46.8900  data_time: 0.0024  time: 0.0377\n'
)


def test_split_shares_the_iterations_and_the_last_stage_takes_the_rest():
    assert split_iters(600, [2, 1, 1]) == [300, 150, 150]
    assert split_iters(10, [1, 1, 1]) == [3, 3, 4]
    with pytest.raises(ValueError, match='leaves a stage with none'):
        split_iters(2, [2, 1, 1])
    with pytest.raises(ValueError, match='must all be positive'):
        split_iters(600, [1, 0, 1])


def test_stage_rates_are_factors_of_the_first_rate():
    assert stage_lrs(3e-3, [1, 0.1, 0.01]) == [3e-3, 3e-4, 3e-5]
    assert stage_lrs(2.5e-5, [1, 0.01, 0.0001]) == [2.5e-5, 2.5e-7, 2.5e-9]


def test_plan_chains_each_stage_to_the_checkpoint_before(tmp_path):
    plan = plan_runs(CONFIGS, 600, [2, 1, 1], [1, 0.1, 0.01], 3e-3, [0, 7], tmp_path)
    assert [(s.name, s.seed) for s in plan] == [
        (name, seed)
        for seed in (0, 7)
        for name in ('staged-32s', 'staged-16s', 'staged-8s', 'scratch-8s')
    ]
    s32, s16, s8, scratch = plan[:4]
    assert s32.load_from is None and scratch.load_from is None
    chain = tmp_path / 'seed0' / 'staged_config-poly'
    assert s32.work_dir == chain / '32s_300it_lr0.003'
    assert s16.work_dir == chain / '32s_300it_lr0.003' / '16s_150it_lr0.0003'
    assert s16.load_from == s32.work_dir / 'iter_300.pth'
    assert s8.load_from == s16.work_dir / 'iter_150.pth'
    assert scratch.work_dir == tmp_path / 'seed0' / 'scratch_config-poly' / '8s_600it_lr0.003'
    assert [s.iters for s in plan[:4]] == [300, 150, 150, 600]
    assert [s.iters_in_all for s in plan[:4]] == [300, 450, 600, 600]
    assert [s.lr for s in plan[:4]] == [3e-3, 3e-4, 3e-5, 3e-3]
    assert [s.config for s in plan[:4]] == CONFIGS + CONFIGS[-1:]
    assert plan[4].work_dir == tmp_path / 'seed7' / 'staged_config-poly' / '32s_300it_lr0.003'
    # chains that differ after FCN-32s share its run
    other = plan_runs(CONFIGS, 600, [2, 1, 1], [1, 1, 1], 3e-3, [0], tmp_path)
    assert other[0] == s32 and other[1].work_dir != s16.work_dir
    only_scratch = plan_runs(CONFIGS, 600, [2, 1, 1], [1, 1, 1], 3e-3, [0], tmp_path, ['scratch'])
    assert [s.name for s in only_scratch] == ['scratch-8s']
    with pytest.raises(ValueError, match='2 configs given; give one per stage'):
        plan_runs(CONFIGS[:2], 600, [2, 1, 1], [1, 1, 1], 3e-3, [0], tmp_path)


def load_run_config(tmp_path: Path, text: str) -> Config:
    path = tmp_path / 'run_config.py'
    path.write_text(text)
    return Config.fromfile(str(path))


def test_run_config_keeps_the_config_and_sets_rate_schedule_seed_and_start(tmp_path):
    spec = plan_runs(CONFIGS, 600, [2, 1, 1], [1, 0.1, 0.01], 3e-3, [4], tmp_path)[1]
    cfg = load_run_config(tmp_path, run_config_text(spec))
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=3e-4, weight_decay=1e-4)
    assert cfg.param_scheduler == [
        dict(type='LinearLR', start_factor=0.1, begin=0, end=50, by_epoch=False),
        dict(type='PolyLR', eta_min=1e-6, power=0.9, begin=50, end=150, by_epoch=False),
    ]
    assert cfg.train_cfg.max_iters == 150 and cfg.train_cfg.val_interval == 151
    assert cfg.default_hooks.checkpoint.interval == 150
    assert cfg.randomness.seed == 4
    assert cfg.load_from == str(
        tmp_path / 'seed4' / 'staged_config-poly' / '32s_300it_lr0.003' / 'iter_300.pth'
    )
    assert cfg.model.backbone.out_indices == (3, 5)  # FCN-16s: the config's net


def test_run_config_with_the_papers_sgd_and_fixed_rate(tmp_path):
    spec = plan_runs(CONFIGS, 600, [2, 1, 1], [1, 0.01, 1e-4], 2.5e-5, [0], tmp_path)[2]
    text = run_config_text(spec, optimizer='sgd', schedule='fixed', momentum=0.99)
    cfg = load_run_config(tmp_path, text)
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=2.5e-9, momentum=0.99, weight_decay=5e-4
    )
    assert cfg.optim_wrapper.paramwise_cfg == dict(bias_lr_mult=2.0, bias_decay_mult=0.0)
    assert cfg.param_scheduler == [
        dict(type='ConstantLR', factor=1.0, begin=0, end=150, by_epoch=False)
    ]


def test_short_runs_warm_up_for_half_their_length_at_most(tmp_path):
    spec = plan_runs(CONFIGS, 8, [2, 1, 1], [1, 1, 1], 3e-3, [0], tmp_path)[1]
    cfg = load_run_config(tmp_path, run_config_text(spec, warmup=50))
    assert [(s.type, s.begin, s.end) for s in cfg.param_scheduler] == [
        ('LinearLR', 0, 1),
        ('PolyLR', 1, 2),
    ]


def test_the_miou_is_read_from_the_test_output():
    assert parse_miou('noise\n' + TEST_OUTPUT) == 29.18
    with pytest.raises(ValueError, match='no "Iter\\(test\\) ... mIoU'):
        parse_miou('Traceback (most recent call last):\nRuntimeError: boom\n')


def test_table_has_a_row_per_run_a_column_per_seed_and_the_range():
    records = [
        dict(tag='tenth', run='staged-8s', seed=1, iters=150, iters_in_all=600, lr=3e-5, miou=60.5),
        dict(
            tag='tenth', run='staged-8s', seed=0, iters=150, iters_in_all=600, lr=3e-5, miou=58.25
        ),
        dict(tag='', run='scratch-8s', seed=0, iters=600, iters_in_all=600, lr=3e-3, miou=70.0),
    ]
    assert format_table(records).splitlines() == [
        '| run | iters (in all) | lr | seed 0 | seed 1 | range |',
        '|---|---|---|---|---|---|',
        '| tenth/staged-8s | 150 (600) | 3e-05 | 58.25 | 60.50 | 58.25-60.50 |',
        '| scratch-8s | 600 (600) | 0.003 | 70.00 | - | - |',
    ]


def test_dry_run_prints_every_command_and_runs_nothing(tmp_path, capsys):
    work = tmp_path / 'cmp'
    load_tool('analysis_tools/compare_staged').main(
        ['--dry-run', '--iters', '40', '--seeds', '0', '1', '--work-dir', str(work)]
        + ['--cfg-options', 'train_dataloader.num_workers=0']
    )
    printed = capsys.readouterr().out
    commands = [line for line in printed.splitlines() if 'tools/t' in line and '.py ' in line]
    assert len(commands) == 16  # 4 runs x 2 seeds, each trained and tested
    first = str(work / 'seed0' / 'staged_config-poly-w50' / '32s_20it_lr0.003')
    assert commands[0].endswith(
        f'tools/train.py {first}/run_config.py --work-dir {first} '
        '--cfg-options train_dataloader.num_workers=0'
    )
    assert (
        f'tools/test.py {first}/run_config.py {first}/iter_20.pth --work-dir {first}/test'
        in (commands[1])
    )
    assert f"load_from = '{first}/iter_20.pth'" in printed  # FCN-16s starts there
    assert 'lr=3e-05' in printed  # FCN-8s stage: a hundredth of the config's 3e-3
    assert not work.exists()


def test_help_names_the_settings(capsys):
    with pytest.raises(SystemExit):
        load_tool('analysis_tools/compare_staged').main(['--help'])
    printed = capsys.readouterr().out
    for option in ('--iters', '--split', '--lr-factors', '--seeds', '--dry-run', '--cfg-options'):
        assert option in printed


def write_light_configs(folder: Path):
    """The toy configs of FCN-32s/16s/8s with the light backbone."""
    paths = []
    for variant in ('32s', '16s', '8s'):
        path = folder / f'light_fcn{variant}.py'
        path.write_text(
            f'_base_ = {str(REPO / "configs" / f"fcn{variant}_toy.py")!r}\n'
            f'model = {light_settings(variant)!r}\n'
            'default_hooks = dict(logger=dict(interval=1))\n'
        )
        paths.append(str(path))
    return paths


def test_a_tiny_comparison_trains_scores_and_goes_on_where_it_stopped(
    tmp_path, toy_data_root, capsys
):
    options = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options += [
            f'{loader}.dataset.data_root={toy_data_root}',
            f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False',
        ]
    work = tmp_path / 'cmp'
    common = ['--configs', *write_light_configs(tmp_path), '--iters', '4', '--seeds', '3']
    common += ['--work-dir', str(work), '--cfg-options', *options]
    argv = common + ['--tag', 'tiny']
    tool = load_tool('analysis_tools/compare_staged')
    tool.main(argv)
    printed = capsys.readouterr().out
    records = [json.loads(line) for line in (work / 'scores.jsonl').read_text().splitlines()]
    assert [(r['run'], r['seed'], r['iters'], r['iters_in_all']) for r in records] == [
        ('staged-32s', 3, 2, 2),
        ('staged-16s', 3, 1, 3),
        ('staged-8s', 3, 1, 4),
        ('scratch-8s', 3, 4, 4),
    ]
    for record in records:
        run_dir = Path(record['work_dir'])
        assert run_dir.is_relative_to(work / 'seed3')
        assert (run_dir / f'iter_{record["iters"]}.pth').exists()
        # the table holds what tools/test.py printed
        assert record['miou'] == parse_miou((run_dir / 'test_output.log').read_text())
        assert f'| tiny/{record["run"]} |' in printed
        assert f'| {record["miou"]:.2f} | - |' in printed
    train_log = (Path(records[1]['work_dir']) / 'train_output.log').read_text()
    assert 'FCN-32s into FCN-16s (staged)' in train_log
    assert 'starts at zero' in train_log


def test_runs_done_are_neither_trained_nor_scored_again(tmp_path, capsys, monkeypatch):
    """Commands are recorded, not run: a train command writes its checkpoint."""
    tool = load_tool('analysis_tools/compare_staged')
    commands = []

    def fake_run(command, log):
        commands.append(command)
        if command[1].endswith('train.py'):
            iters = re.search(r'max_iters=(\d+)', Path(command[2]).read_text()).group(1)
            Path(command[command.index('--work-dir') + 1], f'iter_{iters}.pth').touch()
        return TEST_OUTPUT

    monkeypatch.setattr(tool, 'run', fake_run)
    work = tmp_path / 'cmp'
    common = ['--iters', '40', '--seeds', '0', '--work-dir', str(work)]
    tool.main(common + ['--tag', 'tenth'])
    assert len(commands) == 8  # 4 runs trained and scored
    tool.main(common + ['--tag', 'tenth'])
    assert len(commands) == 8  # all done: nothing runs again
    tool.main(common + ['--tag', 'same', '--lr-factors', '1', '1', '1', '--runs', 'staged'])
    # FCN-32s is shared with the chain above: only 16s and 8s train and are scored
    assert [c[1].rsplit('/', 1)[1] for c in commands[8:]] == ['train.py', 'test.py'] * 2
    assert all('32s_20it_lr0.003/16s_10it_lr0.003' in c[2] for c in commands[8:])
    records = [json.loads(line) for line in (work / 'scores.jsonl').read_text().splitlines()]
    assert [(r['tag'], r['run']) for r in records[4:]] == [
        ('same', 'staged-32s'),
        ('same', 'staged-16s'),
        ('same', 'staged-8s'),
    ]
    printed = capsys.readouterr().out
    assert '| same/staged-32s | 20 (20) | 0.003 | 29.18 | - |' in printed
    tool.main(['--table-only', '--work-dir', str(work)])
    table = capsys.readouterr().out
    assert '| tenth/scratch-8s | 40 (40) | 0.003 | 29.18 | - |' in table
    assert '| same/staged-8s | 10 (40) | 0.003 | 29.18 | - |' in table
