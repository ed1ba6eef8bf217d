#!/usr/bin/env bash
# The instructor demo: set up, release the assignment, autograde a sample class, print grades.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
exec python -m autograde.demo
