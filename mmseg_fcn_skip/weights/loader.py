"""mmengine's checkpoint loading learns the short names and fetches URLs through here.

mmengine reads every checkpoint it is given (``init_cfg=dict(type='Pretrained',
checkpoint=...)``, ``load_from``, ``mmseg.apis.init_model``) through
``CheckpointLoader``, which picks a loader by matching the string against registered
prefixes (regular expressions). :func:`register_checkpoint_loader` registers
:func:`load_from_fcn_weights` for ``http://``, ``https://`` (replacing mmengine's
loader, which loads a torchvision or Caffe file unconverted: no key fits, the weights
stay random and only a warning is printed) and for bare names without ``/`` or ``.``
(``vgg16``, ``fcn8s-heavy-pascal``). Paths with a folder or an extension keep
mmengine's local loader; a local file that is named like a short name is read as
before.
"""

import os

from mmengine.runner.checkpoint import CheckpointLoader, load_from_local

from .fetch import fetch_checkpoint
from .unreleased import register_unreleased_loader

#: Prefixes (regular expressions, as mmengine matches them) this loader serves.
PREFIXES = ('http://', 'https://', r'[\w-]+$')


def load_from_fcn_weights(filename: str, map_location=None) -> dict:
    """Load published weights by short name or URL, converted for the plugin.

    Args:
        filename: A name in ``mmseg_fcn_skip.weights.WEIGHTS``, an http(s) URL, or
            a local file whose name has no folder and no extension.
        map_location: As for ``torch.load``.

    Returns:
        dict: The checkpoint (``state_dict`` and ``meta``).

    Raises:
        FileNotFoundError: if ``filename`` is no file, name or URL.
        WeightsError: see :func:`~mmseg_fcn_skip.weights.fetch_checkpoint`.
    """
    if not os.path.isfile(filename):
        filename = str(fetch_checkpoint(filename))
    return load_from_local(filename, map_location)


def register_checkpoint_loader() -> None:
    """Make mmengine load short names and http(s) URLs with this loader (and refuse
    the model index's entries without released weights, see :mod:`.unreleased`)."""
    CheckpointLoader.register_scheme(PREFIXES, load_from_fcn_weights, force=True)
    register_unreleased_loader()
