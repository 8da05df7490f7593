"""fetch_checkpoint(): first use downloads, checks and converts; later uses read the
cache; every failure leaves nothing half-done in place and says what to do."""

import hashlib
import importlib.util
import json
import multiprocessing
from pathlib import Path

import pytest
import torch

from mmseg_fcn_skip.checkpoints import CAFFE_FCN, TORCHVISION_VGG
from mmseg_fcn_skip.weights import (
    WEIGHTS,
    WeightsEntry,
    WeightsError,
    cache_paths,
    fetch_checkpoint,
    resolve_checkpoint,
)
from mmseg_fcn_skip.weights import download as download_module
from tests.helpers.weights_server import STALL, TRUNCATE, WeightsServer, closed_port, sha256

REPO = Path(__file__).resolve().parents[2]
VGG, FCN = 'models/vgg11-light.pth', 'models/fcn32s-light.caffemodel'


@pytest.fixture
def server(vgg11_bytes, fcn32s_bytes):
    with WeightsServer({VGG: vgg11_bytes, FCN: fcn32s_bytes}) as server:
        yield server


@pytest.fixture
def entries(server, vgg11_bytes, fcn32s_bytes, monkeypatch):
    """Table entries for the served files, with their checksums registered."""
    vgg = WeightsEntry(
        url=server.url(VGG),
        layout=TORCHVISION_VGG,
        checksums=dict(sha256=sha256(vgg11_bytes)),
        name='vgg11-light',
    )
    fcn = WeightsEntry(
        url=server.url(FCN),
        layout=CAFFE_FCN,
        convention='caffe',
        variant='32s',
        name='fcn32s-light',
        checksums=dict(
            sha1=hashlib.sha1(fcn32s_bytes).hexdigest(), md5=hashlib.md5(fcn32s_bytes).hexdigest()
        ),
    )
    for entry in (vgg, fcn):
        monkeypatch.setitem(WEIGHTS, entry.name, entry)
    return vgg, fcn


