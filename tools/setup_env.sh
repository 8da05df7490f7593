#!/usr/bin/env bash
# Source this file to get a Python environment with the plugin installed:
#   source tools/setup_env.sh
# Uses the active virtual environment if there is one, otherwise creates .venv in the
# repository. Installs torch first (TORCH_SPEC, default the CPU build torch==2.13.0; set
# e.g. TORCH_SPEC='torch==2.13.0' with your CUDA index for a GPU machine) only when no
# torch is importable, then the plugin with its test extras (quick when already there).
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${VIRTUAL_ENV:-}" ]; then
    if [ ! -x "$repo_root/.venv/bin/python" ]; then
        "${PYTHON:-python3}" -m venv "$repo_root/.venv"
    fi
    # shellcheck disable=SC1091
    source "$repo_root/.venv/bin/activate"
fi
if ! python -c 'import torch' 2>/dev/null; then
    python -m pip install --quiet "${TORCH_SPEC:-torch==2.13.0}"
fi
python -m pip install --quiet -e "$repo_root[test]"
