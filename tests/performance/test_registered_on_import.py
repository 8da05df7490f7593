"""What performance/__init__.py and docs/performance.md say: importing the plugin
registers the speed options, as the default runtime's custom_imports does."""

import subprocess
import sys


def test_plugin_import_registers_the_speed_options():
    code = (
        'import mmseg_fcn_skip, sys; '
        'from mmseg.registry import HOOKS, MODELS, OPTIM_WRAPPER_CONSTRUCTORS; '
        "assert 'mmseg_fcn_skip.performance' in sys.modules; "
        "assert HOOKS.get('ChannelsLastHook') is not None; "
        "assert MODELS.get('ChannelsLastSegDataPreProcessor') is not None; "
        "assert OPTIM_WRAPPER_CONSTRUCTORS.get('CompilableOptimWrapperConstructor') "
        'is not None'
    )
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
