#!/usr/bin/env bash
# The course's test suite: set up, then pytest (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh all  # the whole environment compiled: the tests start JupyterLab and more
bash scripts/install_browser.sh  # chromium for tests/test_browser.py
bash scripts/install_hub.sh  # the environment and proxy of tests/test_hub.py
export PATH="$PWD/.venv/bin:$PATH"
exec python -m pytest "$@"
