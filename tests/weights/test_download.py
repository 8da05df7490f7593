"""download(): complete and checked, or nothing in place; each failure says so."""

import hashlib

import pytest

from mmseg_fcn_skip.weights import WeightsError
from mmseg_fcn_skip.weights.download import checksum_mismatch, download, file_digests
from tests.helpers.weights_server import (
    STALL,
    STALL_MIDWAY,
    TRUNCATE,
    WeightsServer,
    closed_port,
)

DATA = bytes(range(256)) * 4099  # ~1 MiB: more than one read chunk
FIX = 'Fix: put the file there by hand.'


def _left_over(folder):
    return sorted(p.name for p in folder.iterdir())


def test_complete_download_with_its_digests(tmp_path):
    destination = tmp_path / 'cache' / 'w-0123abcd.pth'
    expected = dict(sha256=hashlib.sha256(DATA).hexdigest()[:8], md5=hashlib.md5(DATA).hexdigest())
    with WeightsServer({'w.pth': DATA}) as server:
        digests = download(server.url('w.pth'), destination, expected, FIX)
    assert destination.read_bytes() == DATA
    assert digests == dict(
        sha256=hashlib.sha256(DATA).hexdigest(),
        sha1=hashlib.sha1(DATA).hexdigest(),
        md5=hashlib.md5(DATA).hexdigest(),
    )
    assert file_digests(destination) == digests
    assert _left_over(destination.parent) == ['w-0123abcd.pth']


@pytest.mark.parametrize(
    'status, reason', [(404, 'no such file there'), (403, 'refuses to hand it out')]
)
def test_http_errors_name_the_url_status_and_fix(tmp_path, status, reason):
    with WeightsServer({'w.pth': DATA}) as server:
        server.failures['w.pth'] = status
        url = server.url('w.pth')
        with pytest.raises(WeightsError, match=f'HTTP {status}') as error:
            download(url, tmp_path / 'w.pth', {}, FIX)
    assert url in str(error.value) and reason in str(error.value)
    assert str(error.value).endswith(FIX)
    assert _left_over(tmp_path) == []


def test_refused_connection(tmp_path):
    url = f'http://127.0.0.1:{closed_port()}/w.pth'
    with pytest.raises(WeightsError, match='connection to 127.0.0.1:[0-9]+ was refused'):
        download(url, tmp_path / 'w.pth', {}, FIX)
    assert _left_over(tmp_path) == []


def test_no_answer_times_out(tmp_path):
    with WeightsServer({'w.pth': DATA}) as server:
        server.failures['w.pth'] = STALL
        with pytest.raises(WeightsError, match=r'did not answer within 0.3 s \(timed out\)'):
            download(server.url('w.pth'), tmp_path / 'w.pth', {}, FIX, timeout=0.3)
    assert _left_over(tmp_path) == []


def test_transfer_cut_short_keeps_nothing(tmp_path):
    with WeightsServer({'w.pth': DATA}) as server:
        server.failures['w.pth'] = TRUNCATE
        half = len(DATA) // 2
        with pytest.raises(WeightsError, match=f'cut short after {half} of {len(DATA)} '):
            download(server.url('w.pth'), tmp_path / 'w.pth', {}, FIX)
    assert _left_over(tmp_path) == []


def test_a_transfer_that_stops_midway_times_out_and_keeps_nothing(tmp_path):
    """Half the bytes, then silence: the read times out, and the error counts every
    byte that arrived."""
    with WeightsServer({'w.pth': DATA}) as server:
        server.failures['w.pth'] = STALL_MIDWAY
        url = server.url('w.pth')
        with pytest.raises(WeightsError) as error:
            download(url, tmp_path / 'w.pth', {}, FIX, timeout=0.3)
    assert str(error.value) == (
        f'the download of {url} was cut short after {len(DATA) // 2} of {len(DATA)} bytes '
        '(TimeoutError: timed out); the partial file was deleted. Run again to retry.\n'
        f'{FIX}'
    )
    assert _left_over(tmp_path) == []


def test_checksum_mismatch_moves_the_file_aside(tmp_path):
    wrong = hashlib.sha1(b'another file').hexdigest()
    actual = hashlib.sha1(DATA).hexdigest()
    with WeightsServer({'w.pth': DATA}) as server:
        with pytest.raises(WeightsError, match=f'sha1 expected {wrong}, got {actual}') as error:
            download(server.url('w.pth'), tmp_path / 'w.pth', dict(sha1=wrong), FIX)
    aside = tmp_path / f'w.pth.{hashlib.sha256(DATA).hexdigest()[:12]}.rejected'
    assert _left_over(tmp_path) == [aside.name]
    assert aside.read_bytes() == DATA
    assert f'moved aside to {aside}' in str(error.value)


def test_checksum_prefixes_must_match_the_start():
    digests = dict(sha256='397923af' + '0' * 56)
    assert checksum_mismatch(digests, dict(sha256='397923af')) is None
    assert (
        checksum_mismatch(digests, dict(sha256='97923af0'))
        == f'sha256 expected 97923af0, got {digests["sha256"]}'
    )
