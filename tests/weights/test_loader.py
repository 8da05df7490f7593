"""mmengine's checkpoint loading takes short names and URLs through the plugin."""

import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader, load_from_local
from mmseg.registry import MODELS

from mmseg_fcn_skip.checkpoints import TORCHVISION_VGG
from mmseg_fcn_skip.weights import WEIGHTS, WeightsEntry, fetch_checkpoint
from mmseg_fcn_skip.weights.loader import load_from_fcn_weights
from tests.helpers.weights_server import WeightsServer, sha256

VGG = 'models/vgg11-light.pth'


@pytest.fixture
def server(vgg11_bytes, monkeypatch):
    with WeightsServer({VGG: vgg11_bytes}) as server:
        monkeypatch.setitem(
            WEIGHTS,
            'vgg11-light',
            WeightsEntry(
                url=server.url(VGG),
                layout=TORCHVISION_VGG,
                name='vgg11-light',
                checksums=dict(sha256=sha256(vgg11_bytes)),
            ),
        )
        yield server


def _pretrained_backbone(checkpoint: str):
    backbone = MODELS.build(
        dict(
            type='FullyConvVGG',
            depth=11,
            fc_channels=64,
            init_cfg=dict(type='Pretrained', checkpoint=checkpoint),
        )
    )
    backbone.init_weights()
    return backbone.state_dict()


@pytest.mark.parametrize('how', ['name', 'url'])
def test_pretrained_init_cfg_takes_a_name_or_url_and_converts(server, how):
    checkpoint = 'vgg11-light' if how == 'name' else server.url(VGG)
    loaded = _pretrained_backbone(checkpoint)
    converted = torch.load(fetch_checkpoint('vgg11-light'), weights_only=True)
    assert list(loaded) == list(converted['state_dict'])
    for key, tensor in converted['state_dict'].items():
        assert torch.equal(loaded[key], tensor), key
    assert server.requests == {VGG: 1}


def test_the_schemes_leave_paths_with_folders_or_extensions_to_mmengine():
    assert CheckpointLoader._get_checkpoint_loader('vgg16') is load_from_fcn_weights
    assert (
        CheckpointLoader._get_checkpoint_loader(
            'https://download.pytorch.org/models/vgg16-397923af.pth'
        )
        is load_from_fcn_weights
    )
    for path in ('checkpoints/vgg16.pth', 'vgg16.pth', '/abs/vgg16', 'work/iter_4'):
        assert CheckpointLoader._get_checkpoint_loader(path) is load_from_local


def test_a_local_file_named_like_a_short_name_is_read_as_before(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({'state_dict': {'w': torch.arange(3.0)}}, 'vgg16')
    checkpoint = CheckpointLoader.load_checkpoint('vgg16')
    assert torch.equal(checkpoint['state_dict']['w'], torch.arange(3.0))


def test_an_unknown_name_fails_like_a_missing_file():
    with pytest.raises(FileNotFoundError, match="'vgg_16' is neither a checkpoint file"):
        CheckpointLoader.load_checkpoint('vgg_16')
