"""The released colour-HHA late fusion net by name: fetched from a loopback server,
converted as the converter command line does and loaded into its config."""

import importlib.util
from pathlib import Path

import torch

from mmseg_fcn_skip.apis import load_model
from mmseg_fcn_skip.checkpoints.converters.released import RELEASED_NETS
from mmseg_fcn_skip.utils import packaged_config
from mmseg_fcn_skip.weights import WEIGHTS, fetch_checkpoint
from tests.helpers.caffemodel_writer import caffemodel
from tests.helpers.reference_nets import two_stream_fcn32s
from tests.helpers.weights_server import WeightsServer

REPO = Path(__file__).resolve().parents[2]
NET = 'nyud-fcn32s-color-hha-heavy'
FC = 8


def released_file() -> bytes:
    """A light ``.caffemodel`` with the two-stream net's layer names (fc6/fc7 of 8)."""
    weights = two_stream_fcn32s(torch.Generator().manual_seed(0), 40, fc_channels=FC)
    types = {key.rsplit('.', 1)[0]: 'Convolution' for key in weights}
    types['upscore'] = 'Deconvolution'
    return caffemodel(weights, types)


def light_options():
    options = {}
    for stream in (0, 1):
        options[f'model.backbone.streams.{stream}.fc_channels'] = FC
        options[f'model.backbone.streams.{stream}.init_cfg'] = None
        options[f'model.decode_head.streams.{stream}.in_channels'] = [FC]
        options[f'model.decode_head.streams.{stream}.init_cfg'] = None
    return options


def converter_cli(src: Path, dst: Path) -> dict:
    path = REPO / 'tools' / 'model_converters' / 'caffe_fcn2mmseg.py'
    spec = importlib.util.spec_from_file_location('caffe_fcn2mmseg', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([str(src), str(dst)])
    return torch.load(dst, weights_only=True)


def test_the_name_resolves_converts_like_the_cli_and_loads(tmp_path, monkeypatch, capsys):
    entry = WEIGHTS[NET]
    assert entry.url == f'http://dl.caffe.berkeleyvision.org/{NET}.caffemodel'
    assert entry.variant == '32s' and entry.checksums == {}
    data = released_file()
    with WeightsServer({f'mirror/{NET}.caffemodel': data}) as server:
        monkeypatch.setenv('FCN_WEIGHTS_MIRROR', server.url('mirror/'))
        checkpoint = torch.load(fetch_checkpoint(NET, progress=False), weights_only=True)
        assert server.requests == {f'mirror/{NET}.caffemodel': 1}
    meta = checkpoint['meta']
    assert meta['net'] == NET and meta['config'] == 'configs/' + RELEASED_NETS[NET].config
    # The command line recognises the file without --net: no other net has two streams.
    src = tmp_path / f'{NET}.caffemodel'
    src.write_bytes(data)
    cli = converter_cli(src, tmp_path / 'cli.pth')
    assert cli['meta'] == meta
    assert all(torch.equal(cli['state_dict'][k], v) for k, v in checkpoint['state_dict'].items())
    out = capsys.readouterr().out
    assert f'released net {NET}' in out and 'input: streams color then hha' in out
    assert RELEASED_NETS[NET].config in out
    model = load_model(packaged_config(RELEASED_NETS[NET].config), NET, cfg_options=light_options())
    assert model.dataset_meta['classes'][0] == 'wall' and len(model.dataset_meta['classes']) == 40
    assert type(model.decode_head).__name__ == 'LateFusionHead'
