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

A multi-task model (``MultiTaskEncoderDecoder``, the SIFT Flow configs) stops here
with one line and status 2, before mmdeploy runs: mmdeploy 1.3.1 exports a segmentor
with one output and does not reach the multi-task segmentor's ``predict`` (its own
error would be ``AttributeError: 'list' object has no attribute 'shape'``). Export
such a model with ``tools/deployment/export_onnx.py``, one output per task.
"""

import functools
import importlib
import sys
from pathlib import Path
from typing import Optional

import torch

import mmseg_fcn_skip  # noqa: F401  (fills the registries)
from mmseg_fcn_skip.apis.export import check_mmdeploy_model

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


def model_config_argument(module) -> Optional[str]:
    """The model config that ``deploy.py`` was given, read by its own ``parse_args()``
    (from ``sys.argv``); None if it has none."""
    parse = getattr(module, 'parse_args', None)
    if not callable(parse):
        return None
    return getattr(parse(), 'model_cfg', None)


def main(argv=None) -> int:
    """Run ``deploy.py``'s ``main()`` with the arguments after its path; the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(__doc__)
        return 0
    module = load_deploy_script(argv[0])
    sys.argv = [argv[0], *argv[1:]]
    model_cfg = model_config_argument(module)
    if model_cfg is not None:
        try:
            check_mmdeploy_model(model_cfg)
        except ValueError as error:
            print(f'error: {error}', file=sys.stderr)
            return 2
    module.main()
    return 0


if __name__ == '__main__':
    sys.exit(main())
