#!/usr/bin/env bash
# Source this file to get a Python environment with the plugin installed:
#   source tools/setup_env.sh
# Uses the active virtual environment (or a conda environment other than base) if there
# is one, otherwise creates .venv in the repository. Installs torch first (TORCH_SPEC,
# default the CPU build torch==2.13.0; set e.g. TORCH_SPEC='torch==2.13.0' with your CUDA
# index for a GPU machine) only when no torch is importable. Then:
# - in an environment that already has mmseg, mmengine and mmcv from the upstream
#   OpenMMLab releases (mmsegmentation, mmengine, mmcv), it leaves them alone: the plugin
#   is installed with --no-deps, plus its test tools with numpy held at its version;
# - otherwise it installs the plugin with its dependencies, the maintained packages
#   onedl-mmsegmentation / onedl-mmengine / onedl-mmcv, and says so (they provide the same
#   import names, so they would take the place of upstream ones);
# - with only some of mmseg/mmengine/mmcv present it stops and says what is missing.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_fcn_skip_setup() {
    local stack
    if [ -z "${VIRTUAL_ENV:-}" ] && { [ -z "${CONDA_PREFIX:-}" ] \
            || [ "${CONDA_DEFAULT_ENV:-base}" = base ]; }; then
        if [ ! -x "$repo_root/.venv/bin/python" ]; then
            "${PYTHON:-python3}" -m venv "$repo_root/.venv" || return 1
        fi
        # shellcheck disable=SC1091
        source "$repo_root/.venv/bin/activate"
    fi
    echo "setup_env: Python environment $(python -c 'import sys; print(sys.prefix)')"
    if ! python -c 'import torch' 2>/dev/null; then
        python -m pip install --quiet "${TORCH_SPEC:-torch==2.13.0}" || return 1
    fi
    # "none", "maintained", "upstream: <distributions>" or "partial: <missing modules>"
    stack="$(python - <<'EOF'
import importlib.metadata as metadata
import importlib.util

modules = ('mmseg', 'mmengine', 'mmcv')
present = [m for m in modules if importlib.util.find_spec(m) is not None]
if not present:
    print('none')
elif len(present) < len(modules):
    print('partial: ' + ', '.join(m for m in modules if m not in present))
else:
    owners = metadata.packages_distributions()
    dists = sorted({d for m in modules for d in owners.get(m, [m])})
    if all(d.startswith('onedl-') for d in dists):
        print('maintained')
    else:
        print('upstream: ' + ', '.join(f'{d} {metadata.version(d)}' for d in dists))
EOF
)" || return 1
    case "$stack" in
        none|maintained)
            if [ "$stack" = none ]; then
                echo "setup_env: installing the maintained OpenMMLab packages" \
                    "onedl-mmsegmentation, onedl-mmengine and onedl-mmcv (import names" \
                    "mmseg, mmengine, mmcv) with the plugin" >&2
            fi
            python -m pip install --quiet -e "$repo_root[test]" ;;
        upstream:*)
            echo "setup_env: this environment has ${stack#upstream: };" \
                "leaving it alone: installing the plugin with --no-deps" >&2
            python -m pip install --quiet --no-deps -e "$repo_root" || return 1
            # The [test] extra's requirements, with the installed numpy kept.
            python -m pip install --quiet "numpy==$(python -c 'import numpy; print(numpy.__version__)')" \
                $(python -c 'from importlib.metadata import requires
print(" ".join(r.split(";")[0].replace(" ", "") for r in requires("mmseg-fcn-skip")
               if "extra == \"test\"" in r))') ;;
        *)
            echo "setup_env: this environment has only some of mmseg, mmengine and mmcv" \
                "(missing: ${stack#partial: }). Install the missing upstream ones" \
                "(mmsegmentation 1.2.2, mmengine 0.10.7, mmcv 2.1.0) or use a new" \
                "environment, where this script installs the maintained packages." >&2
            return 1 ;;
    esac
}
_fcn_skip_setup
