"""The test tree's own rules: pytest imports test files by their base name (no
``__init__.py`` in the test folders), so two test files of one name break collection."""

from collections import defaultdict

from tests.helpers import REPO


def test_every_test_file_has_a_name_of_its_own():
    by_name = defaultdict(list)
    for path in (REPO / 'tests').rglob('test_*.py'):
        by_name[path.name].append(path.relative_to(REPO).as_posix())
    assert {name: paths for name, paths in by_name.items() if len(paths) > 1} == {}
