#!/usr/bin/env bash
# Create .venv beside the repository and install the course into it (with the test tools).
# Idempotent: reinstalls only when pyproject.toml changes.
# The packages are installed by uv (a pinned wheel from PyPI, put into the venv by the outer pip:
# a venv made without a pip of its own is made much faster): it downloads and installs in
# parallel, much faster than pip alone (benchmarks/README.md).
# Bytecode: grading kernels see the environment read-only and would compile numpy, matplotlib and
# ipykernel again in every kernel without it, and with PYTHONDONTWRITEBYTECODE set (as in many
# containers) every process of the grader would compile what it imports. scripts/warm_bytecode.py
# compiles what the course's programs import; `setup.sh all`, which the test command runs,
# compiles the rest of the environment too, once (JupyterLab, the test tools).
# UV=0 installs with pip instead. The venv has no pip: `.venv/bin/uv pip install ...` adds a package.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv --without-pip .venv
fi
pip_into_venv() {  # the outer pip (22.3 or newer), installing into .venv
    "$PYTHON" -m pip --python .venv/bin/python install --quiet --disable-pip-version-check "$@" 2>&1 \
        | grep -v "^WARNING: Location" || true
}
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "installing the course environment into .venv (once)"
    installed=0
    if [ "${UV:-1}" != 0 ]; then
        if [ ! -x .venv/bin/uv ]; then
            pip_into_venv "uv==$UV_VERSION"
        fi
        if [ -x .venv/bin/uv ]; then
            .venv/bin/uv pip install --quiet --python .venv/bin/python -e '.[test]' && installed=1 \
                || echo "uv could not install the environment; trying pip"
        fi
    fi
    if [ "$installed" = 0 ]; then
        pip_into_venv -e '.[test]'
    fi
    # this fails, here and not later, if the install broke
    .venv/bin/python scripts/warm_bytecode.py
    rm -f .venv/.installed-* .venv/.compiled-*
    touch "$stamp"
fi
compiled="${stamp/installed/compiled}"
if [ "${1:-}" = all ] && [ ! -f "$compiled" ]; then
    echo "compiling the rest of the environment's bytecode (once)"
    .venv/bin/python -m compileall -q -j 0 .venv/lib >/dev/null
    touch "$compiled"
fi
