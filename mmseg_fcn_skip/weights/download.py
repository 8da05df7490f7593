"""Download one file over HTTP(S): progress bar, checksums, nothing half-written.

The bytes go to a hidden temporary file beside the destination, hashed while they
arrive; the file is renamed into place only when the transfer is complete (as long
as the server's ``Content-Length`` says) and every expected checksum matches. A file
with a wrong checksum is moved aside under a ``.rejected`` name and never used;
every other failure removes the temporary file. Each failure raises
:class:`WeightsError` naming the URL, the file and what to do.
"""

import hashlib
import http.client
import os
import socket
import uuid
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse
from urllib.request import Request, urlopen

from mmengine.logging import print_log
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from .table import ALGORITHMS

#: Seconds to wait for a connection or for the next bytes of an answer.
DOWNLOAD_TIMEOUT = 60.0
CHUNK_BYTES = 1 << 20
USER_AGENT = 'mmseg-fcn-skip'
_HTTP_REASONS = {
    403: 'the server refuses to hand it out (access blocked, or the mirror needs other rights)',
    404: 'there is no such file there (moved, or missing from the mirror)',
}


class WeightsError(RuntimeError):
    """Published weights could not be fetched, verified or converted."""


def file_digests(path: Path, algorithms: Sequence[str] = ALGORITHMS) -> Dict[str, str]:
    """Hex digests of the file ``path`` by algorithm (default: all of ``ALGORITHMS``)."""
    hashes = {name: hashlib.new(name) for name in algorithms}
    with Path(path).open('rb') as file:
        for chunk in iter(lambda: file.read(CHUNK_BYTES), b''):
            for digest in hashes.values():
                digest.update(chunk)
    return {name: digest.hexdigest() for name, digest in hashes.items()}


def checksum_mismatch(digests: Mapping[str, str], expected: Mapping[str, str]) -> Optional[str]:
    """Describe the first expected checksum ``digests`` do not match, else None.

    An expected digest shorter than the full one is a prefix to match.
    """
    for name, digest in expected.items():
        if not digests[name].startswith(digest):
            return f'{name} expected {digest}, got {digests[name]}'
    return None


def move_aside(path: Path, digests: Mapping[str, str], name: Optional[Path] = None) -> Path:
    """Rename a file that must not be used to ``NAME.<sha256 start>.rejected``.

    Args:
        path: The file.
        digests: Its digests (``sha256`` names the rejected copy).
        name: The path whose name the rejected copy takes. Default: ``path``.

    Returns:
        Path: Where the file is now.
    """
    name = Path(name or path)
    aside = name.with_name(f'{name.name}.{digests["sha256"][:12]}.rejected')
    os.replace(path, aside)
    return aside


def download(
    url: str,
    destination: Path,
    checksums: Mapping[str, str],
    fix: str,
    timeout: Optional[float] = None,
    progress: bool = True,
) -> Dict[str, str]:
    """Download ``url`` to ``destination`` if its checksums match.

    Args:
        url: HTTP(S) URL to read.
        destination: Final path; written only once the file is complete and checked.
        checksums: Expected digests by algorithm (prefixes allowed), may be empty.
        fix: What the user can do instead, appended to every error message.
        timeout: Seconds to wait for the connection and for each read.
            Default: ``DOWNLOAD_TIMEOUT``.
        progress: Show a progress bar on stderr.

    Returns:
        dict[str, str]: The file's digests (``ALGORITHMS``).

    Raises:
        WeightsError: on an HTTP error status, a refused, failed or timed-out
            connection, a transfer cut short, or a checksum mismatch (the file is
            then kept aside, see :func:`move_aside`).
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f'.{destination.name}.{uuid.uuid4().hex}.partial')
    timeout = DOWNLOAD_TIMEOUT if timeout is None else timeout
    print_log(f'Downloading {url} to {destination}', logger='current')
    try:
        digests = _transfer(url, partial, destination.name, fix, timeout, progress)
        mismatch = checksum_mismatch(digests, checksums)
        if mismatch:
            aside = move_aside(partial, digests, destination)
            raise WeightsError(
                f'{url} does not have the published checksum ({mismatch}). The download '
                f'was moved aside to {aside} and is not used; nothing was written to '
                f'{destination}. Run again to retry; if the same happens, the server or '
                f'mirror serves another file.\n{fix}'
            )
        os.replace(partial, destination)
        return digests
    finally:
        partial.unlink(missing_ok=True)


def _transfer(
    url: str, partial: Path, label: str, fix: str, timeout: float, progress: bool
) -> Dict[str, str]:
    """Stream the answer into ``partial``; return its digests."""
    host = urlparse(url).netloc
    try:
        response = urlopen(Request(url, headers={'User-Agent': USER_AGENT}), timeout=timeout)
    except HTTPError as error:
        reason = _HTTP_REASONS.get(error.code, 'the server refused the request')
        raise WeightsError(
            f'{url} answered HTTP {error.code} {error.reason}: {reason}.\n{fix}'
        ) from error
    except (URLError, OSError) as error:
        problem = _connection_problem(error, host, timeout)
        raise WeightsError(f'cannot download {url}: {problem}.\n{fix}') from error
    hashes = {name: hashlib.new(name) for name in ALGORITHMS}
    length = response.headers.get('Content-Length')
    total = int(length) if length and length.isdigit() else None
    received = 0
    problem = None
    with response, partial.open('wb') as file, _progress_bar(progress) as bar:
        task = bar.add_task(label, total=total)
        try:
            # read1: the bytes as they arrive (at most CHUNK_BYTES), so that a transfer
            # that stops midway has counted every byte it got
            for chunk in iter(lambda: response.read1(CHUNK_BYTES), b''):
                file.write(chunk)
                for digest in hashes.values():
                    digest.update(chunk)
                received += len(chunk)
                bar.update(task, advance=len(chunk))
        except (OSError, http.client.HTTPException) as error:
            problem = f'{type(error).__name__}: {error}'
    if problem is None and total is not None and received != total:
        problem = 'the connection closed early'
    if problem is not None:
        expected = f' of {total}' if total is not None else ''
        raise WeightsError(
            f'the download of {url} was cut short after {received}{expected} bytes '
            f'({problem}); the partial file was deleted. Run again to retry.\n{fix}'
        )
    return {name: digest.hexdigest() for name, digest in hashes.items()}


def _connection_problem(error: Exception, host: str, timeout: float) -> str:
    reason = error.reason if isinstance(error, URLError) else error
    if isinstance(reason, ConnectionRefusedError):
        return f'the connection to {host} was refused (nothing serves there)'
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f'{host} did not answer within {timeout:g} s (timed out)'
    if isinstance(reason, socket.gaierror):
        return f'the host name {host} cannot be resolved (no network?)'
    return f'cannot reach {host} ({reason})'


def _progress_bar(enabled: bool) -> Progress:
    return Progress(
        TextColumn('{task.description}'),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )
