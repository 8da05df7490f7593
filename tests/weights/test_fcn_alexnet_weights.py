"""'fcn-alexnet-pascal' by name: fetched from its table entry's URL (a loopback server
here), its first SHA-256 recorded, converted as the command line converts it, and
loaded by ``mmseg.apis.init_model``."""

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.apis import inference_model, init_model

from mmseg_fcn_skip.weights import WEIGHTS, fetch_checkpoint
from tests.helpers.caffemodel_writer import caffemodel
from tests.helpers.fcn_alexnet_reference import caffe_fcn_alexnet, reference_logits
from tests.helpers.weights_server import WeightsServer, sha256

REPO = Path(__file__).resolve().parents[2]
NAME = 'fcn-alexnet-pascal'
CONFIG = (
    REPO / 'configs/fcn_skip_caffe/fcn32s_alexnet-caffe_1xb1-acc20-2000k_seg11valid-fullsize.py'
)
PATH = f'{NAME}.caffemodel'
FC_CHANNELS = 16


@pytest.fixture(scope='module')
def weights():
    return caffe_fcn_alexnet(torch.Generator().manual_seed(3), fc_channels=FC_CHANNELS)


@pytest.fixture(scope='module')
def released_bytes(weights):
    types = dict.fromkeys((key.rsplit('.', 1)[0] for key in weights), 'Convolution')
    types['upscore'] = 'Deconvolution'
    return caffemodel(weights, types)


@pytest.fixture
def served(released_bytes, monkeypatch):
    """The table's entry, its URL pointed at a loopback server holding the file."""
    with WeightsServer({PATH: released_bytes}) as server:
        monkeypatch.setitem(WEIGHTS, NAME, replace(WEIGHTS[NAME], url=server.url(PATH)))
        yield server


def test_the_entry_names_the_released_file():
    entry = WEIGHTS[NAME]
    assert entry.url == 'http://dl.caffe.berkeleyvision.org/fcn-alexnet-pascal.caffemodel'
    assert (entry.layout, entry.variant, entry.convention) == ('caffe-fcn', '32s', 'caffe')
    assert entry.checksums == {} and 'no checksum published' in entry.note


def test_the_name_fetches_records_and_converts_like_the_cli(served, released_bytes, tmp_path):
    path = fetch_checkpoint(NAME, progress=False)
    record = json.loads(path.with_name(f'{NAME}.json').read_text())
    assert record['source_sha256'] == sha256(released_bytes)
    checkpoint = torch.load(path, weights_only=True)
    assert checkpoint['meta']['config'] == str(CONFIG.relative_to(REPO))
    assert checkpoint['meta']['dataset_meta']['classes'][0] == 'background'
    spec = importlib.util.spec_from_file_location(
        'caffe_fcn2mmseg', REPO / 'tools' / 'model_converters' / 'caffe_fcn2mmseg.py'
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    src, dst = tmp_path / PATH, tmp_path / 'cli.pth'
    src.write_bytes(released_bytes)
    tool.main([str(src), str(dst)])
    cli = torch.load(dst, weights_only=True)
    assert cli['meta'] == checkpoint['meta']
    assert cli['state_dict'].keys() == checkpoint['state_dict'].keys()
    assert all(torch.equal(cli['state_dict'][k], v) for k, v in checkpoint['state_dict'].items())
    assert served.requests == {PATH: 1}


def test_init_model_loads_the_name(served, weights):
    cfg = Config.fromfile(str(CONFIG))
    cfg.model.backbone.fc_channels = FC_CHANNELS
    cfg.model.decode_head.in_channels = (FC_CHANNELS,)
    model = init_model(cfg, NAME, device='cpu')
    assert model.dataset_meta['classes'][15] == 'person'
    image = np.random.default_rng(2).integers(0, 256, (40, 33, 3), dtype=np.uint8)
    mean = np.array([104.00699, 116.66877, 122.67892])
    with torch.no_grad():
        logits = inference_model(model, image).seg_logits.data
        expected = reference_logits(
            weights, torch.from_numpy(image - mean).float().permute(2, 0, 1)[None]
        )[0]
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4 * expected.abs().max())