def cli_checkpoint(tool: str, data: bytes, filename: str, folder: Path) -> dict:
    """What ``tools/model_converters/<tool>.py`` writes for the file ``data``."""
    spec = importlib.util.spec_from_file_location(
        tool, REPO / 'tools' / 'model_converters' / f'{tool}.py'
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    src, dst = folder / filename, folder / f'{tool}_out.pth'
    src.write_bytes(data)
    module.main([str(src), str(dst)])
    return torch.load(dst, weights_only=True)


def assert_same_checkpoint(path: Path, expected: dict) -> None:
    checkpoint = torch.load(path, weights_only=True)
    assert checkpoint['meta'] == expected['meta']
    assert list(checkpoint['state_dict']) == list(expected['state_dict'])
    for key, tensor in expected['state_dict'].items():
        assert torch.equal(checkpoint['state_dict'][key], tensor), key


def flip_a_byte(data: bytes) -> bytes:
    """``data`` with the bits of its middle byte inverted, as disk damage would."""
    damaged = bytearray(data)
    damaged[len(damaged) // 2] ^= 0xFF
    return bytes(damaged)


def rejected_path(original: Path, data: bytes) -> Path:
    """Where a rejected file with content ``data`` is kept: beside ``original``."""
    return original.with_name(f'{original.name}.{sha256(data)[:12]}.rejected')


def hub_checkpoints(tmp_path: Path) -> Path:
    return tmp_path / 'torch_home' / 'hub' / 'checkpoints'


def test_first_use_downloads_into_torch_home_and_converts_like_the_clis(
    entries, server, vgg11_bytes, fcn32s_bytes, tmp_path
):
    checkpoint = fetch_checkpoint('vgg11-light', progress=False)
    cache = hub_checkpoints(tmp_path)
    assert checkpoint == cache / 'mmseg_fcn_skip' / 'vgg11-light_mmseg.pth'
    assert (cache / 'vgg11-light.pth').read_bytes() == vgg11_bytes
    assert_same_checkpoint(
        checkpoint,
        cli_checkpoint('torchvision_vgg2mmseg', vgg11_bytes, 'vgg11-light.pth', tmp_path),
    )
    fcn = fetch_checkpoint('fcn32s-light', progress=False)
    assert_same_checkpoint(
        fcn, cli_checkpoint('caffe_fcn2mmseg', fcn32s_bytes, 'fcn32s-light.caffemodel', tmp_path)
    )
    record = json.loads((cache / 'mmseg_fcn_skip' / 'fcn32s-light.json').read_text())
    assert record['source_sha256'] == sha256(fcn32s_bytes)
    assert record['checkpoint_sha256'] == sha256(fcn.read_bytes())
    assert server.requests == {VGG: 1, FCN: 1}


def test_later_uses_read_the_cache_without_the_network(entries, server):
    first = fetch_checkpoint('vgg11-light', progress=False)
    server.stop()
    assert fetch_checkpoint('vgg11-light', progress=False) == first
    assert resolve_checkpoint(entries[0].url) == str(first)
    assert server.requests == {VGG: 1}


def test_local_paths_pass_unchanged_even_when_named_like_weights(
    entries, server, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    Path('vgg11-light').write_bytes(b'a local file')
    assert resolve_checkpoint('vgg11-light') == 'vgg11-light'
    assert resolve_checkpoint('checkpoints/missing.pth') == 'checkpoints/missing.pth'
    assert server.requests == {}


def test_without_network_the_error_says_where_to_put_the_file(tmp_path, monkeypatch):
    port = closed_port()
    monkeypatch.setenv('FCN_WEIGHTS_MIRROR', f'http://127.0.0.1:{port}/')
    with pytest.raises(WeightsError, match='cannot download') as error:
        fetch_checkpoint('vgg16', progress=False)
    message = str(error.value)
    cache = hub_checkpoints(tmp_path)
    assert f'cannot download http://127.0.0.1:{port}/vgg16-397923af.pth' in message
    assert 'was refused' in message
    assert (
        f'download https://download.pytorch.org/models/vgg16-397923af.pth elsewhere '
        f'and put it at {cache / "vgg16-397923af.pth"} (it is checked against '
        'sha256 397923af)'
    ) in message
    assert (
        'python tools/model_converters/torchvision_vgg2mmseg.py vgg16-397923af.pth '
        "checkpoints/vgg16-397923af_mmseg.pth` and give that path instead of 'vgg16'"
    ) in message
    with pytest.raises(WeightsError, match='no checksum is published for it') as error:
        fetch_checkpoint('fcn16s-heavy-pascal', progress=False)
    assert 'tools/model_converters/caffe_fcn2mmseg.py fcn16s-heavy-pascal.caffemodel' in str(
        error.value
    )
    assert not cache.exists() or not any(cache.glob('*.*'))


def test_a_file_put_in_the_cache_by_hand_is_checked_and_used(
    entries, server, vgg11_bytes, tmp_path
):
    cache = hub_checkpoints(tmp_path)
    cache.mkdir(parents=True)
    (cache / 'vgg11-light.pth').write_bytes(vgg11_bytes)
    server.stop()
    checkpoint = fetch_checkpoint('vgg11-light', progress=False)
    assert checkpoint.name == 'vgg11-light_mmseg.pth' and server.requests == {}


@pytest.mark.parametrize(
    'failure, match',
    [
        (404, 'HTTP 404'),
        (403, 'HTTP 403'),
        (TRUNCATE, 'cut short'),
        (STALL, r'did not answer within 0.4 s \(timed out\)'),
    ],
)
def test_failed_downloads_leave_no_file(entries, server, tmp_path, monkeypatch, failure, match):
    monkeypatch.setattr(download_module, 'DOWNLOAD_TIMEOUT', 0.4)
    server.failures[VGG] = failure
    with pytest.raises(WeightsError, match=match) as error:
        fetch_checkpoint('vgg11-light', progress=False)
    assert server.url(VGG) in str(error.value)
    assert str(cache_paths(entries[0]).original) in str(error.value)
    cache = hub_checkpoints(tmp_path)
    assert sorted(p.name for p in cache.rglob('*') if p.is_file()) == ['vgg11-light.lock']


def test_a_checksum_mismatch_is_kept_aside_and_not_used(
    entries, server, vgg11_bytes, tmp_path, monkeypatch
):
    wrong = WeightsEntry(
        url=entries[0].url,
        layout=TORCHVISION_VGG,
        name='vgg11-light',
        checksums=dict(sha256='0123abcd'),
    )
    monkeypatch.setitem(WEIGHTS, 'vgg11-light', wrong)
    actual = sha256(vgg11_bytes)
    with pytest.raises(WeightsError, match=f'sha256 expected 0123abcd, got {actual}'):
        fetch_checkpoint('vgg11-light', progress=False)
    cache = hub_checkpoints(tmp_path)
    assert sorted(p.name for p in cache.glob('*')) == [
        'mmseg_fcn_skip',
        rejected_path(cache / 'vgg11-light.pth', vgg11_bytes).name,
    ]
    assert not (cache / 'mmseg_fcn_skip' / 'vgg11-light.json').exists()


def test_a_damaged_converted_checkpoint_is_reported_then_rebuilt_offline(entries, server):
    checkpoint = fetch_checkpoint('vgg11-light', progress=False)
    good = checkpoint.read_bytes()
    damaged = flip_a_byte(good)
    checkpoint.write_bytes(damaged)
    server.stop()
    with pytest.raises(WeightsError, match='is damaged') as error:
        fetch_checkpoint('vgg11-light', progress=False)
    message = str(error.value)
    assert f'the cached file {checkpoint} (from {entries[0].url}) is damaged' in message
    assert f'sha256 expected {sha256(good)}, got {sha256(damaged)}' in message
    aside = rejected_path(checkpoint, damaged)
    assert aside.read_bytes() == damaged and f'moved aside to {aside}' in message
    assert fetch_checkpoint('vgg11-light', progress=False).read_bytes() == good
    assert server.requests == {VGG: 1}


def test_a_damaged_download_in_the_cache_is_reported_then_fetched_again(
    entries, server, vgg11_bytes
):
    paths = cache_paths(entries[0])
    converted = fetch_checkpoint('vgg11-light', progress=False).read_bytes()
    paths.converted.unlink()
    paths.original.write_bytes(flip_a_byte(vgg11_bytes))
    with pytest.raises(WeightsError, match='is damaged: sha256 expected') as error:
        fetch_checkpoint('vgg11-light', progress=False)
    assert 'Run again to download it afresh' in str(error.value)
    assert not paths.original.exists()
    assert fetch_checkpoint('vgg11-light', progress=False).read_bytes() == converted
    assert server.requests == {VGG: 2}


def test_without_a_published_checksum_the_first_sha256_is_recorded_and_checked(
    entries, server, vgg11_bytes, monkeypatch
):
    unchecked = WeightsEntry(url=entries[0].url, layout=TORCHVISION_VGG, name='vgg11-light')
    monkeypatch.setitem(WEIGHTS, 'vgg11-light', unchecked)
    paths = cache_paths(unchecked)
    fetch_checkpoint('vgg11-light', progress=False)
    assert json.loads(paths.record.read_text())['source_sha256'] == sha256(vgg11_bytes)
    paths.converted.unlink()
    paths.original.write_bytes(flip_a_byte(vgg11_bytes))
    with pytest.raises(WeightsError, match=f'sha256 expected {sha256(vgg11_bytes)}'):
        fetch_checkpoint('vgg11-light', progress=False)


def assert_moved_aside(message: str, original: Path, data: bytes) -> None:
    """The file is gone from its place and kept, unchanged, where the message says."""
    aside = rejected_path(original, data)
    assert f'It was moved aside to {aside} (no checksum is published' in message
    assert not original.exists() and aside.read_bytes() == data


def test_an_unchecked_file_that_does_not_convert_is_moved_aside(
    entries, server, fcn32s_bytes, monkeypatch
):
    wrong_layout = WeightsEntry(url=entries[1].url, layout=TORCHVISION_VGG, name='odd')
    monkeypatch.setitem(WEIGHTS, 'odd', wrong_layout)
    with pytest.raises(
        WeightsError,
        match='does not convert into a checkpoint of the '
        'plugin: .*torchvision VGG.*It was moved aside',
    ) as error:
        fetch_checkpoint('odd', progress=False)
    assert_moved_aside(str(error.value), cache_paths(wrong_layout).original, fcn32s_bytes)


def test_an_unchecked_file_that_is_no_checkpoint_at_all_is_moved_aside(server, monkeypatch):
    page = b'<html>a login page</html>'
    server.files['models/garbage.pth'] = page
    garbage = WeightsEntry(
        url=server.url('models/garbage.pth'), layout=TORCHVISION_VGG, name='garbage'
    )
    monkeypatch.setitem(WEIGHTS, 'garbage', garbage)
    with pytest.raises(
        WeightsError,
        match='garbage.pth .*does not convert into a '
        'checkpoint of the plugin: .*garbage.pth is not a PyTorch '
        'checkpoint. It was moved aside',
    ) as error:
        fetch_checkpoint('garbage', progress=False)
    assert_moved_aside(str(error.value), cache_paths(garbage).original, page)


def test_other_urls_are_recognised_by_their_keys(server, vgg11_bytes, tmp_path):
    named = f'models/vgg11-{sha256(vgg11_bytes)[:8]}.pth'
    plugin = {'state_dict': {'backbone.fc7.conv.bias': torch.ones(3)}, 'meta': {}}
    plugin_path = tmp_path / 'plugin.pth'
    torch.save(plugin, plugin_path)
    server.files[named] = vgg11_bytes
    server.files['models/plugin.pth'] = plugin_path.read_bytes()
    converted = torch.load(fetch_checkpoint(server.url(named), progress=False))
    assert 'blocks.0.0.conv.weight' in converted['state_dict']
    assert converted['meta']['source'] == 'ImageNet VGG11, torchvision input convention'
    as_is = fetch_checkpoint(server.url('models/plugin.pth'), progress=False)
    assert as_is == hub_checkpoints(tmp_path) / 'plugin.pth'
    assert torch.equal(torch.load(as_is)['state_dict']['backbone.fc7.conv.bias'], torch.ones(3))


def test_the_mirror_variable_sends_every_download_to_its_prefix(server, vgg11_bytes, monkeypatch):
    away = WeightsEntry(
        url=f'http://127.0.0.1:{closed_port()}/models/vgg11-light.pth',
        layout=TORCHVISION_VGG,
        name='vgg11-light',
        checksums=dict(sha256=sha256(vgg11_bytes)),
    )
    monkeypatch.setitem(WEIGHTS, 'vgg11-light', away)
    server.files['mirror/vgg11-light.pth'] = vgg11_bytes
    monkeypatch.setenv('FCN_WEIGHTS_MIRROR', server.url('mirror'))
    fetch_checkpoint('vgg11-light', progress=False)
    assert server.requests == {'mirror/vgg11-light.pth': 1}
    monkeypatch.setenv('FCN_WEIGHTS_MIRROR', 'mirror.local/models/')
    with pytest.raises(
        WeightsError, match="FCN_WEIGHTS_MIRROR='mirror.local/models/' is not an http"
    ):
        fetch_checkpoint(f'http://127.0.0.1:{closed_port()}/other.pth', progress=False)


def test_unknown_names_are_not_found():
    with pytest.raises(
        FileNotFoundError,
        match="'vgg17' is neither a checkpoint file "
        'nor a name of the published weights .*vgg16, vgg16_bn',
    ):
        fetch_checkpoint('vgg17')


def _fetch_in_child(name: str, queue) -> None:
    queue.put(str(fetch_checkpoint(name, progress=False)))


def test_processes_starting_at_once_download_once(entries, server):
    server.delay = 1.0  # both processes are waiting while the first downloads
    context = multiprocessing.get_context('fork')
    queue = context.Queue()
    children = [
        context.Process(target=_fetch_in_child, args=('vgg11-light', queue)) for _ in range(2)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0, 0]
    results = {queue.get(timeout=5) for _ in children}
    assert results == {str(cache_paths(entries[0]).converted)}
    assert server.requests == {VGG: 1}
