#!/usr/bin/env bash
# Sets up everything the project needs on this machine; safe to run again and again.
#   scripts/setup.sh
# Steps whose inputs did not change since the last successful run are skipped (stamp files in
# .setup-stamps/ keyed on input hashes), so a second run takes a few seconds.
#   1. Debian packages (PostGIS, Chromium for the browser tests, gettext, ...) if missing
#   2. .venv with Python 3.12 and the pinned requirements
#   3. npm packages from package-lock.json
#   4. the private PostGIS cluster (skipped when DATABASE_URL points elsewhere) and the
#      private Redis, the shared cache (skipped when REDIS_URL points elsewhere)
#   5. compiled translations, if the project has any
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

# gdal-bin: the importer tests write Shapefile and GeoPackage fixtures with ogr2ogr.
# redis-server: the shared cache (scripts/redis.sh starts a private one, like the database).
APT_PACKAGES=(postgresql-15-postgis-3 gdal-bin chromium gettext poppler-utils fonts-dejavu-core fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 redis-server)

# One set-up at a time per checkout (run.sh and test.sh both call this script).
mkdir -p "$STAMPS"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$STAMPS/setup.lock"
  flock 9
  # Unlocks even if a daemon we started inherited the descriptor by mistake.
  trap 'flock -u 9' EXIT
fi

# Timings for the summary; EPOCHREALTIME's decimal separator follows the locale.
now() { local t=$EPOCHREALTIME; printf '%s' "${t/[^0-9]/.}"; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
TIMINGS=()
T0=$(now)
step_start() { STEP_T=$(now); }
step_done() { # name, note
  TIMINGS+=("$(printf '%-9s %6s s  %s' "$1" "$(elapsed "$STEP_T")" "$2")")
}

apt_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = "installed" ]
}

apt_install() { # packages...
  log "installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- 1. Debian packages -----------------------------------------------------------------
step_start
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  apt_installed "$pkg" || missing+=("$pkg")
done
# node and npm may come from elsewhere (nvm, NodeSource); only install Debian's if absent.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
  step_done apt "installed ${missing[*]}"
else
  step_done apt "all present"
fi

# --- 2. Python 3.12 virtualenv -----------------------------------------------------------
step_start
venv_ok() {
  [ -x "$VENV/bin/python" ] \
    && "$VENV/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1
}
if ! venv_ok; then
  # `python3.12` on PATH; a pyenv shim picks the version from .python-version (we are in
  # the repo root). A shim without that version installed fails the check.
  command -v python3.12 >/dev/null 2>&1 \
    && python3.12 -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 \
    || die "Python 3.12 is needed (Django 6 requires it) but no working python3.12 is on \
PATH. Install it, e.g. 'pyenv install $(cat .python-version 2>/dev/null || echo 3.12)', or \
with your system's package manager, then run scripts/setup.sh again."
  log "creating .venv with $(python3.12 --version)"
  rm -rf "$VENV"
  python3.12 -m venv "$VENV"
  rm -f "$STAMPS/pip"
fi
pip_key="$(inputs_hash requirements/base.txt requirements/dev.txt)-$("$VENV/bin/python" -V 2>&1)"
if stamp_ok pip "$pip_key"; then
  step_done python "requirements unchanged"
else
  log "installing Python requirements into .venv"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    -r requirements/base.txt -r requirements/dev.txt
  stamp_set pip "$pip_key"
  step_done python "pip install"
fi

# --- 3. npm packages --------------------------------------------------------------------
step_start
npm_key="$(inputs_hash package.json package-lock.json)"
if stamp_ok npm "$npm_key" && [ -f node_modules/.package-lock.json ]; then
  step_done npm "lockfile unchanged"
else
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  stamp_set npm "$npm_key"
  step_done npm "npm ci"
fi

# --- 4. database ------------------------------------------------------------------------
step_start
if [ -n "${DATABASE_URL:-}" ]; then
  step_done database "DATABASE_URL set, private cluster not used"
else
  # 9>&-: the server daemonizes and must not inherit (and so hold forever) the set-up lock.
  "$REPO_ROOT/scripts/pg.sh" start 9>&-
  step_done database "private cluster on 127.0.0.1:$PG_PORT"
fi

# --- 4b. shared cache -------------------------------------------------------------------
step_start
if [ -n "${REDIS_URL:-}" ]; then
  step_done redis "REDIS_URL set, private Redis not used"
else
  "$REPO_ROOT/scripts/redis.sh" start 9>&-
  step_done redis "private Redis on $("$REPO_ROOT/scripts/redis.sh" url)"
fi

# --- 5. translations --------------------------------------------------------------------
step_start
# Project-level locale/ and app-level <app>/locale/; compiled only when a .po file is newer
# than its .mo (or the .mo is missing).
locale_dirs=()
for d in locale */locale; do
  case "$d" in .venv/* | node_modules/* | var/* | .pg/* | .redis/*) continue ;; esac
  [ -d "$d" ] && locale_dirs+=("$d")
done
if [ ${#locale_dirs[@]} -eq 0 ]; then
  step_done i18n "no locale/ folder"
else
  stale=0
  while IFS= read -r -d '' po; do
    [ "${po%.po}.mo" -nt "$po" ] || { stale=1; break; }
  done < <(find "${locale_dirs[@]}" -name '*.po' -print0)
  if [ "$stale" -eq 1 ]; then
    ignores=()
    for i in .venv node_modules var .pg .redis .git; do ignores+=(--ignore "$i"); done
    DJANGO_SETTINGS_MODULE=sitefinder.settings.local \
      "$VENV/bin/python" manage.py compilemessages -v0 "${ignores[@]}"
    step_done i18n "compilemessages"
  else
    step_done i18n "translations up to date"
  fi
fi

log "set-up done in $(elapsed "$T0") s"
for line in "${TIMINGS[@]}"; do printf '  %s\n' "$line" >&2; done
