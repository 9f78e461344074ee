# Shared by the set-up scripts: where things live and how to reach the private PostGIS.
# Sourced, not executed.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT="${SITEFINDER_PG_PORT:-54329}"
PG_DB="${SITEFINDER_PG_DB:-sitefinder}"
STAMPS="$REPO_ROOT/.setup-stamps"

log() { printf '\033[1;34m[sitefinder]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[sitefinder] %s\033[0m\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Runs a PostgreSQL server binary as the cluster owner: initdb refuses root, so as root
# we run as Debian's `postgres` user; as a normal user, as ourselves.
as_pg_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The cluster lives in the repo (.pg/) unless the `postgres` user cannot reach it (a
# home directory with mode 700, say); then in a per-checkout folder under /tmp.
pg_home() {
  local home="$REPO_ROOT/.pg"
  if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$home"
    chown postgres: "$home"
    if ! runuser -u postgres -- test -w "$home"; then
      home="/tmp/sitefinder-pg-$(printf '%s' "$REPO_ROOT" | md5sum | cut -c1-10)"
      mkdir -p "$home" && chown postgres: "$home"
    fi
  fi
  printf '%s' "$home"
}

# Hash of files, to skip install steps whose inputs did not change.
inputs_hash() { cat "$@" 2>/dev/null | md5sum | cut -c1-32; }
stamp_ok() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp_set() { mkdir -p "$STAMPS"; printf '%s' "$2" > "$STAMPS/$1"; }
