#!/usr/bin/env bash
# Create .venv beside the repository and install the course into it (with the test tools).
# Idempotent: reinstalls only when pyproject.toml changes.
# The packages are installed by uv (a pinned wheel from PyPI, put into the venv by pip first): it
# downloads and installs in parallel, about 30 s here against a minute and a half for pip alone. It
# compiles the bytecode too, as pip does: grading kernels see the environment read-only and would
# otherwise compile numpy, matplotlib and ipykernel again in every kernel.
# UV=0 installs with pip instead.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
if [ ! -x .venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv .venv
fi
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "installing the course environment into .venv (about half a minute, once)"
    installed=0
    if [ "${UV:-1}" != 0 ]; then
        if [ ! -x .venv/bin/uv ]; then
            .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION" 2>&1 \
                | grep -v "^WARNING: Location" || true
        fi
        if [ -x .venv/bin/uv ]; then
            .venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python -e '.[test]' && installed=1 \
                || echo "uv could not install the environment; trying pip"
        fi
    fi
    if [ "$installed" = 0 ]; then
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 \
            | grep -v "^WARNING: Location" || true
    fi
    .venv/bin/python -c "import autograde, nbgrader, numpy" # fail here, not later, if the install broke
    rm -f .venv/.installed-*
    touch "$stamp"
fi
