import json

import pytest
from analysis_lib.scores import score_checkpoint

from tests.helpers.light_models import light_checkpoint
from tests.helpers.processes import load_tool

DATA_OPTIONS = {'val_dataloader.num_workers': 0, 'val_dataloader.persistent_workers': False}


def test_one_row_per_run_with_its_scores(tmp_path, toy_data_root, capsys):
    runs = {}
    for name, variant in (('coarse', '32s'), ('fine', '8s')):
        (tmp_path / name).mkdir()
        runs[name] = light_checkpoint(tmp_path / name, variant)
    options = dict(DATA_OPTIONS, **{'val_dataloader.dataset.data_root': toy_data_root})
    out = tmp_path / 'scores.json'
    load_tool('analysis_tools/compare_runs').main(
        ['--configs']
        + [str(c) for c, _ in runs.values()]
        + ['--checkpoints']
        + [str(k) for _, k in runs.values()]
        + ['--json', str(out), '--cfg-options']
        + [f'{key}={value}' for key, value in options.items()]
    )
    printed = capsys.readouterr().out
    assert 'Scores on 4 validation images' in printed
    saved = json.loads(out.read_text())
    assert list(saved) == ['coarse', 'fine']  # named after the checkpoints' folders
    for name, (config, checkpoint) in runs.items():
        expected = score_checkpoint(config, checkpoint, cfg_options=options).to_dict()
        assert saved[name] == expected
        assert (
            f'| {name} | {expected["mIoU"]:.2f} | {expected["aAcc"]:.2f} | {expected["mAcc"]:.2f} |'
        ) in printed
    assert saved['coarse'] != saved['fine']


@pytest.mark.parametrize(
    'argv,message',
    [
        (['--configs', 'a.py', 'b.py', '--checkpoints', 'a.pth'], '2 configs but 1 checkpoints'),
        (
            ['--configs', 'a.py', 'b.py', '--checkpoints', 'w/a.pth', 'w/b.pth'],
            "the row names ['w', 'w'] repeat; pass --names",
        ),
        (
            ['--configs', 'a.py', '--checkpoints', 'a.pth', '--names', 'x', 'y'],
            '2 names for 1 runs',
        ),
    ],
)
def test_runs_must_pair_up_and_be_told_apart(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_tool('analysis_tools/compare_runs').parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
