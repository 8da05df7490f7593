"""Quiet imports of the dependencies: their messages that do not concern the user.

onedl-mmsegmentation prints ``Could not import OneDL`` on stdout twice while
``mmseg.datasets`` is imported (a debug message of an optional integration, printed
because no logger exists yet), and mmcv-lite warns that its compiled
``MultiScaleDeformableAttention`` is missing (no model of the plugin uses it).
Both would reach every command's output, and the stdout lines every
``$(python -c 'import mmseg_fcn_skip; ...')``. :func:`quiet_dependency_imports`
drops exactly these while the plugin imports its dependencies; every other line and
warning passes.

No import of mmseg or mmengine here: this module runs before them.
"""

import contextlib
import io
import sys
import warnings
from typing import Iterator, TextIO

#: Lines the dependencies print on stdout while being imported (dropped).
IMPORT_NOISE_LINES = ('Could not import OneDL',)
#: Warnings (start of the message) the dependencies give while being imported.
IMPORT_NOISE_WARNINGS = (r'Fail to import ``MultiScaleDeformableAttention``',)


class _LineFilter(io.TextIOBase):
    """A text stream that passes every line to ``target`` except the dropped ones."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.pending = ''

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split('\n')
        for line in lines:
            if line.strip() not in IMPORT_NOISE_LINES:
                self.target.write(line + '\n')
        return len(text)

    def flush(self) -> None:
        if self.pending and self.pending.strip() not in IMPORT_NOISE_LINES:
            self.target.write(self.pending)
        self.pending = ''
        self.target.flush()


@contextlib.contextmanager
def quiet_dependency_imports() -> Iterator[None]:
    """Drop :data:`IMPORT_NOISE_LINES` from stdout and :data:`IMPORT_NOISE_WARNINGS`."""
    stream = _LineFilter(sys.stdout)
    with warnings.catch_warnings():
        for message in IMPORT_NOISE_WARNINGS:
            warnings.filterwarnings('ignore', message=message, category=UserWarning)
        try:
            with contextlib.redirect_stdout(stream):
                yield
        finally:
            stream.flush()
