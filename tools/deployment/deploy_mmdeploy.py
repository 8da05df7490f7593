"""Run mmdeploy's ``tools/deploy.py`` on the plugin's models, with the exporter it needs.

Usage::

    python tools/deployment/deploy_mmdeploy.py MMDEPLOY_ROOT/tools/deploy.py DEPLOY_CFG MODEL_CFG \
        CHECKPOINT IMAGE [deploy.py options, e.g. --work-dir out --device cpu --dump-info]

mmdeploy 1.3.1 calls ``torch.onnx.export`` without choosing an exporter; from torch
2.9 on that is the dynamo exporter, with which mmdeploy's rewriters fail (what
reaches the user is mmdeploy's ``KeyError: -1`` from its child process). This script
makes ``torch.onnx.export`` default to the TorchScript exporter (``dynamo=False``)
when it is imported, which happens again in each process ``deploy.py`` starts with
the spawn method, then loads ``deploy.py`` and runs its ``main()`` with the remaining
arguments. Install mmdeploy beside the stack with ``pip install --no-deps
mmdeploy==1.3.1 aenum multiprocess dill six terminaltables`` (its own requirements
would replace the maintained mmengine); ``deploy.py`` comes with mmdeploy's sources.
"""

import functools
import importlib
import sys
from pathlib import Path

import torch

import mmseg_fcn_skip  # noqa: F401  (fills the registries)

if not isinstance(torch.onnx.export, functools.partial):
    torch.onnx.export = functools.partial(torch.onnx.export, dynamo=False)


def load_deploy_script(path: str):
    """Import mmdeploy's ``deploy.py`` from ``path`` as a module."""
    script = Path(path)
    if not script.is_file():
        raise FileNotFoundError(
            f"{script} is not a file: give the path of tools/deploy.py from mmdeploy's "
            'sources (git clone -b v1.3.1 https://github.com/open-mmlab/mmdeploy)'
        )
    # Imported by its name from its folder, so that processes it spawns (which get
    # this sys.path) find the functions it hands them.
    sys.path.insert(0, str(script.resolve().parent))
    module = importlib.import_module(script.stem)
    if not callable(getattr(module, 'main', None)):
        raise ValueError(f"{script} has no main(); is it mmdeploy's tools/deploy.py?")
    return module


def main(argv=None) -> None:
    """Run ``deploy.py``'s ``main()`` with the arguments after its path."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(__doc__)
        return
    module = load_deploy_script(argv[0])
    sys.argv = [argv[0], *argv[1:]]
    module.main()


if __name__ == '__main__':
    main()
