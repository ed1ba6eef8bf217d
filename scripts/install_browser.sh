#!/usr/bin/env bash
# The browser that tests/test_browser.py drives: Debian's chromium (Playwright's own browser
# downloads are not used). Idempotent: does nothing when /usr/bin/chromium exists.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "install_browser.sh: /usr/bin/chromium is missing and apt-get is not available;" \
         "install Chromium so that /usr/bin/chromium exists (the browser test needs it)" >&2
    exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
        echo "install_browser.sh: not root and no sudo: install chromium yourself (apt-get install chromium)" >&2
        exit 0
    fi
fi
echo "installing Debian's chromium for the browser test (once)"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq chromium >/dev/null
