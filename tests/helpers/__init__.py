"""Shared pieces of the tests, imported as ``tests.helpers.<module>`` (pytest puts the
repository root on ``sys.path``: ``pythonpath`` in ``pyproject.toml``).

- ``light_models``: light toy FCNs (configs, models, checkpoints, ``--cfg-options``).
- ``composed_models``: light versions of the configs built on mmseg's backbones.
- ``multi_task_data``: tiny two-task datasets in the multi-task template's layout.
- ``processes``: tools run in a fresh process or imported, free ports.
- ``training_runs``: tiny training runs of ``tools/train.py`` and their checkpoints.
- ``training_probes``: hooks that the training subprocesses import (``custom_imports``).
- ``images``: images whose predictions vary, written to files.
- ``saved_figures``: the matplotlib figures that code under test saves.
- ``scores_by_hand``: confusion matrices and the paper's four scores counted by hand.
- ``caffemodel_writer``, ``reference_nets``: Caffe files and the reference nets' forward.
- ``weights_files``, ``weights_server``: light files in the published layouts, and a
  loopback HTTP server that serves them.
"""

from pathlib import Path

#: The repository root.
REPO = Path(__file__).resolve().parents[2]
