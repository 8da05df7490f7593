#!/usr/bin/env bash
# Install what is needed (see tools/setup_env.sh), check lint and format, and run the
# test suite on CPU. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh
python -m ruff check .
python -m ruff format --check .
python -m pytest -q "$@"
