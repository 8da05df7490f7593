import pytest
from analysis_lib.benchmark.flops import FLOP_CONVENTION, model_complexity
from mmengine.config import Config

from tests.helpers.light_models import VGG11_BACKBONE, write_config
from tests.helpers.processes import load_tool


def test_get_flops_prints_the_counts_of_the_model(tmp_path, capsys):
    config = write_config(tmp_path, pad_mode='caffe', backbone=VGG11_BACKBONE)
    result = load_tool('analysis_tools/get_flops').main([str(config), '--shape', '101', '67'])
    printed = capsys.readouterr().out
    assert result == model_complexity(Config.fromfile(config), (101, 67))
    assert 'Input shape: 3 x 101 x 67' in printed
    assert f'FLOPs: {result["flops"] / 1e9:.2f} GFLOP ({FLOP_CONVENTION})' in printed
    assert '1 multiply-add = 2 FLOPs' in printed
    assert 'Params: 0.25 M' in printed


def test_one_size_is_a_square_and_overrides_apply(tmp_path, capsys):
    config = write_config(tmp_path, backbone=VGG11_BACKBONE)
    get_flops = load_tool('analysis_tools/get_flops')
    square = get_flops.main([str(config), '--shape', '64'])
    assert 'Input shape: 3 x 64 x 64' in capsys.readouterr().out
    wider = get_flops.main(
        [str(config), '--shape', '64', '64', '--cfg-options', 'model.decode_head.num_classes=21']
    )
    # 16 more classes, each with a weight and a bias in the three 1x1 score layers,
    # which read fc7 (32 channels), pool3 (32) and pool4 (64).
    assert wider['params'] - square['params'] == 16 * (33 + 33 + 65)


def test_the_default_input_is_512_by_512(tmp_path, capsys):
    config = write_config(tmp_path, backbone=VGG11_BACKBONE)
    result = load_tool('analysis_tools/get_flops').main([str(config)])
    assert 'Input shape: 3 x 512 x 512' in capsys.readouterr().out
    assert result == model_complexity(Config.fromfile(config), (512, 512))


def test_shape_takes_one_or_two_sizes(tmp_path, capsys):
    with pytest.raises(SystemExit, match='^2$'):  # argparse's usage error
        load_tool('analysis_tools/get_flops').parse_args(['c.py', '--shape', '1', '2', '3'])

    assert '--shape takes H W or one size, got 3 numbers' in capsys.readouterr().err


def test_counts_are_printed_in_giga_flops_and_millions_of_parameters(tmp_path, capsys, monkeypatch):
    config = write_config(tmp_path, backbone=VGG11_BACKBONE)
    get_flops = load_tool('analysis_tools/get_flops')
    # large enough that a divisor off by one would show in the printed digits
    counts = dict(flops=9_876_543_210_987_654_321, params=12_345_678_901)
    monkeypatch.setattr(get_flops, 'model_complexity', lambda cfg, shape: counts)
    get_flops.main([str(config), '--shape', '64'])
    printed = capsys.readouterr().out
    assert f'FLOPs: 9876543210.99 GFLOP ({FLOP_CONVENTION})' in printed
    assert 'Params: 12345.68 M' in printed
