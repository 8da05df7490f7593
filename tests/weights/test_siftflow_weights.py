"""The released SIFT Flow nets by name: fetched from a loopback server (through
``FCN_WEIGHTS_MIRROR``), converted on first use into both heads, and loaded by name
into their configs."""

import pytest
import torch

from mmseg_fcn_skip.apis import load_model
from mmseg_fcn_skip.checkpoints.converters.released import RELEASED_NETS
from mmseg_fcn_skip.datasets import SIFTFLOW_CLASSES, SIFTFLOW_GEO_CLASSES
from mmseg_fcn_skip.utils import packaged_config
from mmseg_fcn_skip.weights import WEIGHTS, fetch_checkpoint
from tests.helpers.caffemodel_writer import caffemodel
from tests.helpers.reference_nets import UPSCORES, caffe_vgg16, siftflow_weights
from tests.helpers.weights_server import WeightsServer

FC = 8
IN_CHANNELS = {'32s': [FC], '16s': [512, FC], '8s': [256, 512, FC]}
VARIANTS = ('32s', '16s', '8s')


def released_file(variant: str, seed: int = 0) -> bytes:
    """A light ``.caffemodel`` with the layer names of ``siftflow-fcn<variant>-heavy``."""
    generator = torch.Generator().manual_seed(seed)
    weights = siftflow_weights(caffe_vgg16(generator, fc_channels=FC), variant, generator, FC)
    types = {key.rsplit('.', 1)[0]: 'Convolution' for key in weights}
    for name in UPSCORES[variant]:
        types.update({f'{name}_sem': 'Deconvolution', f'{name}_geo': 'Deconvolution'})
    return caffemodel(weights, types)


@pytest.fixture
def mirror(monkeypatch):
    files = {
        f'mirror/siftflow-fcn{variant}-heavy.caffemodel': released_file(variant)
        for variant in VARIANTS
    }
    with WeightsServer(files) as server:
        monkeypatch.setenv('FCN_WEIGHTS_MIRROR', server.url('mirror/'))
        yield server


@pytest.mark.parametrize('variant', VARIANTS)
def test_each_name_fetches_converts_and_loads(mirror, variant):
    name = f'siftflow-fcn{variant}-heavy'
    entry = WEIGHTS[name]
    assert entry.url == f'http://dl.caffe.berkeleyvision.org/{name}.caffemodel'
    assert entry.variant == variant and entry.checksums == {}
    meta = torch.load(fetch_checkpoint(name, progress=False), weights_only=True)['meta']
    assert meta['net'] == name and meta['config'] == 'configs/' + RELEASED_NETS[name].config
    options = {
        'model.backbone.fc_channels': FC,
        'model.backbone.init_cfg': None,
        'model.decode_head.in_channels': IN_CHANNELS[variant],
        'model.task_heads.geo.in_channels': IN_CHANNELS[variant],
    }
    model = load_model(packaged_config(RELEASED_NETS[name].config), name, cfg_options=options)
    assert model.dataset_meta['classes'] == SIFTFLOW_CLASSES
    assert tuple(model.dataset_meta['task_classes']['geo']) == SIFTFLOW_GEO_CLASSES
    assert mirror.requests == {f'mirror/{name}.caffemodel': 1}
    assert model.task_heads['geo'].conv_seg.weight.shape[0] == len(SIFTFLOW_GEO_CLASSES)
