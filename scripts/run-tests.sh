#!/usr/bin/env bash
# The README's test command: lint, unit tests (no VM), then integration tests that boot real VMs.
# pytest exit code 5 ("no tests collected") is a failure here, so CI can never pass silently.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
status=0
run() {
  echo "== $*"
  "$@"
  local rc=$?
  if [ "$rc" -eq 5 ]; then echo "error: no tests collected by: $*" >&2; rc=1; fi
  [ "$rc" -eq 0 ] || status=1
}
run "$BIN/ruff" check harness tests
run "$BIN/mypy" harness
run "$BIN/lint-imports"
run "$BIN/pytest" -q -p no:cacheprovider -n 2 tests/unit  # two processes: the unit suite is ~900 tests
run "$BIN/pytest" -q -p no:cacheprovider tests/integration
exit "$status"
