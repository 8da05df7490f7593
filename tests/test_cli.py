"""mmseg_fcn_skip/cli.py: the commands' table, fcn-config, and what the commands print.

The console scripts themselves, from the wheel: tests/packaging/test_console_scripts.py.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

import mmseg_fcn_skip  # noqa: F401  (mmseg_fcn_skip:: names)
from mmseg_fcn_skip import cli
from mmseg_fcn_skip.weights import WEIGHTS

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / 'README.md', *sorted((REPO / 'docs').glob('*.md'))]

if sys.version_info >= (3, 11):
    import tomllib

    SCRIPTS = tomllib.loads((REPO / 'pyproject.toml').read_text())['project']['scripts']
else:  # pragma: no cover
    SCRIPTS = {}


@pytest.mark.skipif(not SCRIPTS, reason='tomllib needs Python 3.11')
def test_each_console_script_is_a_function_of_the_cli():
    for name, target in SCRIPTS.items():
        module, function = target.split(':')
        assert module == 'mmseg_fcn_skip.cli'
        assert callable(getattr(cli, function)), name
        assert name in cli.TOOLS or name == 'fcn-config'
    assert set(cli.TOOLS) | {'fcn-config'} == set(SCRIPTS)


@pytest.mark.parametrize('command', sorted(cli.TOOLS))
def test_each_command_runs_a_shipped_tool(command):
    script = cli.tools_dir() / cli.TOOLS[command]
    assert script.is_file()
    assert script.read_text() == (REPO / 'tools' / cli.TOOLS[command]).read_text()


def test_the_docs_name_only_commands_that_exist():
    named = set()
    for page in DOCS:
        named |= set(re.findall(r'(?<![\w-])(fcn-[a-z-]+[a-z])(?=[ `\]])', page.read_text()))
    # the project's name and the published weights' names are no commands
    named = {n for n in named if not n.startswith('fcn-skip') and n not in WEIGHTS}
    assert named, 'the docs name no command'
    assert named <= set(SCRIPTS), named - set(SCRIPTS)


def test_the_list_has_the_configs_and_templates_but_no_bases():
    names = cli.shipped_configs()
    assert 'fcn8s_toy.py' in names
    assert 'templates/fcn8s_vgg16_custom-dataset.py' in names
    assert 'fcn_skip_caffe/fcn8s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py' in names
    assert not any(n.startswith('_base_/') for n in names)


@pytest.mark.parametrize(
    'name',
    [
        'templates/fcn8s_vgg16_custom-dataset.py',
        'templates/fcn8s_vgg16_custom-dataset',
        'fcn8s_vgg16_custom-dataset',
        'mmseg_fcn_skip::templates/fcn8s_vgg16_custom-dataset.py',
    ],
)
def test_a_config_is_found_by_any_of_its_names(name):
    assert cli.find_config(name) == cli.configs_dir() / 'templates/fcn8s_vgg16_custom-dataset.py'


def test_a_misspelled_name_gets_the_closest_ones():
    with pytest.raises(cli.ConfigNameError) as error:
        cli.find_config('fcn8s_vgg16_custom-datset')
    assert str(error.value) == (
        "'fcn8s_vgg16_custom-datset' is no shipped config (did you mean "
        "'templates/fcn8s_vgg16_custom-dataset.py' or "
        "'templates/fcn8s_vgg16_custom-dataset_from-fcn8s.py'?); "
        '`fcn-config list` prints every name'
    )


def test_the_hint_names_the_closest_configs_first_not_the_first_listed():
    # fcn8s_voc.py is the closest to 'fcn8s_voc12' (0.92, against 0.77 for
    # fcn8s_toy.py and 0.69 for fcn4s_toy.py, which come before it in the listing).
    with pytest.raises(cli.ConfigNameError, match="did you mean 'fcn8s_voc.py' or "):
        cli.find_config('fcn8s_voc12')


def test_a_nested_config_is_found_by_its_file_name_alone():
    # 'toy_shaeps.py' is 0.85 alike to the file name, under 0.6 to the whole path
    nested = '_base_/datasets/toy_shapes.py'
    assert cli.closest_configs('toy_shaeps.py', [nested]) == [nested]


def test_a_message_given_to_exit_is_printed_with_status_1(capsys):
    assert cli._exit_status('config not found') == 1
    assert capsys.readouterr().err == 'config not found\n'
    assert cli._exit_status(None) == 0 and cli._exit_status(2) == 2


def test_closest_configs_are_ordered_by_closeness_above_the_cutoff():
    names = ['a/abcx.py', 'abcd.py', 'zzzz.py']
    assert cli.closest_configs('abcd.py', names) == ['abcd.py', 'a/abcx.py']
    assert cli.closest_configs('abcd.py', names, cutoff=0.9) == ['abcd.py']


@pytest.mark.parametrize(
    'name',
    [
        'templates/fcn8s_vgg16_custom-dataset.py',
        'fcn8s_toy.py',
        'fcn_skip/fcn8s-auxpool4_vgg16_4xb4-40k_voc12aug-512x512.py',
        'fcn_skip_caffe/fcn8s_vgg16-caffe_1xb1-100k_seg11valid-fullsize.py',
    ],
)
def test_a_copy_elsewhere_is_the_shipped_config(name, tmp_path):
    assert cli.config(['copy', name, str(tmp_path)]) == 0
    copy = tmp_path / Path(name).name
    bases = Config._get_base_files(str(copy))  # noqa: SLF001  (mmengine's own reading)
    assert bases and all(base.startswith('mmseg_fcn_skip::') for base in bases)
    copied = Config.fromfile(str(copy)).to_dict()
    shipped = Config.fromfile(str(cli.configs_dir() / name)).to_dict()
    assert _unscoped(copied) == _unscoped(shipped)


def test_copy_keeps_an_existing_file_unless_forced(tmp_path, capsys):
    dest = tmp_path / 'my.py'
    dest.write_text('mine')
    assert cli.config(['copy', 'fcn8s_toy.py', str(dest)]) == 2
    assert capsys.readouterr().err == f'error: {dest} exists; choose another name or add --force\n'
    assert dest.read_text() == 'mine'
    assert cli.config(['copy', 'fcn8s_toy.py', str(dest), '--force']) == 0
    assert capsys.readouterr().out == f'wrote {dest} (from mmseg_fcn_skip::fcn8s_toy.py)\n'


def test_a_merged_copy_of_a_users_config_has_no_package_names(tmp_path):
    user = tmp_path / 'my_fcn.py'
    user.write_text(
        "_base_ = 'mmseg_fcn_skip::fcn_skip/fcn8s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py'"
        "\ndata_root = 'toy'\n"
    )
    merged = tmp_path / 'merged.py'
    assert cli.config(['copy', str(user), str(merged)]) == 2
    assert cli.config(['copy', '--merged', str(user), str(merged)]) == 0
    assert 'mmseg_fcn_skip::' not in merged.read_text()
    assert Config.fromfile(str(merged)).model.decode_head.type == 'FCNSkipHead'


def test_show_prints_the_portable_text(capsys):
    assert cli.config(['show', 'fcn8s_toy.py']) == 0
    out = capsys.readouterr().out
    assert (
        "_base_ = 'mmseg_fcn_skip::fcn_skip/fcn8s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py'"
        in out
    )


def test_show_of_an_unknown_name_is_one_line_and_status_2(capsys):
    assert cli.config(['show', 'fcn9s']) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.startswith("error: 'fcn9s' is no shipped config")


def test_importing_the_plugin_prints_nothing():
    result = subprocess.run(
        [sys.executable, '-c', 'import mmseg_fcn_skip'], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout == ''
    assert 'MultiScaleDeformableAttention' not in result.stderr


def test_the_commands_hide_the_loss_advice_but_not_other_warnings():
    code = (
        'import warnings\n'
        'from mmseg_fcn_skip.cli import hide_dependency_warnings\n'
        'hide_dependency_warnings()\n'
        'from mmseg.models.losses import CrossEntropyLoss\n'
        'CrossEntropyLoss()\n'
        "warnings.warn('a warning of your own')\n"
    )
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert 'avg_non_ignore' not in result.stderr
    assert 'UserWarning: a warning of your own' in result.stderr


def _unscoped(value):
    if isinstance(value, dict):
        return {k: _unscoped(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return type(value)(_unscoped(v) for v in value)
    return value


def _doc_config_copies():
    """``fcn-config copy NAME DEST`` lines of the docs that copy a shipped config."""
    lines = []
    for page in DOCS:
        for line in re.findall(r'^fcn-config copy .*$', page.read_text(), re.M):
            words = line.split('#')[0].split()
            if '--merged' not in words:
                lines.append((page.name, words[2:]))
    return lines


@pytest.mark.parametrize('page, args', _doc_config_copies())
def test_the_docs_copies_of_shipped_configs_run_as_written(page, args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.config(['copy', *args]) == 0
    dest = Path(args[1])
    copy = dest if dest.suffix == '.py' else dest / Path(cli.find_config(args[0])).name
    assert Config.fromfile(str(copy)).model
