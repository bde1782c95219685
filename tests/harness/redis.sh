#!/usr/bin/env bash
# Starts/stops a throwaway redis-server for tests (loopback, free port, no persistence).
#   tests/harness/redis.sh start DIR   -> prints `export EMP_TEST_REDIS_URL=redis://127.0.0.1:PORT`
#   tests/harness/redis.sh stop DIR    -> idempotent
# Everything but the export line goes to stderr, so `eval "$(redis.sh start DIR)"` works.
set -euo pipefail

log() { echo "redis.sh: $*" >&2; }

free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

alive() {
  [[ -f "$1/redis.pid" ]] && kill -0 "$(cat "$1/redis.pid")" 2>/dev/null
}

start() {
  local dir="$1"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if alive "$dir"; then
    echo "export EMP_TEST_REDIS_URL=redis://127.0.0.1:$(cat "$dir/port")"
    return
  fi
  command -v redis-server >/dev/null || { log "redis-server not found (apt-get install redis-server)"; exit 1; }
  local port
  port="$(free_port)"
  echo "$port" >"$dir/port"
  rm -f "$dir/redis.pid"
  # Config on the command line: no file to keep in sync, and no RDB/AOF since data is throwaway.
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --save '' --appendonly no --protected-mode yes --databases 16 >&2
  local deadline=$((SECONDS + 20))
  until [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)" == "PONG" ]]; do
    if ((SECONDS >= deadline)); then
      log "redis-server on port $port did not answer PING within 20s; log tail:"
      tail -n 30 "$dir/redis.log" >&2 2>/dev/null || true
      stop "$dir"
      exit 1
    fi
    sleep 0.1
  done
  log "redis-server up on 127.0.0.1:$port (pid $(cat "$dir/redis.pid"), dir $dir)"
  echo "export EMP_TEST_REDIS_URL=redis://127.0.0.1:$port"
}

stop() {
  local dir="$1"
  [[ -d "$dir" ]] || return 0
  if ! alive "$dir"; then
    rm -f "$dir/redis.pid"
    return 0
  fi
  local pid
  pid="$(cat "$dir/redis.pid")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "redis-server $pid ignored SIGTERM; sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/redis.pid"
  log "redis-server stopped"
}

case "${1:-}" in
  start) start "${2:?usage: redis.sh start DIR}" ;;
  stop) stop "${2:?usage: redis.sh stop DIR}" ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
