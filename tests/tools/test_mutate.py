"""tools/dev/mutate.py: the mutation list follows the code; mutations apply exactly."""

import importlib.util

import pytest

from tests.helpers import REPO

_spec = importlib.util.spec_from_file_location('dev_mutate', REPO / 'tools' / 'dev' / 'mutate.py')
mutate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutate)
Mutation = mutate.Mutation


def test_every_mutation_applies_to_the_current_code():
    """A failure here means the code changed under a mutation: update its original
    text (and tests) in tools/dev/mutations.py."""
    assert mutate.check_mutations(mutate.MUTATIONS) == []
    assert len(mutate.MUTATIONS) >= 30


def test_a_mutation_replaces_exactly_its_text():
    mutation = Mutation('m', 'f.py', 'a >= b', 'a > b', ('tests',))
    assert mutate.apply_mutation('x = a >= b\ny = 1\n', mutation) == 'x = a > b\ny = 1\n'


@pytest.mark.parametrize(
    'text, original, problem',
    [
        ('x = 1\n', 'a >= b', "'a >= b' occurs 0 times in f.py"),
        ('a >= b\na >= b\n', 'a >= b', "'a >= b' occurs 2 times in f.py"),
        ('a\nb\n', 'a\nb', 'must be parts of one line'),
    ],
)
def test_missing_ambiguous_or_multiline_originals_are_refused(text, original, problem):
    with pytest.raises(mutate.MutationError, match=problem):
        mutate.apply_mutation(text, Mutation('m', 'f.py', original, 'z', ('tests',)))


def test_the_check_names_missing_files_tests_and_repeated_names(tmp_path):
    (tmp_path / 'pkg.py').write_text('value = 1\n')
    (tmp_path / 'test_pkg.py').write_text('')
    mutations = [
        Mutation('a', 'pkg.py', 'value = 1', 'value = 2', ('test_pkg.py::test_x',)),
        Mutation('a', 'pkg.py', 'value = 1', 'value = 0', ('test_none.py',)),
        Mutation('b', 'gone.py', 'x', 'y', ('test_pkg.py',)),
    ]
    assert mutate.check_mutations(mutations, tmp_path) == [
        'a: the name is used twice',
        "a: no test file ['test_none.py']",
        'b: gone.py does not exist',
    ]


@pytest.mark.parametrize(
    'code, verdict',
    [
        (0, 'survived'),
        (1, 'killed'),
        (2, 'killed'),
        (None, 'killed (timeout)'),
        (4, 'error'),
        (5, 'error'),
    ],
)
def test_pytest_exit_codes_give_the_verdict(code, verdict):
    assert mutate.outcome(dict(code=code, seconds=1.0, tail='')) == verdict


def test_the_list_refuses_to_run_when_it_does_not_apply(monkeypatch, capsys):
    broken = Mutation(
        'broken', 'mmseg_fcn_skip/__init__.py', 'no such text', 'x', ('tests/tools/test_mutate.py',)
    )
    monkeypatch.setattr(mutate, 'MUTATIONS', (broken,))
    assert mutate.main(['--check']) == 2
    assert "broken: 'no such text' occurs 0 times" in capsys.readouterr().err
