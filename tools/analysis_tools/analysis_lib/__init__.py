"""Code that only the command lines of ``tools/analysis_tools/`` (and the experiments of
``tools/experiments/``) use; not part of the ``mmseg_fcn_skip`` package.

The scripts put their own folder on ``sys.path`` and import from here:

- :mod:`analysis_lib.benchmark`: parameters and FLOPs (one counter, one multiply-add =
  2 FLOPs), throughput, memory and arithmetic rate against mmseg's FCN R50-D8
  (``benchmark.py``, ``get_flops.py``);
- :mod:`analysis_lib.curves`: training curves from mmengine's scalar logs
  (``plot_curves.py``);
- :mod:`analysis_lib.grids`: where a network's maps lie on its input, from input
  gradients (``probe_grids.py``);
- :mod:`analysis_lib.scores`: per-class scores of checkpoints on their validation set
  (``compare_runs.py``);
- :mod:`analysis_lib.staged`: staged FCN-32s -> 16s -> 8s against FCN-8s from scratch,
  the runs, their configs and commands and the table of their mIoU
  (``compare_staged.py``).
"""
