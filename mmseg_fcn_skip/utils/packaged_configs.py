"""The configs shipped inside the package, and mmengine's ``mmseg_fcn_skip::`` bases.

The build copies the repository's ``configs/`` into the package as
``mmseg_fcn_skip/.mim/configs`` (in a source checkout ``.mim/configs`` is a link to
``../../configs``), where mmengine looks for the bases of ``package::folder/file.py``.
mmengine resolves such names only for the packages in its table
``mmengine.config.utils.MODULE2PACKAGE``; :func:`register_config_scope` (run when the
plugin is imported) adds this package there, so a config of one's own can start with::

    _base_ = 'mmseg_fcn_skip::fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'

once ``mmseg_fcn_skip`` is imported before the config is read (``tools/train.py`` and
the other tools of the plugin import it first).
"""

from pathlib import Path

from mmengine.config import utils as config_utils

from ..registry import SCOPE

#: Where the shipped configs lie: the package's ``.mim`` folder, as mmengine expects.
MIM_DIR = Path(__file__).resolve().parents[1] / '.mim'


def register_config_scope() -> None:
    """Let mmengine resolve ``mmseg_fcn_skip::folder/file.py`` config names."""
    config_utils.MODULE2PACKAGE.setdefault(SCOPE, SCOPE)


def packaged_config(name: str) -> str:
    """The path of a config shipped with the package.

    Args:
        name (str): Its path below ``configs/``, e.g.
            ``'fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'``.

    Returns:
        str: The absolute path of the file.

    Raises:
        FileNotFoundError: If the package has no such config, naming where it looked.
    """
    path = MIM_DIR / 'configs' / name
    if not path.is_file():
        raise FileNotFoundError(
            f'{name!r} is not among the configs shipped with mmseg_fcn_skip (looked for '
            f'{path}). Give a config path of your own, or reinstall the plugin '
            '(`pip install mmseg-fcn-skip` or `pip install .` in its repository), which '
            'puts the configs into the package.'
        )
    return str(path)
