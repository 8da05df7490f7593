"""The plugin's commands on PATH (``fcn-train``, ``fcn-test``, ``fcn-config`` ...).

``pip install`` puts one command per tool on PATH (``[project.scripts]`` in
pyproject.toml). Each runs the tool script shipped in the package
(``mmseg_fcn_skip/.mim/tools``, the repository's ``tools/``) with the command's
arguments, as ``python tools/NAME.py ...`` would in a checkout, so a pip user needs
neither the checkout nor the package's folder. ``fcn-config`` lists, prints and
copies the shipped configs and templates.

The commands hide two warnings of the dependencies that do not concern the plugin's
users (:data:`HIDDEN_WARNINGS`); importing the plugin hides a third message
(see :mod:`mmseg_fcn_skip._quiet`).
"""

import argparse
import ast
import difflib
import sys
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence

#: Command name -> tool script, relative to the shipped tools folder.
TOOLS: Dict[str, str] = {
    'fcn-train': 'train.py',
    'fcn-test': 'test.py',
    'fcn-infer': 'infer.py',
    'fcn-export-onnx': 'deployment/export_onnx.py',
    'fcn-make-toy-dataset': 'make_toy_dataset.py',
    'fcn-convert-sbd': 'dataset_converters/sbd.py',
    'fcn-convert-caffe-fcn': 'model_converters/caffe_fcn2mmseg.py',
    'fcn-convert-caffe-vgg': 'model_converters/caffe_vgg2mmseg.py',
    'fcn-convert-torchvision-vgg': 'model_converters/torchvision_vgg2mmseg.py',
}
#: Messages (regular expressions matched at the start) of warnings the commands hide:
#: mmcv-lite has no compiled ops (no model of the plugin uses them), and mmseg's
#: advice on ``avg_non_ignore`` (the configs set what the paper's loss needs).
HIDDEN_WARNINGS = (
    r'Fail to import ``MultiScaleDeformableAttention``',
    r'Default ``avg_non_ignore`` is False',
)
#: Prefix of a config name inside the package, as mmengine resolves it.
SCOPE_PREFIX = 'mmseg_fcn_skip::'


def package_dir() -> Path:
    """The folder of the installed (or checked-out) package."""
    return Path(__file__).resolve().parent


def tools_dir() -> Path:
    """The shipped tool scripts (a link to ``tools/`` in a checkout)."""
    return package_dir() / '.mim' / 'tools'


def configs_dir() -> Path:
    """The shipped configs (a link to ``configs/`` in a checkout)."""
    return package_dir() / '.mim' / 'configs'


def hide_dependency_warnings() -> None:
    """Ignore the warnings of :data:`HIDDEN_WARNINGS` in this process and its forks."""
    for message in HIDDEN_WARNINGS:
        warnings.filterwarnings('ignore', message=message, category=UserWarning)


def run_tool(command: str, argv: Optional[Sequence[str]] = None) -> int:
    """Run the tool script of ``command`` as ``__main__`` with ``argv``.

    Args:
        command: A key of :data:`TOOLS`; also the program name in its messages.
        argv: The arguments; ``sys.argv[1:]`` if None.

    Returns:
        int: The exit status (0, or what the script exits with).
    """
    script = tools_dir() / TOOLS[command]
    if not script.is_file():
        print(
            f'error: {command}: the tool {script} is missing from the installed package; '
            'reinstall mmseg-fcn-skip',
            file=sys.stderr,
        )
        return 2
    hide_dependency_warnings()
    saved = sys.argv
    sys.argv = [command, *(sys.argv[1:] if argv is None else argv)]
    try:
        _run_as_main(script)
    except SystemExit as stop:
        return _exit_status(stop.code)
    finally:
        sys.argv = saved
    return 0


def _run_as_main(script: Path) -> None:
    """Execute ``script`` as ``__main__``, keeping ``sys.argv[0]`` (the command name).

    (``runpy.run_path`` would set ``sys.argv[0]`` to the script's path, which
    argparse then shows as the program name.)
    """
    code = compile(script.read_text(), str(script), 'exec')
    namespace = {'__name__': '__main__', '__file__': str(script), '__builtins__': __builtins__}
    exec(code, namespace)


