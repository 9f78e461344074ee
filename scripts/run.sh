#!/usr/bin/env bash
# Runs the app on a developer machine: set-up, database schema, reference and demo data,
# static files, then Django's development server.
#   scripts/run.sh [--port N]        (or PORT=N scripts/run.sh; default 8000)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

port="${PORT:-8000}"
while [ $# -gt 0 ]; do
  case "$1" in
    --port) [ $# -ge 2 ] || die "--port needs a value"; port="$2"; shift 2 ;;
    --port=*) port="${1#--port=}"; shift ;;
    -h | --help) sed -n '2,4p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (usage: scripts/run.sh [--port N])" ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] || die "port must be a number, not '$port'"

"$REPO_ROOT/scripts/setup.sh"

export DJANGO_SETTINGS_MODULE=sitefinder.settings.local
manage() { "$VENV/bin/python" manage.py "$@"; }

log "applying migrations"
manage migrate --noinput
log "loading reference data"
manage load_reference_data
log "generating demo sites and demo inquiries (only where there are none yet)"
manage generate_demo_sites --if-empty
manage generate_demo_inquiries --if-empty
manage collectstatic --noinput -v0

# The task worker (offer PDFs, e-mails) runs beside the web server and stops with it.
log "starting the task worker (manage.py db_worker)"
manage db_worker --no-reload &
worker=$!
trap 'kill "$worker" 2>/dev/null' EXIT INT TERM

if ! manage shell -c "from accounts.models import User; import sys; sys.exit(0 if User.objects.filter(is_superuser=True).exists() else 1)" 2>/dev/null; then
  log "no staff account yet: '.venv/bin/python manage.py createsuperuser' makes one (inbox, offers, dashboard)"
fi
log "serving on http://127.0.0.1:$port/ (Ctrl-C stops; 'make stop-db' stops the database)"
"$VENV/bin/python" manage.py runserver "127.0.0.1:$port"
