"""The released PASCAL-Context and NYUDv2 nets by name: fetched from a loopback server
(through ``FCN_WEIGHTS_MIRROR``), converted as the converter command line does, refused
when another net's file arrives, and refused by a config of another net."""

import importlib.util
from pathlib import Path

import pytest
import torch

from mmseg_fcn_skip.apis import load_model
from mmseg_fcn_skip.checkpoints import CheckpointError, verify_checkpoint
from mmseg_fcn_skip.checkpoints.converters.released import RELEASED_NETS
from mmseg_fcn_skip.utils import packaged_config
from mmseg_fcn_skip.weights import WEIGHTS, WeightsError, cache_paths, fetch_checkpoint
from tests.helpers.caffemodel_writer import caffemodel
from tests.helpers.reference_nets import caffe_vgg16, fcn_head
from tests.helpers.weights_server import WeightsServer, closed_port

REPO = Path(__file__).resolve().parents[2]
FC = 8
#: name -> (variant, released class count)
NETS = {
    'pascalcontext-fcn32s-heavy': ('32s', 60),
    'pascalcontext-fcn16s-heavy': ('16s', 60),
    'pascalcontext-fcn8s-heavy': ('8s', 60),
    'nyud-fcn32s-color-heavy': ('32s', 40),
    'nyud-fcn32s-hha-heavy': ('32s', 40),
}
UPSCORES = {
    '32s': ('upscore',),
    '16s': ('upscore2', 'upscore16'),
    '8s': ('upscore2', 'upscore_pool4', 'upscore8'),
}
IN_CHANNELS = {'32s': [FC], '16s': [512, FC], '8s': [256, 512, FC]}


def released_file(variant: str, num_classes: int, seed: int = 0) -> bytes:
    """A light ``.caffemodel`` with a released net's layer names (fc6/fc7 of 8)."""
    generator = torch.Generator().manual_seed(seed)
    weights = dict(
        caffe_vgg16(generator, fc_channels=FC),
        **fcn_head(variant, num_classes, generator, fc_channels=FC),
    )
    types = {key.rsplit('.', 1)[0]: 'Convolution' for key in weights}
    types.update(dict.fromkeys(UPSCORES[variant], 'Deconvolution'))
    return caffemodel(weights, types)


@pytest.fixture(scope='module')
def files():
    return {f'mirror/{name}.caffemodel': released_file(*shape) for name, shape in NETS.items()}


@pytest.fixture
def mirror(files, monkeypatch):
    with WeightsServer(files) as server:
        monkeypatch.setenv('FCN_WEIGHTS_MIRROR', server.url('mirror/'))
        yield server


def light_options(variant):
    return {
        'model.backbone.fc_channels': FC,
        'model.decode_head.in_channels': IN_CHANNELS[variant],
        'model.backbone.init_cfg': None,
    }


