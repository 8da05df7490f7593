"""Models of the model index without released weights: a ``Weights`` entry that says so.

mim and mmengine's inferencer read the ``Weights`` field of every model in
``model-index.yml``: ``mim download`` splits it on commas and downloads each part,
``MMSegInferencer(model=NAME)`` loads it as the checkpoint. A model without the field
breaks both (``AttributeError: 'float' object has no attribute 'split'``, a bare
``KeyError: 'Weights'``). The models this project defines but has not trained carry
instead :func:`unreleased_weights` of their config,
``'no released weights: train configs/... with fcn-train'``: mim's download then stops
on that text (requests finds no way to fetch it and names it), and mmengine's
checkpoint loading, which picks a loader by prefix, comes here
(:func:`refuse_unreleased`), which says what to do.
"""

import re
from pathlib import PurePosixPath

from mmengine.runner.checkpoint import CheckpointLoader

from .download import WeightsError

#: Start of the ``Weights`` field of a model without released weights.
UNRELEASED_PREFIX = 'no released weights: '
_TEXT = re.compile(re.escape(UNRELEASED_PREFIX) + r'train (?P<config>\S+) with fcn-train$')


def unreleased_weights(config: str) -> str:
    """The ``Weights`` text of a model trained by ``config`` (``configs/...py``)."""
    return f'{UNRELEASED_PREFIX}train {config} with fcn-train'


def unreleased_config(weights: str):
    """The config an :func:`unreleased_weights` text names, or None for anything else."""
    match = _TEXT.match(weights)
    return match.group('config') if match else None


def refuse_unreleased(filename: str, map_location=None) -> dict:
    """mmengine's loader for :func:`unreleased_weights` texts: raise with the fix.

    Raises:
        WeightsError: always, naming the config that trains the model, the command,
            and how to pass its checkpoint.
    """
    config = unreleased_config(filename) or filename[len(UNRELEASED_PREFIX) :]
    name = PurePosixPath(config).stem
    raise WeightsError(
        f'{name} has no released weights: this project publishes no checkpoint for it. '
        f'Train it from its config {config} (`fcn-config copy {name} {name}.py`, then '
        f'`fcn-train {name}.py`) and give the checkpoint, e.g. '
        f"MMSegInferencer(model='{name}.py', weights='work_dirs/{name}/iter_40000.pth')"
    )


def register_unreleased_loader() -> None:
    """Make mmengine's checkpoint loading refuse :func:`unreleased_weights` texts."""
    CheckpointLoader.register_scheme(re.escape(UNRELEASED_PREFIX), refuse_unreleased, force=True)
