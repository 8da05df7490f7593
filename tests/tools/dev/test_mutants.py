"""tools/dev/mutants.py: which mutants a sample, a module or a change selects, and which
tests run for each."""

import importlib.util
import subprocess
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location('mutants', REPO / 'tools' / 'dev' / 'mutants.py')
mutants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutants)


def _fake(folder: str, count: int):
    return [
        mutants.Mutant(f'{folder}/m{k}.py', 'core/AddNot', k, k + 1, 'f', k) for k in range(count)
    ]


def test_sample_is_stratified_and_seeded():
    pool = (
        _fake('mmseg_fcn_skip/models', 600)
        + _fake('tools', 300)
        + _fake('mmseg_fcn_skip/utils', 10)
    )
    sample = mutants.stratified_sample(pool, 90, seed=7, min_per_folder=3)
    by_folder = Counter(m.folder for m in sample)
    assert by_folder == {'mmseg_fcn_skip/models': 59, 'tools': 30, 'mmseg_fcn_skip/utils': 3}
    assert sample == mutants.stratified_sample(pool, 90, seed=7, min_per_folder=3)
    assert sample != mutants.stratified_sample(pool, 90, seed=8, min_per_folder=3)


def test_generated_mutants_have_stable_keys():
    found = mutants.generate(['mmseg_fcn_skip/registry.py'], ['core/AddNot'])
    assert found, 'registry.py has conditions to negate'
    keys = [m.key for m in found]
    assert len(set(keys)) == len(keys)
    assert all(k.startswith('mmseg_fcn_skip/registry.py::') for k in keys)


def test_tests_for_mirrors_then_names():
    selected = mutants.tests_for('mmseg_fcn_skip/weights/fetch.py')
    assert selected[0] == 'tests/weights/test_fetch.py'
    assert mutants.tests_for('mmseg_fcn_skip/__init__.py') == ['tests/test_init.py']


def test_a_top_level_module_without_tests_gets_the_top_level_tests_never_all():
    selected = mutants.tests_for('mmseg_fcn_skip/_quiet.py')
    assert 'tests' not in selected
    assert selected == sorted(
        p.relative_to(mutants.REPO).as_posix() for p in (mutants.REPO / 'tests').glob('test_*.py')
    )
    assert 'tests/test_init.py' in selected


def test_settings_list_known_operators():
    from cosmic_ray.plugins import operator_names

    config = mutants.settings()
    assert set(config['operators']) <= set(operator_names())
    files = mutants.source_files(config)
    assert 'tools/train.py' in files
    assert not any(f.startswith('tools/dev/') for f in files)
    # one-off measurements, neither shipped nor tested
    assert not any(f.startswith('tools/experiments/') for f in files)
    assert 'tools/analysis_tools/analysis_lib/grids.py' in files


def test_changed_lines_of_working_tree(tmp_path, monkeypatch):
    repo = tmp_path / 'repo'
    repo.mkdir()

    def git(*args):
        subprocess.run(['git', *args], cwd=repo, check=True, capture_output=True)

    git('init', '-q')
    (repo / 'a.py').write_text('x = 1\ny = 2\nz = 3\n')
    git('add', 'a.py')
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'a')
    (repo / 'a.py').write_text('x = 1\ny = 20\nz = 3\nw = 4\n')
    monkeypatch.setattr(mutants, 'REPO', repo)
    assert mutants.changed_lines('HEAD') == {'a.py': {2, 4}}


def test_equivalents_file_lines_are_keys_and_reasons(tmp_path, monkeypatch):
    listing = tmp_path / 'eq.txt'
    listing.write_text('# comment\nmmseg_fcn_skip/a.py::f::core/AddNot::0 | why not\n')
    monkeypatch.setattr(mutants, 'EQUIVALENTS', listing)
    assert mutants.read_equivalents() == {'mmseg_fcn_skip/a.py::f::core/AddNot::0': 'why not'}
