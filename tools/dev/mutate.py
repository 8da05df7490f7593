"""Mutation testing on demand: plant one-line bugs in a copy of the repository and
report which of them the tests catch.

Each mutation in ``tools/dev/mutations.py`` names a file, a piece of one line that must
occur exactly once in it, its replacement and the tests to run. The repository is
copied to a temporary folder (the working tree is never modified); for each mutation
the copy's file is changed, the tests run there with ``-x`` and a time limit, and the
file is restored. A mutation is *killed* when the tests fail, *survived* when they
pass. The script stops before running anything if an original text is missing or
ambiguous, so the list has to follow the code.

Usage::

    python tools/dev/mutate.py                  # every mutation (15 min on 2 cores)

    python tools/dev/mutate.py --only hooks     # mutations whose name contains 'hooks'
    python tools/dev/mutate.py --list           # list them, run nothing
    python tools/dev/mutate.py --check          # only check that every mutation applies

Exit status: 0 if every mutation was killed, 1 if some survived, 2 if the list does not
apply or the unmutated tests fail.
"""

import argparse
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Dict, Iterable, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[2]

#: Not copied, anywhere: environments, caches and version control.
IGNORED = ('.venv', '.git', '__pycache__', '*.egg-info', '.pytest_cache', '.whl')
#: Not copied at the top of the repository only: outputs, data and downloaded weights
#: (the package and the tests have folders of these names).
IGNORED_AT_TOP = ('work_dirs', 'data', 'checkpoints', 'build', 'dist')


def _load_mutations() -> ModuleType:
    """The sibling module ``mutations.py`` (this script is not in a package)."""
    spec = importlib.util.spec_from_file_location(
        'mutations', Path(__file__).with_name('mutations.py')
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_mutations = _load_mutations()
Mutation, MUTATIONS = _mutations.Mutation, _mutations.MUTATIONS


class MutationError(ValueError):
    """A mutation does not apply to the current code."""


def apply_mutation(text: str, mutation: Mutation) -> str:
    """``text`` with the mutation's original replaced.

    Raises:
        MutationError: if the original spans lines, or does not occur exactly once.
    """
    if '\n' in mutation.original or '\n' in mutation.replacement:
        raise MutationError(f'{mutation.name}: original and replacement must be parts of one line')
    count = text.count(mutation.original)
    if count != 1:
        raise MutationError(
            f'{mutation.name}: {mutation.original!r} occurs {count} times in '
            f'{mutation.path} (needs exactly 1); update tools/dev/mutations.py to the '
            'current code'
        )
    return text.replace(mutation.original, mutation.replacement)


def check_mutations(mutations: Sequence[Mutation], root: Path = REPO) -> List[str]:
    """Problems of each mutation against the files under ``root`` (empty if none)."""
    problems = []
    names = [m.name for m in mutations]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f'{name}: the name is used twice')
    for mutation in mutations:
        path = root / mutation.path
        if not path.is_file():
            problems.append(f'{mutation.name}: {mutation.path} does not exist')
            continue
        try:
            apply_mutation(path.read_text(), mutation)
        except MutationError as error:
            problems.append(str(error))
        missing = [t for t in mutation.tests if not (root / t.split('::')[0]).exists()]
        if missing:
            problems.append(f'{mutation.name}: no test file {missing}')
    return problems


def copy_repo(destination: Path) -> Path:
    """Copy the working tree (without environments and outputs) to ``destination``."""
    anywhere = shutil.ignore_patterns(*IGNORED)

    def ignore(folder: str, names: list) -> set:
        ignored = set(anywhere(folder, names))
        if Path(folder) == REPO:
            ignored |= set(names) & set(IGNORED_AT_TOP)
        return ignored

    shutil.copytree(REPO, destination, ignore=ignore)
    return destination


