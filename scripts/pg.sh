#!/usr/bin/env bash
# The project's private PostGIS cluster: scripts/pg.sh start|stop|status|url
# Data, socket and log live in .pg/ (or a /tmp fallback); no system service is involved.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOME_DIR="$(pg_home)"
DATA="$HOME_DIR/data"
SOCK="$HOME_DIR/sock"
LOGFILE="$HOME_DIR/server.log"
URL="postgis://postgres@127.0.0.1:$PG_PORT/$PG_DB"

psql_admin() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

start() {
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 is not installed ($PG_BIN); run scripts/setup.sh"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    log "creating the private PostGIS cluster in $DATA"
    as_pg_owner mkdir -p "$DATA" "$SOCK"
    as_pg_owner "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # Tuned for a developer machine and the test suite: durability is not needed for
    # data the scripts can rebuild, and parallel query hurts concurrent tile requests.
    cat >> "$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCK'
fsync = off
synchronous_commit = off
full_page_writes = off
max_parallel_workers_per_gather = 0
shared_buffers = 256MB
work_mem = 32MB
max_connections = 100
CONF
  fi
  if as_pg_owner "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    return 0
  fi
  # Another server (another checkout's cluster, a system PostgreSQL) on our port would
  # make pg_ctl fail with a cryptic log line; say what to do instead.
  if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; then
    die "port $PG_PORT is taken by another PostgreSQL; stop it, or pick another port: SITEFINDER_PG_PORT=54330 $0 start"
  fi
  # A server killed hard leaves its pid file behind; pg_ctl copes with a stale one.
  log "starting the private PostGIS cluster on 127.0.0.1:$PG_PORT"
  as_pg_owner mkdir -p "$SOCK"
  as_pg_owner "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -o "-p $PG_PORT" -w -t 60 start >/dev/null \
    || { tail -n 20 "$LOGFILE" >&2; die "PostgreSQL did not start (log: $LOGFILE)"; }
  # PostGIS in template1 makes every new database (the test databases too) spatial at once.
  psql_admin -d template1 -c "CREATE EXTENSION IF NOT EXISTS postgis"
  if [ -z "$(psql_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]; then
    psql_admin -d postgres -c "CREATE DATABASE $PG_DB"
  fi
}

stop() {
  if [ -f "$DATA/PG_VERSION" ] && as_pg_owner "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    as_pg_owner "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    log "stopped"
  fi
}

case "${1:-status}" in
  start) start ;;
  stop) stop ;;
  status) as_pg_owner "$PG_BIN/pg_ctl" -D "$DATA" status ;;
  url) printf '%s\n' "$URL" ;;
  *) die "usage: scripts/pg.sh start|stop|status|url" ;;
esac
