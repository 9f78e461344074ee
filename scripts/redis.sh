#!/usr/bin/env bash
# The project's private Redis (the shared cache): scripts/redis.sh start|stop|status|url
# Debian's redis-server on a unix socket in .redis/ (no TCP port, no system service), as a
# cache: no snapshots, least recently used keys evicted at SITEFINDER_REDIS_MAXMEMORY.
# With REDIS_URL set, that Redis is used and this one is not started.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR="${SITEFINDER_REDIS_DIR:-$REPO_ROOT/.redis}"
SOCK="$DIR/redis.sock"
PIDFILE="$DIR/redis.pid"
LOGFILE="$DIR/redis.log"
MAXMEMORY="${SITEFINDER_REDIS_MAXMEMORY:-256mb}"
REDIS_SERVER="${REDIS_SERVER:-/usr/bin/redis-server}"

running() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

start() {
  if [ -n "${REDIS_URL:-}" ]; then
    log "REDIS_URL is set: using that Redis, not starting the private one"
    return 0
  fi
  [ -x "$REDIS_SERVER" ] || die "redis-server is not installed; run scripts/setup.sh"
  # A unix socket path must stay under 104 bytes.
  [ "${#SOCK}" -lt 100 ] || die "socket path too long ($SOCK); set SITEFINDER_REDIS_DIR to a shorter folder"
  running && return 0
  mkdir -p "$DIR"
  log "starting the private Redis on $SOCK"
  "$REDIS_SERVER" - <<CONF || die "redis-server did not start (log: $LOGFILE)"
port 0
unixsocket $SOCK
unixsocketperm 700
daemonize yes
pidfile $PIDFILE
logfile $LOGFILE
dir $DIR
save ""
appendonly no
maxmemory $MAXMEMORY
maxmemory-policy allkeys-lru
CONF
  for _ in $(seq 50); do
    [ -S "$SOCK" ] && return 0
    sleep 0.1
  done
  tail -n 20 "$LOGFILE" >&2
  die "Redis did not open its socket (log: $LOGFILE)"
}

stop() {
  if running; then
    kill "$(cat "$PIDFILE")"
    for _ in $(seq 50); do
      running || break
      sleep 0.1
    done
    log "Redis stopped"
  fi
}

case "${1:-status}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running on $SOCK"; else echo "stopped"; exit 3; fi ;;
  url) echo "${REDIS_URL:-unix://$SOCK}" ;;
  *) die "usage: scripts/redis.sh start|stop|status|url" ;;
esac
