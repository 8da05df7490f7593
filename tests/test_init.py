"""What ``import mmseg_fcn_skip`` alone does to mmengine and torch, each in a fresh
process (the test process itself has imported the plugin in other ways)."""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run_fresh(code: str, tmp_path: Path) -> str:
    result = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(code)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def test_import_resolves_packaged_config_bases(tmp_path):
    user_config = tmp_path / 'my_fcn.py'
    user_config.write_text(
        "_base_ = 'mmseg_fcn_skip::fcn_skip/fcn8s_vgg16_4xb4-40k_voc12aug-512x512.py'\n"
        'model = dict(decode_head=dict(num_classes=7))\n'
    )
    last = _run_fresh(
        f"""
        import mmseg_fcn_skip
        from mmengine.config import Config
        cfg = Config.fromfile({str(user_config)!r})
        print(cfg.model.decode_head.type, cfg.model.decode_head.num_classes)
        """,
        tmp_path,
    )
    assert last == 'FCNSkipHead 7'


def test_import_adapts_loader_safe_globals_and_file_backend(tmp_path):
    last = _run_fresh(
        """
        import torch
        from mmengine.runner import checkpoint
        # As upstream mmengine 0.10.7, which does not allow its own globals itself.
        if hasattr(checkpoint, 'get_torch_safe_globals'):
            del checkpoint.get_torch_safe_globals
        import mmseg_fcn_skip
        from mmengine.fileio.backends.registry_utils import backends
        from mmengine.logging import HistoryBuffer
        from mmengine.runner.checkpoint import CheckpointLoader
        schemes = CheckpointLoader._schemes
        print('atomic_local' in backends,
              any(scheme.startswith('https') for scheme in schemes),
              HistoryBuffer in torch.serialization.get_safe_globals())
        """,
        tmp_path,
    )
    assert last == 'True True True'
