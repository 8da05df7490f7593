import json
from pathlib import Path

import pytest
from analysis_lib.curves import find_scalar_logs, load_scalars, plot_curves, run_label
from PIL import Image

from tests.helpers.saved_figures import curves, record_saved_figures


def write_log(path: Path, records: list, tail: str = '') -> Path:
    """A scalars.json as mmengine's LocalVisBackend writes it, one object a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records) + tail)
    return path


def train(step: int, loss: float) -> dict:
    return {
        'lr': 0.01 / step,
        'data_time': 0.01,
        'loss': loss,
        'decode.loss_ce': loss,
        'decode.acc_seg': 90.0,
        'time': 0.5,
        'iter': step,
        'step': step,
    }


def val(step: int, miou: float) -> dict:
    return {'aAcc': 90.0, 'mIoU': miou, 'mAcc': 70.0, 'data_time': 0.01, 'time': 0.2, 'step': step}


def test_resumed_runs_are_merged_in_order_and_broken_lines_skipped(tmp_path):
    first = write_log(
        tmp_path / 'run' / '20240101_000000' / 'vis_data' / 'scalars.json',
        [train(10, 2.0), train(20, 1.5), val(20, 40.0)],
        tail='{"loss": 1.4, "st',
    )
    second = write_log(
        tmp_path / 'run' / '20240102_000000' / 'vis_data' / 'scalars.json',
        [train(20, 1.4), train(30, 1.0), val(30, 50.0)],
    )
    files = find_scalar_logs(tmp_path / 'run')
    assert files == [first, second]
    scalars = load_scalars(files)
    assert scalars['loss'] == [(10, 2.0), (20, 1.4), (30, 1.0)]
    assert scalars['mIoU'] == [(20, 40.0), (30, 50.0)]
    assert 'step' not in scalars


def test_a_run_folder_or_the_file_itself_can_be_given(tmp_path):
    log = write_log(
        tmp_path / 'work' / '20240101_000000' / 'vis_data' / 'scalars.json', [train(1, 1.0)]
    )
    assert find_scalar_logs(log) == [log]
    assert find_scalar_logs(log.parents[1]) == [log]
    assert run_label(log) == run_label(log.parents[1]) == run_label(tmp_path / 'work') == 'work'
    with pytest.raises(FileNotFoundError, match='no scalar log under'):
        find_scalar_logs(tmp_path)


def test_plot_draws_the_keys_found_and_names_the_others(tmp_path, monkeypatch):
    figures = record_saved_figures(monkeypatch)
    runs = {
        'a': load_scalars(
            [
                write_log(
                    tmp_path / 'a.json',
                    [train(s, 1 / s) for s in range(1, 50)] + [val(25, 30.0), val(49, 35.0)],
                )
            ]
        ),
        'b': load_scalars(
            [write_log(tmp_path / 'b.json', [train(s, 2 / s) for s in range(1, 40)])]
        ),
    }
    out = tmp_path / 'plots' / 'curves.png'
    drawn = plot_curves(runs, out, ['loss', 'lr', 'mIoU', 'mDice'])
    assert drawn == ['loss', 'lr', 'mIoU']
    width, height = Image.open(out).size
    assert width > height  # two panels a row, two rows
    drawn_curves = curves(figures[-1])
    assert list(drawn_curves) == ['loss', 'lr', 'mIoU']
    assert drawn_curves['loss']['a'] == (list(range(1, 50)), [1 / s for s in range(1, 50)])
    assert drawn_curves['loss']['b'] == (list(range(1, 40)), [2 / s for s in range(1, 40)])
    assert drawn_curves['mIoU'] == {'a': ([25, 49], [30.0, 35.0])}  # b has none
    with pytest.raises(
        ValueError,
        match=r"none of \['mDice'\] is in the logs; "
        r"available keys: \['aAcc'",
    ):
        plot_curves(runs, out, ['mDice'])
