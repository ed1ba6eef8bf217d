#!/usr/bin/env bash
# The instructor demo: set up, release the assignment, grade a sample class with grade-class (nbgrader
# autograde in parallel on a local Dask cluster), write feedback, print grades.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
exec python -m autograde.demo