def run_tests(copy: Path, tests: Iterable[str], timeout: float) -> Dict[str, object]:
    """Run pytest in ``copy`` on ``tests``, importing the package from the copy."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1')
    env['PYTHONPATH'] = os.pathsep.join(
        [str(copy)] + [p for p in [os.environ.get('PYTHONPATH')] if p]
    )
    command = [sys.executable, '-m', 'pytest', '-x', '-q', '-p', 'no:cacheprovider', *tests]
    start = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return dict(code=None, seconds=time.monotonic() - start, tail='timeout')
    tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ['']
    return dict(code=done.returncode, seconds=time.monotonic() - start, tail=tail[0])


def check_import(copy: Path) -> None:
    """Make sure the tests in ``copy`` import the package from the copy."""
    env = dict(os.environ, PYTHONPATH=str(copy))
    done = subprocess.run(
        [sys.executable, '-c', 'import mmseg_fcn_skip; print(mmseg_fcn_skip.__file__)'],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    where = Path(done.stdout.strip().splitlines()[-1]).resolve()
    if not where.is_relative_to(copy.resolve()):
        raise SystemExit(
            f'the package is imported from {where}, not from '
            f'the copy {copy}; mutations would not be seen'
        )


def outcome(result: Dict[str, object]) -> str:
    """'killed', 'killed (timeout)', 'survived' or 'error' (no tests ran)."""
    code = result['code']
    if code is None:
        return 'killed (timeout)'
    if code == 0:
        return 'survived'
    if code in (4, 5):  # usage error, no tests collected
        return 'error'
    return 'killed'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--only', nargs='+', default=[], help='run mutations whose name contains any of these'
    )
    parser.add_argument('--list', action='store_true', help='list mutations, run none')
    parser.add_argument(
        '--check', action='store_true', help='only check that every mutation applies'
    )
    parser.add_argument(
        '--no-baseline', action='store_true', help='do not first run the selected tests unmutated'
    )
    parser.add_argument(
        '--timeout', type=float, default=300, help='seconds allowed per test run (default: 300)'
    )
    parser.add_argument(
        '--keep', action='store_true', help='keep the copy of the repository and print its path'
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Check the list, then run every selected mutation; return the exit status."""
    args = parse_args(argv)
    problems = check_mutations(MUTATIONS)
    if problems:
        print(
            'The mutation list does not apply to the current code:\n  ' + '\n  '.join(problems),
            file=sys.stderr,
        )
        return 2
    selected = [m for m in MUTATIONS if not args.only or any(word in m.name for word in args.only)]
    if args.list or args.check:
        for mutation in selected if args.list else []:
            print(
                f'{mutation.name:32} {mutation.path}: {mutation.original!r} -> '
                f'{mutation.replacement!r}'
            )
        print(f'{len(selected)} mutations apply to the current code')
        return 0
    start = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix='mutate_'))

    # A kill (SIGTERM) stops the running tests and removes the copy, as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        copy = copy_repo(work / 'repo')
        check_import(copy)
        if not args.no_baseline:
            tests = sorted({t for m in selected for t in m.tests})
            baseline = run_tests(copy, tests, args.timeout * 2)
            if baseline['code'] != 0:
                print(
                    f'The unmutated tests fail ({baseline["tail"]}); fix them first',
                    file=sys.stderr,
                )
                return 2
            print(f'unmutated tests pass ({baseline["seconds"]:.0f} s)')
        survivors = []
        for index, mutation in enumerate(selected, 1):
            path = copy / mutation.path
            original = path.read_text()
            path.write_text(apply_mutation(original, mutation))
            try:
                result = run_tests(copy, mutation.tests, args.timeout)
            finally:
                path.write_text(original)
            verdict = outcome(result)
            if not verdict.startswith('killed'):
                survivors.append((mutation, verdict))
            print(
                f'[{index:2}/{len(selected)}] {verdict:16} {mutation.name:32} '
                f'{result["seconds"]:5.0f} s  {result["tail"]}',
                flush=True,
            )
        killed = len(selected) - len(survivors)
        print(
            f'\nkilled {killed} of {len(selected)} mutations '
            f'({100 * killed / max(len(selected), 1):.0f}%) in '
            f'{(time.monotonic() - start) / 60:.0f} min'
        )
        for mutation, verdict in survivors:
            print(
                f'{verdict}: {mutation.name}: {mutation.path}: '
                f'{mutation.original!r} -> {mutation.replacement!r}'
            )

        return 1 if survivors else 0
    finally:
        if args.keep:
            print(f'copy kept in {work}')
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
