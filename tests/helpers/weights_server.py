"""A loopback HTTP server for the weights tests: serves bytes, counts requests, fails
on demand. It listens on 127.0.0.1 only; no test talks to any other address."""

import hashlib
import os
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Optional

from tests.helpers.processes import free_port

LOOPBACK = '127.0.0.1'
#: How a path misbehaves: an HTTP status, half the bytes, no answer at all, or half
#: the bytes and then silence.
TRUNCATE, STALL, STALL_MIDWAY = 'truncate', 'stall', 'stall midway'


class WeightsServer:
    """Serve ``files`` (URL path -> bytes) on a free loopback port, in a thread.

    ``failures`` maps a path to an HTTP status code (e.g. 404, 403), ``TRUNCATE``
    (announce the full ``Content-Length``, send half, close), ``STALL`` (accept
    and never answer, until the server stops) or ``STALL_MIDWAY`` (announce the full
    ``Content-Length``, send half, then nothing until the server stops). ``delay`` seconds pass before each
    answer. ``requests`` counts the GET requests per path.
    """

    def __init__(self, files: Optional[Dict[str, bytes]] = None, delay: float = 0.0):
        self.files = dict(files or {})
        self.failures: Dict[str, object] = {}
        self.delay = delay
        self.requests: Counter = Counter()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs=dict(poll_interval=0.05), daemon=True
        )

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str) -> str:
        return f'http://{LOOPBACK}:{self.port}/{path}'

    def __enter__(self) -> 'WeightsServer':
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop answering; the port then refuses connections."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = self.path.lstrip('/')
                with server._lock:
                    server.requests[path] += 1
                failure = server.failures.get(path)
                if failure == STALL:
                    server._stopped.wait(30)
                    return
                if server.delay:
                    server._stopped.wait(server.delay)
                if isinstance(failure, int) or path not in server.files:
                    self.send_error(failure if isinstance(failure, int) else 404)
                    return
                data = server.files[path]
                self.send_response(200)
                self.send_header('Content-Type', 'application/octet-stream')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                if failure in (TRUNCATE, STALL_MIDWAY):
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    if failure == STALL_MIDWAY:
                        server._stopped.wait(30)
                    self.close_connection = True
                    return
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        return Handler


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    return free_port()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: Proxies bypassed for every host, so requests go straight to 127.0.0.1.
NO_PROXY = {'no_proxy': '*', 'NO_PROXY': '*'}
PROXY_VARIABLES = ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY')


def use_loopback_only(torch_home, monkeypatch) -> None:
    """A fresh torch hub cache at ``torch_home``, no mirror and no proxies, so that
    every download of a test goes to the URL it gives, on 127.0.0.1."""
    monkeypatch.setenv('TORCH_HOME', str(torch_home))
    monkeypatch.delenv('FCN_WEIGHTS_MIRROR', raising=False)
    for name, value in NO_PROXY.items():
        monkeypatch.setenv(name, value)
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def loopback_only_env() -> Dict[str, str]:
    """The process environment with proxies bypassed (for subprocesses)."""
    env = dict(os.environ, **NO_PROXY)
    for name in PROXY_VARIABLES:
        env.pop(name, None)
    return env
