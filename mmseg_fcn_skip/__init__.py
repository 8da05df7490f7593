"""The original Fully Convolutional Network (FCN) for MMSegmentation.

Importing this package registers the plugin's modules in mmseg's registries
(``FullyConvVGG``, ``FCNSkipHead``, datasets, transforms, metrics, hooks) and then
adapts mmengine and torch in four ways, all of them here (:func:`_adapt_dependencies`)
and nowhere else:

1. mmengine resolves ``mmseg_fcn_skip::folder/file.py`` config names to the configs
   shipped in the package (an entry in ``mmengine.config.utils.MODULE2PACKAGE``);
2. mmengine's checkpoint loading takes the published weights' short names and http(s)
   URLs, fetching, checking and converting them on first use (a loader registered
   with ``CheckpointLoader.register_scheme``), and refuses a model-index entry that
   has no released weights with a message naming the config that trains it;
3. torch >= 2.6 loads mmengine's own checkpoints with ``weights_only=True`` (the
   classes mmengine pickles into them are added to torch's safe globals);
4. mmengine has a file backend ``'atomic_local'`` that writes checkpoints atomically.

While its own modules are imported, mmseg's ``Could not import OneDL`` lines on stdout
and mmcv's ``MultiScaleDeformableAttention`` warning are held back
(:mod:`._quiet`), so that a command's output holds only what concerns its user.
"""

from ._quiet import quiet_dependency_imports

with quiet_dependency_imports():  # without mmseg's 'Could not import OneDL' lines
    from . import datasets, engine, evaluation, models, performance, registry, utils, weights  # noqa: F401

__version__ = '0.1.0'


def _adapt_dependencies() -> None:
    """Make the four changes to mmengine and torch listed in the module docstring."""
    from .checkpoints.atomic_io import register_atomic_backend
    from .checkpoints.safe_globals import allow_mmengine_checkpoint_globals
    from .utils.packaged_configs import register_config_scope
    from .weights.loader import register_checkpoint_loader

    register_config_scope()
    register_checkpoint_loader()
    allow_mmengine_checkpoint_globals()
    register_atomic_backend()


_adapt_dependencies()
