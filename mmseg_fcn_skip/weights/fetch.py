"""Published weights by name or URL: fetched, verified and converted once, then cached.

The first use downloads the file into torch.hub's checkpoint folder
(``$TORCH_HOME/hub/checkpoints``, see ``torch.hub.get_dir``; a file torchvision
already downloaded there is reused once its checksum matches), converts it and keeps
the plugin checkpoint beside it, under ``mmseg_fcn_skip/``, with a small JSON record
of both files' SHA-256. Later uses check the converted file against that record and
read it without any network access.

Per file, one process at a time fetches and converts: the others (the other ranks of
a distributed run, started at once) wait on a file lock, then read the result. The
lock works before any process group exists, e.g. while ``init_cfg`` loads weights
during model building. ``FCN_WEIGHTS_MIRROR=http://host:port/path/`` sends every
download to that prefix plus the file name.

A damaged cached file (its SHA-256 no longer the recorded one) is moved aside and
reported; the next run rebuilds it.
"""

import hashlib
import io
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NamedTuple, NoReturn, Optional, Tuple

import torch
from mmengine.logging import print_log

from ..checkpoints.atomic_io import write_atomic
from ..checkpoints.converters.released import RELEASED_NETS
from ..checkpoints.layouts import CONVERTERS, convert_file
from .download import WeightsError, checksum_mismatch, download, file_digests, move_aside
from .table import WEIGHTS, WeightsEntry, find_weights

try:
    import fcntl
except ImportError:  # Windows: no lock; concurrent first runs may download twice.
    fcntl = None

MIRROR_VARIABLE = 'FCN_WEIGHTS_MIRROR'
#: Folder of the converted checkpoints and records inside torch.hub's checkpoints.
CACHE_FOLDER = 'mmseg_fcn_skip'


class CachePaths(NamedTuple):
    """Where one published file and its conversion live in the cache.

    Attributes:
        original (Path): The downloaded file, ``<hub>/checkpoints/<file name>``.
        converted (Path): ``<hub>/checkpoints/mmseg_fcn_skip/<stem>_mmseg.pth``.
        record (Path): JSON with both files' names and SHA-256.
        lock (Path): The lock file serialising fetches of this file.
    """

    original: Path
    converted: Path
    record: Path
    lock: Path


def cache_paths(entry: WeightsEntry) -> CachePaths:
    """The cache paths of ``entry`` under the current ``torch.hub.get_dir()``."""
    checkpoints = Path(torch.hub.get_dir()) / 'checkpoints'
    stem = Path(entry.filename).stem
    folder = checkpoints / CACHE_FOLDER
    return CachePaths(
        checkpoints / entry.filename,
        folder / f'{stem}_mmseg.pth',
        folder / f'{stem}.json',
        folder / f'{stem}.lock',
    )


def resolve_checkpoint(checkpoint: str, progress: bool = True) -> str:
    """The local checkpoint file for a path, a short name or an http(s) URL.

    A local path (an existing file, or anything that is neither a name in
    ``WEIGHTS`` nor a URL) is returned unchanged, so it is read as before;
    names and URLs go through :func:`fetch_checkpoint`.
    """
    checkpoint = str(checkpoint)
    if os.path.isfile(os.path.expanduser(checkpoint)) or find_weights(checkpoint) is None:
        return checkpoint
    return str(fetch_checkpoint(checkpoint, progress))


def fetch_checkpoint(source: str, progress: bool = True) -> Path:
    """The cached plugin checkpoint of published weights, fetched on first use.

    Args:
        source: A name in ``WEIGHTS`` or an http(s) URL.
        progress: Show a progress bar while downloading.

    Returns:
        Path: The converted checkpoint (for a file in none of the published
        layouts: the downloaded file itself).

    Raises:
        FileNotFoundError: if ``source`` is neither a name nor a URL.
        WeightsError: if the download fails, a checksum does not match, a cached
            file is damaged, or the file does not convert; see the message.
    """
    entry = find_weights(source)
    if entry is None:
        raise FileNotFoundError(
            f'{source!r} is neither a checkpoint file nor a name of the published '
            f'weights ({", ".join(WEIGHTS)}) nor an http(s) URL; check the spelling '
            'or the path'
        )
    paths = cache_paths(entry)
    cached = _cached_checkpoint(paths)
    if cached is not None:
        return cached
    with _exclusive(paths.lock, entry):
        return _fetch_locked(entry, paths, progress)


def _cached_checkpoint(paths: CachePaths) -> Optional[Path]:
    """The converted checkpoint if it is complete and matches its record."""
    record = _read_record(paths.record)
    if record is None:
        return None
    checkpoint = paths.record.parent.parent / record['checkpoint']
    if checkpoint.is_file() and _sha256(checkpoint) == record['checkpoint_sha256']:
        return checkpoint
    return None


