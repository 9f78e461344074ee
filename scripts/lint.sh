#!/usr/bin/env bash
# Static checks: formatting, lint rules and types (configuration in pyproject.toml).
#   scripts/lint.sh          check only; exits non-zero if any check fails
#   scripts/lint.sh --fix    reformat and apply ruff's safe fixes, then report what is left
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

[ -x "$VENV/bin/ruff" ] && [ -x "$VENV/bin/mypy" ] || die "lint tools missing; run scripts/setup.sh"

fix=0
case "${1:-}" in
  "") ;;
  --fix) fix=1 ;;
  *) die "usage: scripts/lint.sh [--fix]" ;;
esac

failed=()
check() { # name, command...
  local name="$1"
  shift
  log "$name"
  "$@" || failed+=("$name")
}

if [ "$fix" -eq 1 ]; then
  check "ruff format" "$VENV/bin/ruff" format .
  check "ruff check --fix" "$VENV/bin/ruff" check --fix .
else
  check "ruff format --check" "$VENV/bin/ruff" format --check .
  check "ruff check" "$VENV/bin/ruff" check .
  check "mypy" "$VENV/bin/mypy" .
fi

if [ ${#failed[@]} -gt 0 ]; then
  die "lint failed: ${failed[*]}"
fi
log "lint passed"
