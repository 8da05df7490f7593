"""Training curves from mmengine's scalar logs.

mmengine's ``LocalVisBackend`` writes ``WORK_DIR/<timestamp>/vis_data/scalars.json``,
one JSON object per line: training lines hold ``loss``, ``lr``, ... and validation lines
the metrics (``mIoU``, ``aAcc``, ...), each with its ``step`` (the iteration, with
``log_processor.by_epoch=False`` as in this plugin's configs). A resumed run adds a
timestamp folder; the folders are read in order and a later value of a key at a step
replaces an earlier one.
"""

import json
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Tuple, Union

from matplotlib.figure import Figure

#: Series name -> (step, value) points sorted by step.
Scalars = Dict[str, List[Tuple[int, float]]]
DEFAULT_KEYS = ('loss', 'lr', 'mIoU', 'aAcc')
#: Series with at most this many points are drawn with markers (validation metrics).
MARKER_POINTS = 30


def find_scalar_logs(path: Union[str, Path]) -> List[Path]:
    """The ``scalars.json`` files of a work dir, a run folder, or the file itself.

    Raises:
        FileNotFoundError: if there is none.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    files = sorted(path.glob('*/vis_data/scalars.json')) + sorted(
        path.glob('vis_data/scalars.json')
    )
    if not files:
        raise FileNotFoundError(
            f'no scalar log under {path}: expected WORK_DIR/<timestamp>/vis_data/'
            "scalars.json, written by mmengine's LocalVisBackend (visualizer "
            "vis_backends=[dict(type='LocalVisBackend')]); or pass the json file"
        )
    return files


def load_scalars(files: Sequence[Path]) -> Scalars:
    """Read JSON-lines scalar logs into one series per key, sorted by step.

    Lines that are not JSON objects with a ``step`` (such as a last line cut off by a
    killed run) are skipped.
    """
    points: Dict[str, Dict[int, float]] = {}
    for file in files:
        for line in Path(file).read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(record, dict) or 'step' not in record:
                continue
            step = int(record['step'])
            for key, value in record.items():
                if key != 'step' and isinstance(value, (int, float)):
                    points.setdefault(key, {})[step] = float(value)
    return {key: sorted(series.items()) for key, series in points.items()}


def run_label(path: Union[str, Path]) -> str:
    """Legend label of a run: its work dir's name."""
    path = Path(path).resolve()
    if path.is_file() and path.parent.name == 'vis_data':
        return path.parents[2].name
    if (path / 'vis_data').is_dir():
        return path.parent.name
    return path.stem if path.is_file() else path.name


def plot_curves(
    runs: Mapping[str, Scalars], out_file: Union[str, Path], keys: Sequence[str] = DEFAULT_KEYS
) -> List[str]:
    """Draw one panel per key found in any run, the runs overlaid, and save a PNG.

    Returns:
        The keys drawn, in panel order.

    Raises:
        ValueError: if no run has any of ``keys``.
    """
    drawn = [key for key in keys if any(key in scalars for scalars in runs.values())]
    if not drawn:
        available = sorted({key for scalars in runs.values() for key in scalars})
        raise ValueError(f'none of {list(keys)} is in the logs; available keys: {available}')
    columns = min(len(drawn), 2)
    rows = -(-len(drawn) // columns)
    figure = Figure(figsize=(6 * columns, 3.6 * rows))
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis, key in zip(axes, drawn):
        for label, scalars in runs.items():
            series = scalars.get(key)
            if not series:
                continue
            steps, values = zip(*series)
            marker = 'o' if len(series) <= MARKER_POINTS else None
            axis.plot(steps, values, label=label, marker=marker, linewidth=1)
        axis.set_title(key)
        axis.set_xlabel('iteration')
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    for axis in axes[len(drawn) :]:
        axis.set_visible(False)
    figure.tight_layout()
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out_file, dpi=100)
    return drawn
