import json

import pytest
from PIL import Image

from tests.helpers.processes import load_tool
from tests.helpers.saved_figures import curves, record_saved_figures


def write_run(work_dir, losses, mious):
    log = work_dir / '20240101_120000' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    lines = [
        dict(lr=0.01, loss=loss, iter=10 * i + 10, step=10 * i + 10)
        for i, loss in enumerate(losses)
    ]
    lines += [
        dict(aAcc=80.0 + m / 10, mIoU=m, mAcc=m, step=20 * (i + 1)) for i, m in enumerate(mious)
    ]
    log.write_text('\n'.join(json.dumps(line) for line in lines) + '\n')
    return log


def test_two_work_dirs_are_overlaid_with_their_names(tmp_path, capsys, monkeypatch):
    figures = record_saved_figures(monkeypatch)
    write_run(tmp_path / 'fcn32s', [2.0, 1.5, 1.2, 1.0], [30.0, 40.0])
    log = write_run(tmp_path / 'fcn8s', [2.0, 1.2, 0.9, 0.7], [35.0, 50.0])
    out = tmp_path / 'curves.png'
    load_tool('analysis_tools/plot_curves').main(
        [str(tmp_path / 'fcn32s'), str(log), '--out', str(out)]
    )
    assert 'Saved loss, lr, mIoU, aAcc of 2 run(s)' in capsys.readouterr().out
    assert Image.open(out).size == (1200, 720)  # 2 x 2 panels of 6 x 3.6 in, 100 dpi
    iters, val_steps = [10, 20, 30, 40], [20, 40]
    assert curves(figures[-1]) == {
        'loss': {'fcn32s': (iters, [2.0, 1.5, 1.2, 1.0]), 'fcn8s': (iters, [2.0, 1.2, 0.9, 0.7])},
        'lr': {'fcn32s': (iters, [0.01] * 4), 'fcn8s': (iters, [0.01] * 4)},
        'mIoU': {'fcn32s': (val_steps, [30.0, 40.0]), 'fcn8s': (val_steps, [35.0, 50.0])},
        'aAcc': {'fcn32s': (val_steps, [83.0, 84.0]), 'fcn8s': (val_steps, [83.5, 85.0])},
    }


def test_labels_and_keys_can_be_chosen(tmp_path, capsys, monkeypatch):
    figures = record_saved_figures(monkeypatch)
    write_run(tmp_path / 'a', [1.0, 0.5], [10.0])
    out = tmp_path / 'loss.png'
    load_tool('analysis_tools/plot_curves').main(
        [str(tmp_path / 'a'), '--labels', 'baseline', '--keys', 'loss', '--out', str(out)]
    )
    assert 'Saved loss of 1 run(s)' in capsys.readouterr().out
    assert Image.open(out).size == (600, 360)
    assert curves(figures[-1]) == {'loss': {'baseline': ([10, 20], [1.0, 0.5])}}


def test_label_count_must_match_and_names_must_differ(tmp_path, capsys):
    tool = load_tool('analysis_tools/plot_curves')
    with pytest.raises(SystemExit, match='^2$'):  # argparse's usage error
        tool.parse_args(['a', 'b', '--labels', 'x'])

    assert '1 labels for 2 runs' in capsys.readouterr().err
    write_run(tmp_path / 'one' / 'run', [1.0], [])
    write_run(tmp_path / 'two' / 'run', [1.0], [])
    with pytest.raises(ValueError, match='same legend label .* name them with --labels'):
        tool.main([str(tmp_path / 'one' / 'run'), str(tmp_path / 'two' / 'run')])
