#!/usr/bin/env bash
# What tests/test_hub.py needs to run the course's JupyterHub (deploy/) with real accounts:
# - .venv-hub/: the course environment with the `hub` extra, made from the system's Python, because
#   the accounts' servers and kernels run it and .venv's Python may be private to its owner (a pyenv
#   under /root, say); with its bytecode compiled, as the accounts cannot write it;
# - configurable-http-proxy (JupyterHub's proxy, from npm; needs Node.js 20 or newer) in .venv-hub/proxy/.
# Idempotent: each part is redone only when pyproject.toml or the proxy's version changes (a second run
# takes well under a second). Needs .venv (scripts/setup.sh) for uv.
set -euo pipefail
cd "$(dirname "$0")/.."
PROXY_VERSION=5.3.0
SYSTEM_PYTHON="${HUB_PYTHON:-/usr/bin/python3}"
if [ ! -x "$SYSTEM_PYTHON" ]; then
    echo "install_hub.sh: $SYSTEM_PYTHON is missing: set HUB_PYTHON to a Python 3.10+ every account can run" >&2
    exit 0
fi
stamp=".venv-hub/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "making .venv-hub, the course environment for the JupyterHub test (once)"
    rm -rf .venv-hub
    .venv/bin/uv venv --quiet --python "$SYSTEM_PYTHON" .venv-hub
    .venv/bin/uv pip install --quiet --compile-bytecode --python .venv-hub/bin/python -e '.[hub]'
    touch "$stamp"
fi
prefix=.venv-hub/proxy
if ! grep -qs "\"version\": \"$PROXY_VERSION\"" "$prefix/node_modules/configurable-http-proxy/package.json"; then
    if ! command -v npm >/dev/null; then
        echo "install_hub.sh: npm is missing: install Node.js 20 or newer (apt-get install nodejs npm)" >&2
        exit 0
    fi
    echo "installing configurable-http-proxy $PROXY_VERSION into $prefix (once)"
    npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "configurable-http-proxy@$PROXY_VERSION" >/dev/null
fi
