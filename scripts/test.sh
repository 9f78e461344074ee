#!/usr/bin/env bash
# Runs every check the project has: set-up, lint, missing migrations, then the test suite.
#   scripts/test.sh [pytest arguments...]     e.g. scripts/test.sh -k tiles -x
# All checks run even if an earlier one fails; the exit status is non-zero if any failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/setup.sh"

export DJANGO_SETTINGS_MODULE=sitefinder.settings.test
# pytest-django's live_server runs beside Playwright's event loop in the test process.
export DJANGO_ALLOW_ASYNC_UNSAFE=true

failed=()

"$REPO_ROOT/scripts/lint.sh" || failed+=(lint)

log "checking for model changes without a migration"
"$VENV/bin/python" manage.py makemigrations --check --dry-run || failed+=(makemigrations)

log "running the tests"
rc=0
"$VENV/bin/pytest" "$@" || rc=$?
case "$rc" in
  0) ;;
  5) log "pytest collected no tests: that counts as a failure"; failed+=("pytest (no tests)") ;;
  *) failed+=("pytest (exit $rc)") ;;
esac

if [ ${#failed[@]} -gt 0 ]; then
  die "FAILED: ${failed[*]}"
fi
log "all checks passed"