def _fetch_locked(entry: WeightsEntry, paths: CachePaths, progress: bool) -> Path:
    """Check, download and convert as needed; the caller holds the lock."""
    record = _read_record(paths.record)
    fix = manual_fix(entry, paths)
    if record is not None:
        checkpoint = paths.record.parent.parent / record['checkpoint']
        if checkpoint.is_file():
            _check_cached(
                checkpoint,
                dict(sha256=record['checkpoint_sha256']),
                entry,
                f'Run again: it is rebuilt from {paths.original} (downloaded '
                'again if that is damaged or missing).',
            )
            return checkpoint
    expected = dict(entry.checksums)
    if record is not None and record['source'] == entry.filename:
        expected['sha256'] = record['source_sha256']
    if paths.original.is_file():
        digests = _check_cached(
            paths.original, expected, entry, f'Run again to download it afresh.\n{fix}'
        )
    else:
        digests = download(
            mirrored_url(entry), paths.original, entry.checksums, fix, progress=progress
        )
    checkpoint, checkpoint_sha256 = _convert(entry, paths, digests)
    relative = checkpoint.relative_to(paths.record.parent.parent).as_posix()
    record = dict(
        url=entry.url,
        source=entry.filename,
        source_sha256=digests['sha256'],
        checkpoint=relative,
        checkpoint_sha256=checkpoint_sha256,
    )
    write_atomic(json.dumps(record, indent=1).encode(), paths.record)
    return checkpoint


def _check_cached(path: Path, expected: dict, entry: WeightsEntry, fix: str) -> dict:
    """Digests of a cached file (SHA-256 and those expected); a mismatch moves it
    aside and raises."""
    digests = file_digests(path, sorted({'sha256', *expected}))
    mismatch = checksum_mismatch(digests, expected)
    if mismatch:
        aside = move_aside(path, digests)
        raise WeightsError(
            f'the cached file {path} (from {entry.url}) is damaged: {mismatch}. It was '
            f'moved aside to {aside} and is not used. {fix}'
        )
    return digests


def _convert(entry: WeightsEntry, paths: CachePaths, digests: dict) -> Tuple[Path, str]:
    """Convert the downloaded file; return the checkpoint to load and its SHA-256."""
    print_log(f'Converting {paths.original} to {paths.converted}', logger='current')
    try:
        checkpoint = convert_file(
            paths.original,
            entry.layout,
            convention=entry.convention,
            variant=entry.variant,
            net=entry.name if entry.name in RELEASED_NETS else None,
        )
    except (KeyError, ValueError) as error:  # the converters' key and shape checks
        _conversion_failed(entry, paths, digests, str(error), error)
    except Exception as error:  # torch.load raises many types for other files
        _conversion_failed(
            entry, paths, digests, f'it does not load as weights ({type(error).__name__})', error
        )
    if checkpoint is None:
        return paths.original, digests['sha256']
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    write_atomic(buffer.getvalue(), paths.converted)
    return paths.converted, hashlib.sha256(buffer.getbuffer()).hexdigest()


def _conversion_failed(
    entry: WeightsEntry, paths: CachePaths, digests: dict, problem: str, error: Exception
) -> NoReturn:
    """Raise for a file that does not convert; move it aside if it is unchecked."""
    kept = f'It stays at {paths.original}'
    if not entry.checksums:
        kept = (
            f'It was moved aside to {move_aside(paths.original, digests)} (no '
            'checksum is published for it, so the file may be another one)'
        )
    raise WeightsError(
        f'{paths.original} (from {entry.url}) does not convert into a checkpoint of '
        f'the plugin: {problem}. {kept}.'
    ) from error


def mirrored_url(entry: WeightsEntry) -> str:
    """The URL to download from: ``FCN_WEIGHTS_MIRROR`` + file name, if set.

    Raises:
        WeightsError: if the variable is set but is no http(s) URL.
    """
    mirror = os.environ.get(MIRROR_VARIABLE)
    if not mirror:
        return entry.url
    if not mirror.startswith(('http://', 'https://')):
        raise WeightsError(
            f'{MIRROR_VARIABLE}={mirror!r} is not an http(s) URL; set it '
            'to a prefix such as http://host:port/path/ or unset it'
        )
    return mirror.rstrip('/') + '/' + entry.filename


def manual_fix(entry: WeightsEntry, paths: CachePaths) -> str:
    """What to do without a working download (part of every download error)."""
    if entry.checksums:
        check = 'it is checked against ' + ', '.join(
            f'{name} {digest}' for name, digest in entry.checksums.items()
        )
    else:
        check = 'no checksum is published for it; its SHA-256 is recorded on first use'
    lines = [
        f'Fix: with network access, run again (behind a mirror, set '
        f'{MIRROR_VARIABLE}=http://host:port/path/). Without it, download '
        f'{entry.url} elsewhere and put it at {paths.original} ({check}), then run '
        'again'
    ]
    if entry.layout is not None:
        stem = Path(entry.filename).stem
        net = f' --net {entry.name}' if entry.name in RELEASED_NETS else ''
        lines.append(
            f'or convert it yourself with `python {CONVERTERS[entry.layout]} '
            f'{entry.filename} checkpoints/{stem}_mmseg.pth{net}` and give that path '
            f'instead of {entry.name or entry.url!r}'
        )
    return ';\n'.join(lines) + '.'


@contextmanager
def _exclusive(lock: Path, entry: WeightsEntry) -> Iterator[None]:
    """Hold the lock of ``entry``'s cache files (no-op without ``fcntl``)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open('a') as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                print_log(f'Waiting for another process fetching {entry.url}', logger='current')
                fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _read_record(path: Path) -> Optional[dict]:
    """The JSON record of a conversion, or None if missing or unreadable."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    keys = {'url', 'source', 'source_sha256', 'checkpoint', 'checkpoint_sha256'}
    return record if isinstance(record, dict) and keys <= set(record) else None


def _sha256(path: Path) -> str:
    return file_digests(path, ('sha256',))['sha256']
