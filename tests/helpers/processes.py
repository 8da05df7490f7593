"""Tools run as a user would (a fresh process) or imported, and free loopback ports."""

import importlib.util
import os
import socket
import subprocess
import sys
from types import ModuleType
from typing import Dict, List

from tests.helpers import REPO


def subprocess_env(threads: int = 0) -> Dict[str, str]:
    """The environment of a fresh process: the repository importable first (the
    package and ``tests.helpers``); ``OMP_NUM_THREADS=threads`` unless 0."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([str(REPO)] + [p for p in [env.get('PYTHONPATH')] if p])
    if threads:
        env['OMP_NUM_THREADS'] = str(threads)
    return env


def run_python(*args: str) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` in a fresh process, the repo importable."""
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=subprocess_env(), timeout=300
    )


def run_tool(name: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``python tools/<name>.py ARGS`` as a user would."""
    return run_python(str(REPO / 'tools' / f'{name}.py'), *args)


def run(command: List[str], timeout: float = 240) -> subprocess.CompletedProcess:
    """Run ``command`` with one thread per process; return the finished process (output
    captured as text)."""
    return subprocess.run(
        command, env=subprocess_env(threads=1), capture_output=True, text=True, timeout=timeout
    )


def load_tool(name: str) -> ModuleType:
    """Import ``tools/<name>.py`` as a module, to call its ``main(argv)``.

    ``name`` may name a sub-folder, e.g. ``'analysis_tools/get_flops'``.
    """
    module_name = 'tools_' + name.replace('/', '_')
    spec = importlib.util.spec_from_file_location(module_name, REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    """A loopback port free at the time of the call, for a process group's master."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]
