#!/usr/bin/env bash
# Starts/stops a throwaway PostgreSQL server for tests.
#   tests/harness/postgres.sh start DIR -> prints
#       `export EMP_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/postgres`
#   tests/harness/postgres.sh stop DIR  -> idempotent
# The cluster lives in DIR/data, runs as the `postgres` OS user (PostgreSQL refuses root),
# trusts connections from 127.0.0.1 only and listens only there, on a free port.
# Everything except the export line goes to stderr.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

pg_bin() {
  if [[ -n "${EMP_PG_BIN:-}" ]]; then echo "$EMP_PG_BIN"; return; fi
  local newest
  newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$newest" ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)"
  echo "$newest"
}

free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

as_pg() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The server runs as `postgres`, which must be able to reach DIR through its parents (mktemp -d
# makes 0700 directories owned by root).
make_reachable() {
  local dir="$1" p
  [[ "$(id -u)" == 0 ]] || return 0
  chown postgres: "$dir"
  p="$(dirname "$dir")"
  while [[ "$p" != "/" ]]; do
    if ! runuser -u postgres -- test -x "$p"; then
      log "allowing postgres to traverse $p"
      chmod a+x "$p"
    fi
    p="$(dirname "$p")"
  done
}

url_for() { echo "postgres://postgres@127.0.0.1:$1/postgres"; }

start() {
  local dir="$1" bin port
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  bin="$(pg_bin)"
  make_reachable "$dir"
  if [[ -f "$dir/port" ]] && as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "export EMP_TEST_POSTGRES_URL=$(url_for "$(cat "$dir/port")")"
    return
  fi
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    log "initdb into $dir/data"
    if ! as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale \
      >"$dir/initdb.log" 2>&1; then
      tail -n 30 "$dir/initdb.log" >&2
      die "initdb failed"
    fi
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
CONF
    # Only loopback TCP and the private socket; nothing else may connect.
    cat >"$dir/data/pg_hba.conf" <<HBA
local all all trust
host  all all 127.0.0.1/32 trust
HBA
  fi
  port="$(free_port)"
  echo "$port" >"$dir/port"
  : >"$dir/postgres.log"
  chown postgres: "$dir/postgres.log" "$dir/port" 2>/dev/null || true
  log "starting on 127.0.0.1:$port"
  if ! as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -o "-p $port" -w -t 60 start >&2; then
    tail -n 30 "$dir/postgres.log" >&2
    die "PostgreSQL did not start within 60 s"
  fi
  local i
  for ((i = 0; i < 60; i++)); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
      echo "export EMP_TEST_POSTGRES_URL=$(url_for "$port")"
      return
    fi
    sleep 0.5
  done
  tail -n 30 "$dir/postgres.log" >&2
  die "PostgreSQL on port $port does not accept connections after 30 s"
}

stop() {
  local dir="$1"
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  local bin
  bin="$(pg_bin)"
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2 || true
}

case "${1:-}" in
  start) [[ $# -eq 2 ]] || die "usage: $0 start DIR"; start "$2" ;;
  stop) [[ $# -eq 2 ]] || die "usage: $0 stop DIR"; stop "$2" ;;
  *) die "usage: $0 start|stop DIR" ;;
esac
