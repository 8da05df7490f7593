"""tools/analysis_tools/visualize_skips.py: what each panel of the saved figure shows."""

import copy

import numpy as np
import pytest
import torch
from PIL import Image

from mmseg_fcn_skip.apis import build_inference_pipeline, load_model, predict_labels
from mmseg_fcn_skip.apis.inference import read_image
from mmseg_fcn_skip.datasets import TOY_SHAPES_PALETTE, generate_toy_shapes
from tests.helpers.light_models import light_checkpoint
from tests.helpers.processes import load_tool
from tests.helpers.saved_figures import image_panels, record_saved_figures

PALETTE = np.array(TOY_SHAPES_PALETTE, np.uint8)


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = generate_toy_shapes(tmp_path_factory.mktemp('toy'), num_train=0, num_val=1)
    return root / 'img_dir' / 'val' / 'val_00000.png', root / 'ann_dir' / 'val' / 'val_00000.png'


def _truth_colours(truth: np.ndarray) -> np.ndarray:
    white = np.array([255, 255, 255], np.uint8)  # unlabelled pixels
    return np.where((truth == 255)[..., None], white, PALETTE[truth % len(PALETTE)])


def _accuracy(label: np.ndarray, truth: np.ndarray) -> float:
    valid = truth != 255
    return 100 * (label[valid] == truth[valid]).mean()


def test_remove_skips_panels_show_the_net_with_those_skips_zeroed(toy, tmp_path, monkeypatch):
    """Caffe padding: leaving a skip out equals zeroing its score layer exactly."""
    figures = record_saved_figures(monkeypatch)
    config, checkpoint = light_checkpoint(tmp_path, pad_mode='caffe')
    out = tmp_path / 'fig' / 'skips.png'
    load_tool('analysis_tools/visualize_skips').main(
        [
            str(toy[0]),
            '--configs',
            str(config),
            '--checkpoints',
            str(checkpoint),
            '--remove-skips',
            '--gt',
            str(toy[1]),
            '--out',
            str(out),
            '--device',
            'cpu',
        ]
    )
    assert out.is_file()
    model = copy.deepcopy(load_model(config, checkpoint))
    pipeline = build_inference_pipeline(model.cfg)
    image = read_image(toy[0])
    expected = [predict_labels(model, pipeline, [image])[0]]
    with torch.no_grad():
        for score in model.decode_head.skip_scores.values():  # pool3, then pool4 too
            for parameter in score.parameters():
                parameter.zero_()
            expected.insert(0, predict_labels(model, pipeline, [image])[0])
    truth = np.array(Image.open(toy[1]))
    panels = image_panels(figures[-1])
    names = ['FCN-8s without the stride-16, 8 skips', 'FCN-8s without the stride-8 skip', 'FCN-8s']
    titles = [title.split('\n')[0] for title, _ in panels]  # then the pixel accuracy
    assert titles == ['image', 'ground truth'] + names

    assert np.array_equal(panels[0][1], image[..., ::-1])
    assert np.array_equal(panels[1][1], _truth_colours(truth))
    for (title, shown), label in zip(panels[2:], expected):
        assert np.array_equal(shown, PALETTE[label]), title
        assert f'{_accuracy(label, truth):.1f}% pixel acc.' in title
    assert not np.array_equal(expected[0], expected[2])


def test_separate_checkpoints_give_one_panel_of_their_prediction_each(toy, tmp_path, monkeypatch):
    figures = record_saved_figures(monkeypatch)
    models = [light_checkpoint(tmp_path, v) for v in ('32s', '16s', '8s')]
    load_tool('analysis_tools/visualize_skips').main(
        [str(toy[0]), '--configs']
        + [str(c) for c, _ in models]
        + ['--checkpoints']
        + [str(k) for _, k in models]
        + ['--out', str(tmp_path / 'three.png'), '--device', 'cpu']
    )
    image = read_image(toy[0])
    panels = image_panels(figures[-1])
    assert [title for title, _ in panels] == ['image', 'FCN-32s', 'FCN-16s', 'FCN-8s']
    for (title, shown), (config, checkpoint) in zip(panels[1:], models):
        model = load_model(config, checkpoint)
        label = predict_labels(model, build_inference_pipeline(model.cfg), [image])[0]
        assert np.array_equal(shown, PALETTE[label]), title


def test_configs_and_checkpoints_must_pair_up(capsys):
    with pytest.raises(SystemExit, match='^2$'):  # argparse's usage error
        load_tool('analysis_tools/visualize_skips').parse_args(
            ['img.png', '--configs', 'a.py', 'b.py', '--checkpoints', 'a.pth']
        )
    assert '2 configs but 1 checkpoints' in capsys.readouterr().err
