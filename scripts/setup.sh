#!/usr/bin/env bash
# Create .venv beside the repository and install the course into it (with the test tools).
# Idempotent: reinstalls only when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv .venv
fi
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "installing the course environment into .venv (about a minute, once)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 \
        | grep -v "^WARNING: Location" || true
    .venv/bin/python -c "import autograde, nbgrader, numpy" # fail here, not later, if the install broke
    rm -f .venv/.installed-*
    touch "$stamp"
fi
