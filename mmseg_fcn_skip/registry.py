"""Registries of the ``mmseg_fcn_skip`` scope, children of mmseg's.

mmengine gives every module of a base config read as ``mmseg_fcn_skip::folder/file.py``
the scope ``_scope_='mmseg_fcn_skip'``, and builds it from the registry of that scope,
which it finds under ``mmseg_fcn_skip.registry``. The plugin registers its modules in
mmseg's registries; each registry here is an empty child of mmseg's of the same name,
so a lookup falls through to mmseg's and finds the plugin's modules and mmseg's alike.
"""
from mmengine.registry import Registry
from mmseg import registry as mmseg_registry

#: The scope of the registries, the ``package`` of ``package::`` config names.
SCOPE = 'mmseg_fcn_skip'


def _child(parent: Registry) -> Registry:
    return Registry(parent.name, parent=parent, scope=SCOPE, locations=['mmseg_fcn_skip'])


_PARENTS = {name: value for name, value in vars(mmseg_registry).items()
            if name.isupper() and isinstance(value, Registry)}
globals().update({name: _child(parent) for name, parent in _PARENTS.items()})

__all__ = sorted(_PARENTS)
