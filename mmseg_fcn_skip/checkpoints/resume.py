"""Which checkpoint ``--resume`` continues from: the newest intact one.

The counterpart of :mod:`.atomic_io`: atomic writes keep a crash from damaging a
checkpoint under its final name; files damaged otherwise (a full disk, a copy cut
off, older runs without atomic writes) are passed over here, newest first, and
kept.

- :func:`find_resume_checkpoint`: the newest intact checkpoint of a work dir,
  falling back past damaged ones, without deleting anything;
- :func:`resolve_resume` applies it to a config for ``tools/train.py --resume``.
"""

import logging
import re
from pathlib import Path
from typing import List, Optional

from mmengine.config import Config
from mmengine.logging import print_log

from .reader import CheckpointError, PathLike, check_checkpoint_file

#: Names mmengine's ``CheckpointHook`` gives checkpoints (``filename_tmpl``).
CHECKPOINT_NAME = re.compile(r'(iter|epoch)_(\d+)\.pth')


def find_resume_checkpoint(work_dir: PathLike) -> Optional[str]:
    """The newest intact checkpoint to resume from in ``work_dir``.

    Tries the file ``work_dir/last_checkpoint`` names first (mmengine writes
    it after each save), then every ``iter_N.pth``/``epoch_N.pth`` beside it,
    newest (largest N) first. Damaged files are passed over with a warning
    and left in place.

    Returns:
        The checkpoint's path, or None if ``work_dir`` has no checkpoint at
        all (a fresh run).

    Raises:
        CheckpointError: if there are checkpoints but none is intact, listing
            each file and what is wrong with it.
    """
    candidates = _resume_candidates(Path(work_dir))
    problems = []
    for candidate in candidates:
        try:
            check_checkpoint_file(candidate)
        except CheckpointError as error:
            problems.append(str(error))
            continue
        if problems:
            print_log(
                f'Resuming from {candidate}, the newest intact checkpoint; '
                'passed over (and kept): ' + '; '.join(problems),
                logger='current',
                level=logging.WARNING,
            )
        return str(candidate)
    if problems:
        raise CheckpointError(
            f'no usable checkpoint to resume from in {work_dir}:\n  '
            + '\n  '.join(problems)
            + '\nNothing was deleted. Start afresh '
            'without --resume (or in another work dir), or pass a good '
            'checkpoint with --cfg-options load_from=PATH.'
        )
    return None


def resolve_resume(cfg: Config) -> None:
    """Point ``cfg.load_from`` at the checkpoint ``--resume`` continues from.

    A ``load_from`` given by the user is only checked (no fallback: it was
    chosen explicitly). Otherwise the newest intact checkpoint of
    ``cfg.work_dir`` is used (:func:`find_resume_checkpoint`); with none at
    all, ``cfg.resume`` is turned off and training starts afresh.

    Raises:
        CheckpointError: if the chosen file is damaged, or the work dir has
            checkpoints but none is intact.
    """
    if cfg.get('load_from'):
        check_checkpoint_file(cfg.load_from)
        return
    cfg.load_from = find_resume_checkpoint(cfg.work_dir)
    if cfg.load_from is None:
        print_log(
            f'No checkpoint in {cfg.work_dir} to resume from; starting afresh.',
            logger='current',
            level=logging.WARNING,
        )
        cfg.resume = False


def _resume_candidates(work_dir: Path) -> List[Path]:
    """``last_checkpoint``'s target, then the named checkpoints, newest first."""
    candidates = []
    folder = work_dir
    pointer = work_dir / 'last_checkpoint'
    if pointer.is_file():
        target = pointer.read_text().strip()
        if target:
            candidates.append(Path(target))
            folder = Path(target).parent
    numbered = []
    for directory in {folder, work_dir}:
        for file in directory.glob('*.pth'):
            match = CHECKPOINT_NAME.fullmatch(file.name)
            if match:
                numbered.append((int(match.group(2)), file))
    candidates += [file for _, file in sorted(numbered, reverse=True)]
    return list(dict.fromkeys(candidates))