def converter_cli(src: Path, dst: Path, *options: str) -> dict:
    path = REPO / 'tools' / 'model_converters' / 'caffe_fcn2mmseg.py'
    spec = importlib.util.spec_from_file_location('caffe_fcn2mmseg', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([str(src), str(dst), *options])
    return torch.load(dst, weights_only=True)


@pytest.mark.parametrize('name', list(NETS))
def test_each_name_resolves_converts_like_the_cli_and_loads(mirror, files, tmp_path, name, capsys):
    entry = WEIGHTS[name]
    assert entry.url == f'http://dl.caffe.berkeleyvision.org/{name}.caffemodel'
    assert entry.checksums == {} and 'no checksum published' in entry.note
    path = fetch_checkpoint(name, progress=False)
    assert mirror.requests == {f'mirror/{name}.caffemodel': 1}
    checkpoint = torch.load(path, weights_only=True)
    meta = checkpoint['meta']
    assert meta['net'] == name and meta['config'] == 'configs/' + RELEASED_NETS[name].config
    # The command line names the NYUDv2 nets with --net, as the table entry does.
    src = tmp_path / f'{name}.caffemodel'
    src.write_bytes(files[f'mirror/{name}.caffemodel'])
    options = ['--net', name] if name.startswith('nyud') else []
    cli = converter_cli(src, tmp_path / 'cli.pth', *options)
    assert cli['meta'] == meta
    assert all(torch.equal(cli['state_dict'][k], v) for k, v in checkpoint['state_dict'].items())
    out = capsys.readouterr().out
    assert f'released net {name}' in out and RELEASED_NETS[name].config in out
    model = load_model(
        packaged_config(RELEASED_NETS[name].config),
        name,
        cfg_options=light_options(NETS[name][0]),
    )
    expected = 59 if name.startswith('pascalcontext') else 40
    assert len(model.dataset_meta['classes']) == expected
    assert model.dataset_meta['classes'][0] == ('aeroplane' if expected == 59 else 'wall')


def test_a_file_of_another_net_is_moved_aside_and_never_used(files, monkeypatch):
    # A 21-class PASCAL VOC file served under the NYUDv2 colour net's name.
    wrong = {'mirror/nyud-fcn32s-color-heavy.caffemodel': released_file('32s', 21)}
    with WeightsServer(wrong) as server:
        monkeypatch.setenv('FCN_WEIGHTS_MIRROR', server.url('mirror/'))
        with pytest.raises(WeightsError, match='nyud-fcn32s-color-heavy is an FCN-32s with 40'):
            fetch_checkpoint('nyud-fcn32s-color-heavy', progress=False)
    paths = cache_paths(WEIGHTS['nyud-fcn32s-color-heavy'])
    assert not paths.original.exists() and not paths.converted.exists()
    assert not paths.record.exists()
    assert list(paths.original.parent.glob('nyud-fcn32s-color-heavy.caffemodel.*.rejected'))


def test_the_cli_needs_the_name_of_a_nyud_net(files, tmp_path):
    src = tmp_path / 'nyud.caffemodel'
    src.write_bytes(files['mirror/nyud-fcn32s-hha-heavy.caffemodel'])
    with pytest.raises(ValueError, match='identical shapes but other inputs; name the net'):
        converter_cli(src, tmp_path / 'out.pth')
    assert not (tmp_path / 'out.pth').exists()


@pytest.mark.parametrize(
    'net, config, named',
    [
        ('nyud-fcn32s-color-heavy', 'nyud-fcn32s-hha-heavy', 'nyud-fcn32s-hha-heavy'),
        ('nyud-fcn32s-hha-heavy', 'nyud-fcn32s-color-heavy', 'nyud-fcn32s-color-heavy'),
        ('pascalcontext-fcn32s-heavy', 'fcn32s-heavy-pascal', 'fcn32s-heavy-pascal'),
        ('pascalcontext-fcn8s-heavy', 'fcn8s-heavy-pascal', 'fcn8s-heavy-pascal'),
    ],
)
def test_a_net_given_to_another_nets_config_is_refused_naming_both(mirror, net, config, named):
    variant = NETS[net][0]
    cfg = packaged_config(RELEASED_NETS[config].config)
    with pytest.raises(CheckpointError) as error:
        load_model(cfg, net, cfg_options=light_options(variant))
    message = str(error.value)
    assert f'holds the released net {net} ' in message
    assert f'the config builds the released net {named} ' in message
    assert f'Test it with configs/{RELEASED_NETS[net].config}' in message
    # tools/test.py checks the same before testing.
    from mmseg.apis import init_model

    model = init_model(cfg, None, device='cpu', cfg_options=light_options(variant))
    with pytest.raises(CheckpointError, match=f'holds the released net {net} '):
        verify_checkpoint(model, fetch_checkpoint(net, progress=False))


def test_without_network_the_fix_names_the_net_for_the_converter(monkeypatch):
    monkeypatch.setenv('FCN_WEIGHTS_MIRROR', f'http://127.0.0.1:{closed_port()}/')
    with pytest.raises(WeightsError, match='cannot download') as error:
        fetch_checkpoint('nyud-fcn32s-hha-heavy', progress=False)
    assert (
        'caffe_fcn2mmseg.py nyud-fcn32s-hha-heavy.caffemodel '
        'checkpoints/nyud-fcn32s-hha-heavy_mmseg.pth --net nyud-fcn32s-hha-heavy`'
    ) in str(error.value)


def test_a_net_given_a_config_with_another_mean_is_refused(mirror):
    # The PASCAL VOC FCN-32s config set to 40 classes: NYUDv2's shapes, Caffe's mean.
    cfg = packaged_config(RELEASED_NETS['fcn32s-heavy-pascal'].config)
    options = dict(light_options('32s'), **{'model.decode_head.num_classes': 40})
    with pytest.raises(CheckpointError) as error:
        load_model(cfg, 'nyud-fcn32s-color-heavy', cfg_options=options)
    message = str(error.value)
    assert 'holds the released net nyud-fcn32s-color-heavy (NYUDv2 (colour)' in message
    assert 'input BGR minus mean [116.19, 97.203, 92.318]' in message
    assert (
        'the config builds no released net (FCN-32s, 40 classes, input BGR minus mean '
        '[104.007, 116.669, 122.679])'
    ) in message
