#!/usr/bin/env bash
# The test command (README): installs what the tests need, then lints and runs every test.
#   - Chromium from Debian's `chromium` package when /usr/bin/chromium is missing (needs root
#     or sudo); Playwright drives that system browser, it never downloads one.
#   - The project itself with its test extra, non-editable, so packaging is exercised too.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Chromium from Debian's package…"
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  $apt_get update -qq
  DEBIAN_FRONTEND=noninteractive $apt_get install -y -qq chromium >/dev/null
fi

python -m pip install -q --upgrade pip >/dev/null
python -m pip install -q ".[test]"
python -m ruff check .
python -m pytest "$@"
