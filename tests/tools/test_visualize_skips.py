import pytest
from PIL import Image

from light_fcn import light_model, load_tool
from mmseg_fcn_skip.datasets import generate_toy_shapes


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = generate_toy_shapes(tmp_path_factory.mktemp('toy'), num_train=0, num_val=1)
    return root / 'img_dir' / 'val' / 'val_00000.png', root / 'ann_dir' / 'val' / \
        'val_00000.png'


def test_one_fcn8s_checkpoint_gives_three_panels_and_the_truth(toy, tmp_path, capsys):
    config, checkpoint = light_model(tmp_path)
    out = tmp_path / 'fig' / 'skips.png'
    load_tool('visualize_skips').main([
        str(toy[0]), '--configs', str(config), '--checkpoints', str(checkpoint),
        '--gt', str(toy[1]), '--out', str(out), '--device', 'cpu'])
    assert 'Saved FCN-32s, FCN-16s, FCN-8s' in capsys.readouterr().out
    width, height = Image.open(out).size
    assert width > 4 * height  # image, ground truth and three predictions in a row


def test_three_checkpoints_give_one_panel_each(toy, tmp_path, capsys):
    models = [light_model(tmp_path, pad_mode='caffe', num_levels=k) for k in (1, 2, 3)]
    out = tmp_path / 'three.png'
    load_tool('visualize_skips').main(
        [str(toy[0]), '--configs'] + [str(c) for c, _ in models] + ['--checkpoints'] +
        [str(k) for _, k in models] + ['--out', str(out), '--device', 'cpu'])
    assert 'Saved FCN-32s, FCN-16s, FCN-8s' in capsys.readouterr().out
    width, height = Image.open(out).size
    assert 3 * height < width < 5 * height  # no ground truth: four panels


def test_configs_and_checkpoints_must_pair_up(capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_tool('visualize_skips').parse_args(
            ['img.png', '--configs', 'a.py', 'b.py', '--checkpoints', 'a.pth'])
    assert exit_info.value.code == 2
    assert '2 configs but 1 checkpoints' in capsys.readouterr().err
