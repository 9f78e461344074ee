#!/usr/bin/env bash
# Runs sitefinder: set-up, database schema, reference data, static files, then the web
# server (gunicorn), the task worker and the scheduler, supervised together (manage.py serve).
#   scripts/run.sh [--port N] [--dev] [--demo]    (or PORT=N scripts/run.sh; default 8000)
#     --dev   Django's auto-reloading development server instead of gunicorn (DEBUG on)
#     --demo  generate demo sites and inquiries even into a DATABASE_URL database
#             (the private cluster gets them always; only into a database without any)
# Ctrl-C stops everything; the database keeps running ('scripts/pg.sh stop' stops it).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

port="${PORT:-8000}"
dev=0
demo=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) [ $# -ge 2 ] || die "--port needs a value"; port="$2"; shift 2 ;;
    --port=*) port="${1#--port=}"; shift ;;
    --dev) dev=1; shift ;;
    --demo) demo=1; shift ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (usage: scripts/run.sh [--port N] [--dev] [--demo])" ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] || die "port must be a number, not '$port'"

"$REPO_ROOT/scripts/setup.sh"

# A deployment sets DJANGO_SETTINGS_MODULE=sitefinder.settings.production; the default is
# the developer machine's settings, with DEBUG only for --dev. (A shell left with the test
# settings exported does not serve with them.)
case "${DJANGO_SETTINGS_MODULE:-}" in
  "" | sitefinder.settings.test) export DJANGO_SETTINGS_MODULE=sitefinder.settings.local ;;
esac
if [ "$dev" -eq 1 ]; then export SITEFINDER_DEBUG=1; else export SITEFINDER_DEBUG="${SITEFINDER_DEBUG:-0}"; fi

# Demo data only into the private demo cluster, or when asked: never into a real database.
prepare_args=()
if [ -z "${DATABASE_URL:-}" ] || [ "$demo" -eq 1 ]; then prepare_args+=(--demo); fi
"$VENV/bin/python" manage.py prepare "${prepare_args[@]}"

serve_args=(--bind "127.0.0.1:$port")
[ "$dev" -eq 1 ] && serve_args+=(--dev)
log "serving on http://127.0.0.1:$port/ with the task worker and the scheduler (Ctrl-C stops all)"
exec "$VENV/bin/python" manage.py serve "${serve_args[@]}"
