"""Registries of the ``mmseg_fcn_skip`` scope, children of mmseg's.

mmengine gives every module of a base config read as ``mmseg_fcn_skip::folder/file.py``
the scope ``_scope_='mmseg_fcn_skip'``, and builds it from the registry of that scope,
which it finds under ``mmseg_fcn_skip.registry``. The plugin registers its modules in
mmseg's registries; each registry here is an empty child of mmseg's of the same name,
so a lookup falls through to mmseg's and finds the plugin's modules and mmseg's alike.
mmengine fills a registry from its ``locations`` only when it is searched itself, not
when a child falls through to it, so each child fills its parent first.
"""

from mmengine.registry import Registry
from mmseg import registry as mmseg_registry

#: The scope of the registries, the ``package`` of ``package::`` config names.
SCOPE = 'mmseg_fcn_skip'


class ChildRegistry(Registry):
    """A registry that falls through to its parent, filled (imported) before it."""

    def import_from_location(self) -> None:
        """Import the parent's modules, then the plugin's."""
        if self.parent is not None:
            self.parent.import_from_location()
        super().import_from_location()


def _child(parent: Registry) -> Registry:
    return ChildRegistry(parent.name, parent=parent, scope=SCOPE, locations=['mmseg_fcn_skip'])


_PARENTS = {
    name: value
    for name, value in vars(mmseg_registry).items()
    if name.isupper() and isinstance(value, Registry)
}
globals().update({name: _child(parent) for name, parent in _PARENTS.items()})

__all__ = sorted(_PARENTS)
