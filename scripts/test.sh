#!/usr/bin/env bash
# The test command (README): installs what the tests need, then lints, type-checks and runs
# every test.
#   - Debian's packages for what the tests start themselves, those missing installed with one
#     apt-get update (needs root or sudo): `chromium` (Playwright drives that system browser, it
#     never downloads one), and `redis-server`, `postgresql` and `haproxy` (the cluster's tests
#     and the runs tests on PostgreSQL start their own on 127.0.0.1, never the services these
#     packages may start: backprop_lab/server/cluster/services.py).
#   - The project itself with its test extra, non-editable, so packaging is exercised too.
#   - ruff, then mypy on engine/ and server/, then pytest (arguments go to pytest). A run in
#     which no test ran (pytest's exit code 5: a typo in a path or a -k) fails, and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)  # services.SYSTEM_BIN: Debian 12's PostgreSQL 15
[ -x /usr/sbin/haproxy ] || missing+=(haproxy)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian's packages: ${missing[*]}…"
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  $apt_get update -qq
  DEBIAN_FRONTEND=noninteractive $apt_get install -y -qq "${missing[@]}" >/dev/null
fi

python -m pip install -q --upgrade pip >/dev/null
python -m pip install -q ".[test]"
python -m ruff check .
python -m mypy -p backprop_lab
# Compile the engine's kernels once (tens of seconds on a fresh machine); every test process and
# every server the tests start then loads them from numba's cache in well under a second.
python -c "from backprop_lab.engine.warmup import warm_up; print(f'engine kernels ready in {warm_up():.1f} s')"

status=0
python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "scripts/test.sh: no test ran (pytest exit code 5); check the arguments: $*" >&2
fi
exit "$status"
