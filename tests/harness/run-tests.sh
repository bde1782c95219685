#!/usr/bin/env bash
# Runs the whole test suite: starts PostgreSQL, Redis and Kafka on free loopback ports in a temp
# dir (in parallel with the build), builds, runs ctest with their URLs in EMP_TEST_*_URL, and
# stops the servers whatever happens.
#   tests/harness/run-tests.sh BUILD_DIR [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
shift || true
here=tests/harness
work=$(mktemp -d /tmp/emporium-test.XXXXXX)
chmod 755 "$work"
servers=(postgres redis kafka)

cleanup() {
  for s in "${servers[@]}"; do "$here/$s.sh" stop "$work/$s" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

declare -A pids
for s in "${servers[@]}"; do
  mkdir -p "$work/$s"
  "$here/$s.sh" start "$work/$s" >"$work/$s.env" 2>"$work/$s.log" &
  pids[$s]=$!
done

cmake --build "$build"

for s in "${servers[@]}"; do
  if ! wait "${pids[$s]}"; then
    echo "run-tests: could not start $s; its log:" >&2
    tail -n 50 "$work/$s.log" >&2
    exit 1
  fi
  # shellcheck disable=SC1090
  source "$work/$s.env"
done
echo "run-tests: PostgreSQL at $EMP_TEST_POSTGRES_URL, Redis at $EMP_TEST_REDIS_URL, Kafka at $EMP_TEST_KAFKA_URL"
export EMP_TEST_BINARY="$PWD/$build/emporium"

ctest --test-dir "$build" --output-on-failure -j2 "$@"
