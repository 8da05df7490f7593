"""The plugin's registries: children of mmseg's that fall through to them."""

import sys
import textwrap

import pytest
from mmengine.registry import Registry
from mmseg import registry as mmseg_registry
from mmseg.models.decode_heads import PSPHead

from mmseg_fcn_skip import registry
from mmseg_fcn_skip.models.decode_heads import FCNSkipHead


def test_every_mmseg_registry_has_a_child_in_the_plugin_scope():
    names = {
        name
        for name, value in vars(mmseg_registry).items()
        if name.isupper() and isinstance(value, Registry)
    }
    assert {'MODELS', 'DATASETS', 'TRANSFORMS', 'HOOKS', 'METRICS'} <= names
    assert registry.__all__ == sorted(names)
    assert registry.SCOPE == 'mmseg_fcn_skip'
    for name in names:
        child = getattr(registry, name)
        assert child.parent is getattr(mmseg_registry, name), name
        assert (child.name, child.scope) == (child.parent.name, 'mmseg_fcn_skip'), name


def test_a_lookup_finds_the_plugins_modules_and_mmsegs_through_the_parent():
    assert registry.MODELS.get('FCNSkipHead') is FCNSkipHead
    assert registry.MODELS.get('PSPHead') is PSPHead
    assert registry.MODELS.module_dict == {}  # the modules live in mmseg's registries


@pytest.fixture
def probe_modules(tmp_path, monkeypatch):
    """Modules of a parent registry whose only entry is registered by its location."""
    files = {
        'probe_parent.py': """
            from mmengine.registry import Registry
            PARENT = Registry('probe', locations=['probe_parent_entries'])
        """,
        'probe_parent_entries.py': """
            from probe_parent import PARENT

            @PARENT.register_module()
            class Found:
                pass
        """,
        'probe_child_entries.py': '',
    }
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in files:
        monkeypatch.delitem(sys.modules, name[:-3], raising=False)
    import probe_parent

    return probe_parent.PARENT


def test_a_child_fills_its_parent_before_the_lookup_falls_through(probe_modules):
    child = registry.ChildRegistry(
        'probe', parent=probe_modules, scope='probe_child', locations=['probe_child_entries']
    )
    found = child.get('Found')
    assert found is not None and found.__name__ == 'Found'
    assert probe_modules.get('Found') is found


def test_a_plain_child_would_not_fill_its_parent(probe_modules):
    """What ChildRegistry fixes: mmengine's child searches its parent unfilled."""
    child = Registry(
        'probe', parent=probe_modules, scope='probe_plain', locations=['probe_child_entries']
    )
    assert child.get('Found') is None
