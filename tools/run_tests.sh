#!/usr/bin/env bash
# Install what is needed (see tools/setup_env.sh) and run the test suite on CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup_env.sh
python -m pytest -q "$@"
