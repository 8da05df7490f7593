"""Model complexity and training-curve helpers behind the tools in ``tools/``."""
from .complexity import model_complexity
from .curves import find_scalar_logs, load_scalars, plot_curves, run_label

__all__ = ['find_scalar_logs', 'load_scalars', 'model_complexity', 'plot_curves',
           'run_label']
