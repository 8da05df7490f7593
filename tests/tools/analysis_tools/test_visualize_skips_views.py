"""tools/analysis_tools/visualize_skips.py: separately trained nets by default, --remove-skips for the
one-net view, each panel holding the prediction it is titled with."""

import numpy as np
import pytest

from mmseg_fcn_skip.apis import build_inference_pipeline, load_model, predict_labels
from mmseg_fcn_skip.apis.inference import read_image
from mmseg_fcn_skip.datasets import generate_toy_shapes
from tests.helpers.light_models import light_checkpoint
from tests.helpers.processes import load_tool


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = generate_toy_shapes(tmp_path_factory.mktemp('toy'), num_train=0, num_val=1)
    return root / 'img_dir' / 'val' / 'val_00000.png', root / 'ann_dir' / 'val' / 'val_00000.png'


@pytest.fixture
def drawn(monkeypatch):
    """Run the tool and return what it handed to draw_skip_figure."""
    tool = load_tool('analysis_tools/visualize_skips')
    calls = []
    real = tool.draw_skip_figure

    def record(image, labels, classes, palette, out_file, ground_truth, title):
        calls.append(dict(labels=labels, ground_truth=ground_truth, title=title))
        return real(image, labels, classes, palette, out_file, ground_truth, title)

    monkeypatch.setattr(tool, 'draw_skip_figure', record)

    def run(argv):
        tool.main(argv + ['--device', 'cpu'])
        assert len(calls) == 1
        return calls[0]

    return run


def prediction(config, checkpoint, image_path):
    model = load_model(config, checkpoint)
    return predict_labels(model, build_inference_pipeline(model.cfg), [read_image(image_path)])[0]


def test_separate_nets_are_drawn_each_with_its_own_prediction(toy, tmp_path, drawn, capsys):
    models = [light_checkpoint(tmp_path, v) for v in ('32s', '16s', '8s')]
    out = tmp_path / 'fig.png'
    call = drawn(
        [str(toy[0]), '--gt', str(toy[1]), '--out', str(out), '--configs']
        + [str(c) for c, _ in models]
        + ['--checkpoints']
        + [str(k) for _, k in models]
    )
    assert list(call['labels']) == ['FCN-32s', 'FCN-16s', 'FCN-8s']
    for (config, checkpoint), label in zip(models, call['labels'].values()):
        assert np.array_equal(label, prediction(config, checkpoint, toy[0]))
    assert call['title'] == 'Separately trained nets'
    assert call['ground_truth'] is not None and out.stat().st_size > 0
    assert f'Saved FCN-32s, FCN-16s, FCN-8s for {toy[0]} to {out}' in capsys.readouterr().out


def test_remove_skips_names_the_one_net_and_never_a_coarser_variant(toy, tmp_path, drawn, capsys):
    config, checkpoint = light_checkpoint(tmp_path)
    call = drawn(
        [
            str(toy[0]),
            '--configs',
            str(config),
            '--checkpoints',
            str(checkpoint),
            '--remove-skips',
            '--out',
            str(tmp_path / 'r.png'),
        ]
    )
    names = ['FCN-8s without the stride-16, 8 skips', 'FCN-8s without the stride-8 skip', 'FCN-8s']
    assert list(call['labels']) == names
    assert np.array_equal(call['labels']['FCN-8s'], prediction(config, checkpoint, toy[0]))
    assert not np.array_equal(call['labels'][names[0]], call['labels']['FCN-8s'])
    assert call['title'] == (
        'One FCN-8s net with its finer skips left out (not separately trained nets)'
    )
    assert call['ground_truth'] is None
    assert 'FCN-32s' not in capsys.readouterr().out


def test_one_config_without_remove_skips_draws_that_net_alone(toy, tmp_path, drawn):
    config, checkpoint = light_checkpoint(tmp_path, '16s')
    call = drawn(
        [
            str(toy[0]),
            '--configs',
            str(config),
            '--checkpoints',
            str(checkpoint),
            '--out',
            str(tmp_path / 'one.png'),
        ]
    )
    assert list(call['labels']) == ['FCN-16s'] and call['title'] is None
    assert np.array_equal(call['labels']['FCN-16s'], prediction(config, checkpoint, toy[0]))


def test_remove_skips_takes_one_net(capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_tool('analysis_tools/visualize_skips').parse_args(
            [
                'img.png',
                '--remove-skips',
                '--configs',
                'a.py',
                'b.py',
                '--checkpoints',
                'a.pth',
                'b.pth',
            ]
        )
    assert exit_info.value.code == 2
    assert '--remove-skips takes one config and checkpoint, got 2' in capsys.readouterr().err
