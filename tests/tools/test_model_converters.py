"""The converter command lines: --help, SRC -> DST, printed hints, errors."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from tests.helpers.caffemodel_writer import caffemodel
from tests.helpers.reference_nets import caffe_vgg16, fcn_head, torchvision_vgg

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = REPO_ROOT / 'tools' / 'model_converters'


def _tool(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    'name, phrases',
    [
        (
            'torchvision_vgg2mmseg',
            [
                'SRC',
                'DST',
                'bgr_to_rgb=True',
                'mean=[123.675, 116.28, 103.53]',
                'std=[58.395',
                '--caffe-input',
            ],
        ),
        ('caffe_vgg2mmseg', ['SRC', 'DST', 'bgr_to_rgb=False', '104.00699', 'BGR']),
        ('caffe_fcn2mmseg', ['SRC', 'DST', '--variant', '--learn-upsample', '8s-atonce']),
    ],
)
def test_help(capsys, name, phrases):
    with pytest.raises(SystemExit, match='^0$'):
        _tool(name).main(['--help'])
    text = capsys.readouterr().out
    for phrase in phrases:
        assert phrase in text


def test_help_as_a_script():
    result = subprocess.run(
        [sys.executable, str(TOOLS / 'caffe_fcn2mmseg.py'), '--help'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert 'usage: caffe_fcn2mmseg.py [-h]' in result.stdout


def _preprocessor(config: str) -> dict:
    settings = Config.fromfile(str(REPO_ROOT / config)).model.data_preprocessor
    return {key: settings[key] for key in ('bgr_to_rgb', 'mean', 'std')}


@pytest.mark.parametrize(
    'name, src, config',
    [
        (
            'torchvision_vgg2mmseg',
            lambda: torchvision_vgg(16, False, fc_channels=8),
            'configs/_base_/models/fcn8s_vgg16.py',
        ),
        (
            'caffe_vgg2mmseg',
            lambda: caffe_vgg16(torch.Generator().manual_seed(0), 8),
            'configs/fcn_skip_caffe/fcn32s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py',
        ),
    ],
)
def test_help_states_the_preprocessor_written_and_used(tmp_path, capsys, name, src, config):
    """The settings the help text names are those written into the checkpoint's meta,
    which are those of the configs made for the weights."""
    torch.save(src(), tmp_path / 'src.pth')
    _tool(name).main([str(tmp_path / 'src.pth'), str(tmp_path / 'dst.pth')])
    written = torch.load(tmp_path / 'dst.pth', weights_only=True)['meta']['data_preprocessor']
    assert written == _preprocessor(config)
    with pytest.raises(SystemExit, match='^0$'):
        _tool(name).main(['--help'])
    help_text = ' '.join(capsys.readouterr().out.split())
    assert f'bgr_to_rgb={written["bgr_to_rgb"]}, mean={written["mean"]}' in help_text


def test_torchvision_cli(tmp_path, capsys):
    src, dst = tmp_path / 'vgg11_bn.pth', tmp_path / 'out' / 'vgg.pth'
    weights = torchvision_vgg(11, True)
    torch.save(weights, src)
    _tool('torchvision_vgg2mmseg').main([str(src), str(dst)])
    checkpoint = torch.load(dst, weights_only=True)
    state_dict = checkpoint['state_dict']
    assert 'blocks.7.0.bn.running_mean' not in state_dict
    # VGG11-BN: features.8 (its BN at 9) is the first conv of the third block.
    assert torch.equal(state_dict['blocks.2.0.conv.weight'], weights['features.8.weight'])
    torch.testing.assert_close(
        state_dict['blocks.2.0.bn.running_mean'],
        weights['features.9.running_mean'] - weights['features.8.bias'],
    )
    assert checkpoint['meta']['backbone']['norm_cfg'] == dict(type='BN')
    assert checkpoint['meta']['data_preprocessor'] == _preprocessor(
        'configs/_base_/models/fcn8s_vgg16.py'
    )
    assert 'ImageNet VGG11-BN, torchvision input convention' in capsys.readouterr().out
    _tool('torchvision_vgg2mmseg').main([str(src), str(dst), '--caffe-input'])
    meta = torch.load(dst, weights_only=True)['meta']
    assert meta['data_preprocessor'] == _preprocessor(
        'configs/fcn_skip_caffe/fcn8s_vgg16-caffe_4xb4-40k_voc12aug-512x512.py'
    )


def test_caffe_vgg_cli_reads_caffemodels(tmp_path, capsys):
    weights = caffe_vgg16(torch.Generator().manual_seed(0), fc_channels=8)
    src, dst = tmp_path / 'vgg16.caffemodel', tmp_path / 'vgg16.pth'
    src.write_bytes(
        caffemodel(weights, dict.fromkeys((k.rsplit('.', 1)[0] for k in weights), 'Convolution'))
    )
    _tool('caffe_vgg2mmseg').main([str(src), str(dst)])
    checkpoint = torch.load(dst, weights_only=True)
    assert len(checkpoint['state_dict']) == 30
    assert torch.equal(
        checkpoint['state_dict']['blocks.1.1.conv.weight'], weights['conv2_2.weight']
    )
    assert checkpoint['meta']['backbone']['fc_channels'] == 8
    assert 'ImageNet VGG16, caffe input convention' in capsys.readouterr().out


def test_caffe_fcn_cli(tmp_path, capsys):
    generator = torch.Generator().manual_seed(0)
    weights = dict(
        caffe_vgg16(generator, fc_channels=8),
        **fcn_head('16s', 21, generator, learned_upscores=True, fc_channels=8),
    )
    src, dst = tmp_path / 'fcn16s.pth', tmp_path / 'fcn16s_mmseg.pth'
    torch.save({'model_state_dict': weights, 'epoch': 3}, src)
    tool = _tool('caffe_fcn2mmseg')
    with pytest.raises(ValueError, match='--learn-upsample'):
        tool.main([str(src), str(dst)])
    assert not dst.exists()
    tool.main([str(src), str(dst), '--learn-upsample'])
    checkpoint = torch.load(dst, weights_only=True)
    assert torch.equal(
        checkpoint['state_dict']['decode_head.final_upsample.weight'], weights['upscore16.weight']
    )
    assert checkpoint['meta']['variant'] == '16s'
    out = capsys.readouterr().out
    assert 'FCN-16s, 21 classes' in out
    assert (
        'python tools/test.py '
        'configs/fcn_skip_caffe/fcn16s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py '
        f'{dst} --cfg-options model.decode_head.learn_upsample=True'
    ) in out


def test_caffe_fcn_cli_at_once_variant(tmp_path, capsys):
    generator = torch.Generator().manual_seed(1)
    weights = dict(
        caffe_vgg16(generator, fc_channels=8), **fcn_head('8s', 21, generator, fc_channels=8)
    )
    src, dst = tmp_path / 'fcn8s-atonce.pth', tmp_path / 'atonce.pth'
    torch.save(weights, src)
    _tool('caffe_fcn2mmseg').main([str(src), str(dst), '--variant', '8s-atonce'])
    assert torch.load(dst, weights_only=True)['meta']['variant'] == '8s-atonce'
    assert (
        'configs/fcn_skip_caffe/fcn8s-atonce_vgg16-caffe_1xb1-300k_seg11valid-fullsize.py'
        in capsys.readouterr().out
    )