def _exit_status(code) -> int:
    """The status ``sys.exit(code)`` gives (a message is printed, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def train() -> int:
    """``fcn-train CONFIG [--work-dir DIR] [--resume] [--amp] [--cfg-options ...]``."""
    return run_tool('fcn-train')


def test() -> int:
    """``fcn-test CONFIG CHECKPOINT [--work-dir DIR] [--show-dir DIR] [--tta]``."""
    return run_tool('fcn-test')


def infer() -> int:
    """``fcn-infer CONFIG CHECKPOINT INPUT [--out DIR]``."""
    return run_tool('fcn-infer')


def export_onnx() -> int:
    """``fcn-export-onnx CONFIG CHECKPOINT OUT.onnx [--shape H W]``."""
    return run_tool('fcn-export-onnx')


def make_toy_dataset() -> int:
    """``fcn-make-toy-dataset [--out DIR] [--num-train N] [--num-val N]``."""
    return run_tool('fcn-make-toy-dataset')


def convert_sbd() -> int:
    """``fcn-convert-sbd SBD_DATASET VOC_ROOT [--voc2011-val FILE]``."""
    return run_tool('fcn-convert-sbd')


def convert_caffe_fcn() -> int:
    """``fcn-convert-caffe-fcn SRC DST``: a released FCN .caffemodel to a checkpoint."""
    return run_tool('fcn-convert-caffe-fcn')


def convert_caffe_vgg() -> int:
    """``fcn-convert-caffe-vgg SRC DST``: Caffe's VGG16 to a backbone checkpoint."""
    return run_tool('fcn-convert-caffe-vgg')


def convert_torchvision_vgg() -> int:
    """``fcn-convert-torchvision-vgg SRC DST``: torchvision's VGG to a backbone checkpoint."""
    return run_tool('fcn-convert-torchvision-vgg')


# ---- fcn-config --------------------------------------------------------------------


class ConfigNameError(LookupError):
    """A config name that is no shipped config, or names several."""


def shipped_configs(root: Optional[Path] = None) -> List[str]:
    """The shipped configs and templates as ``folder/file.py`` (``_base_`` left out).

    Args:
        root: The configs folder; :func:`configs_dir` if None.
    """
    root = configs_dir() if root is None else root
    names = (p.relative_to(root).as_posix() for p in root.rglob('*.py'))
    return sorted(n for n in names if not n.startswith('_base_/'))


def find_config(name: str, root: Optional[Path] = None) -> Path:
    """The shipped config a name stands for (an existing file: that file, as it is).

    Args:
        name: ``folder/file.py`` as ``fcn-config list`` prints it, with or without
            ``.py`` or the ``mmseg_fcn_skip::`` prefix, or a file name alone if only
            one folder has it (``fcn8s_vgg16_custom-dataset``).
        root: The configs folder; :func:`configs_dir` if None.

    Raises:
        ConfigNameError: naming the closest shipped configs.
    """
    root = configs_dir() if root is None else root
    if not name.startswith(SCOPE_PREFIX) and Path(name).is_file():
        return Path(name)
    wanted = name[len(SCOPE_PREFIX) :] if name.startswith(SCOPE_PREFIX) else name
    if not wanted.endswith('.py'):
        wanted += '.py'
    if (root / wanted).is_file() and '..' not in Path(wanted).parts:
        return root / wanted
    every = shipped_configs(root) + [
        p.relative_to(root).as_posix() for p in (root / '_base_').rglob('*.py')
    ]
    by_file = [n for n in every if n.rsplit('/', 1)[-1] == wanted]
    if len(by_file) == 1:
        return root / by_file[0]
    if by_file:
        raise ConfigNameError(
            f'{name!r} names several shipped configs ({", ".join(by_file)}); give the folder too'
        )
    hint = _did_you_mean(closest_configs(wanted, every))
    raise ConfigNameError(
        f'{name!r} is no shipped config{hint}; `fcn-config list` prints every name'
    )


def closest_configs(wanted: str, names: Sequence[str], cutoff: float = 0.6) -> List[str]:
    """``names`` at least ``cutoff`` alike to ``wanted``, closest first.

    A name's closeness is the larger of ``difflib``'s ratio for the whole path
    (``fcn_skip/x.py``) and for its file name alone (``x.py``).
    """

    def closeness(name: str) -> float:
        return max(
            difflib.SequenceMatcher(None, wanted, candidate).ratio()
            for candidate in (name, name.rsplit('/', 1)[-1])
        )

    scored = sorted(((closeness(n), n) for n in names), key=lambda pair: -pair[0])
    return [name for score, name in scored if score >= cutoff]


def _did_you_mean(names: Sequence[str]) -> str:
    """``" (did you mean 'a' or 'b'?)"`` or nothing."""
    names = list(dict.fromkeys(names))[:2]
    if not names:
        return ''
    return ' (did you mean ' + ' or '.join(repr(n) for n in names) + '?)'


def portable_config_text(path: Path, root: Optional[Path] = None) -> str:
    """The text of a shipped config with its relative ``_base_`` paths made absolute.

    ``'../_base_/models/fcn8s_vgg16.py'`` becomes
    ``'mmseg_fcn_skip::_base_/models/fcn8s_vgg16.py'``, so the copy inherits the
    shipped bases from any folder (with the plugin imported first: the plugin's
    commands, mim and ``import mmseg_fcn_skip`` do that). Everything else is kept.

    Args:
        path: A config inside ``root``.
        root: The configs folder; :func:`configs_dir` if None.
    """
    root = (configs_dir() if root is None else root).resolve()
    text = path.read_text()
    folder = path.resolve().parent
    lines = text.splitlines(keepends=True)
    edits = []  # (line, start column, end column, new literal)
    for node in ast.walk(ast.parse(text)):
        if not (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == '_base_' for t in node.targets)
        ):
            continue
        for value in ast.walk(node.value):
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                if value.value.startswith(('./', '../')) and value.lineno == value.end_lineno:
                    base = (folder / value.value).resolve().relative_to(root).as_posix()
                    edits.append((value.lineno - 1, value.col_offset, value.end_col_offset, base))
    # Columns are byte offsets in UTF-8; the configs' base lines are ASCII.
    for line, start, end, base in sorted(edits, reverse=True):
        lines[line] = lines[line][:start] + repr(SCOPE_PREFIX + base) + lines[line][end:]
    return ''.join(lines)


def _config_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='fcn-config',
        description='List, print or copy the configs and templates shipped with mmseg-fcn-skip.',
    )
    commands = parser.add_subparsers(dest='command', required=True)
    listing = commands.add_parser('list', help='print the name of every shipped config')
    listing.add_argument('pattern', nargs='?', default='', help='only names containing this')
    show = commands.add_parser('show', help='print a shipped config')
    show.add_argument(
        'name', help='a name as `fcn-config list` prints it (or a config file of your own)'
    )
    show.add_argument(
        '--merged',
        action='store_true',
        help='print the whole config with its bases merged in',
    )
    copy = commands.add_parser(
        'copy',
        help='copy a shipped config to edit; its _base_ paths become mmseg_fcn_skip:: names',
    )
    copy.add_argument(
        'name',
        help='a name as `fcn-config list` prints it (or, with --merged, a config file of your own)',
    )
    copy.add_argument('dest', help='the file to write, or a folder to write it into')
    copy.add_argument(
        '--merged',
        action='store_true',
        help='write the whole config with its bases merged in: a file without '
        "mmseg_fcn_skip:: names, which also mmseg's own tools read",
    )
    copy.add_argument('--force', action='store_true', help='overwrite an existing file')
    return parser


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _merged_text(path: Path) -> str:
    from mmengine.config import Config

    import mmseg_fcn_skip  # noqa: F401  (mmseg_fcn_skip:: names in the bases)

    return Config.fromfile(str(path)).pretty_text


def config(argv: Optional[Sequence[str]] = None) -> int:
    """``fcn-config list|show|copy``: the shipped configs; returns the exit status."""
    args = _config_parser().parse_args(argv)
    if args.command == 'list':
        for name in shipped_configs():
            if args.pattern in name:
                print(name)
        return 0
    try:
        path = find_config(args.name)
    except ConfigNameError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    own = not _inside(path, configs_dir())
    if own and args.command == 'copy' and not args.merged:
        print(
            f'error: {path} is a config of your own, not a shipped one; copy it with cp, or '
            'add --merged to write it with its bases merged in',
            file=sys.stderr,
        )
        return 2
    if args.merged:
        text = _merged_text(path)
    else:
        text = path.read_text() if own else portable_config_text(path)
    if args.command == 'show':
        print(text, end='' if text.endswith('\n') else '\n')
        return 0
    dest = Path(args.dest)
    if dest.is_dir():
        dest = dest / path.name
    if dest.exists() and not args.force:
        print(f'error: {dest} exists; choose another name or add --force', file=sys.stderr)
        return 2
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text)
    origin = path if own else SCOPE_PREFIX + path.relative_to(configs_dir()).as_posix()
    print(f'wrote {dest} (from {origin}{", merged" if args.merged else ""})')
    return 0
