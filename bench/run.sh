#!/usr/bin/env bash
# Benchmarks, one run, one table:
#   1. HTTP req/s of GET /v1/info (small JSON) vs nginx returning the same bytes (wrk -t2 -c64)
#   2. module-call latency, in-process vs HTTP (emporium_bench rpc)
#   3. events/s through outbox → relay → consumer, embedded log and Kafka (emporium_bench events)
#   4. token verifications/s and argon2id logins/s (emporium_bench auth)
#   6. checkouts/s end to end on `emporium up` next to the SQLite commit rate (emporium_bench checkout)
#   5. gateway overhead: GET /v1/me on identity directly vs through a gateway process that
#      proxies to it (emporium_bench latency, sequential, keep-alive)
#   6. cart adds/s through the cart module with a fake catalog (cart_bench)
#   7. behaviour events ingested per second in 20-event batches (behavior_bench)
#   7. search queries/s and p99 at 10k and 50k generated products, keyword and hybrid + ranker (search_bench)
#   8. sentence encoder vs sentence-transformers: cosine, sentences/s, tokens/s, query latency (encoder.sh)
#   9. ALS seconds per iteration vs implicit (MovieLens, synthetic 100k×50k), Recommend p99 at 1000 req/s (recommend.sh)
# Figures go to stdout and bench/out/results.jsonl. Bounded: every load run has a fixed duration.
#   bench/run.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
duration=${BENCH_DURATION:-10s}
mkdir -p bench/out
results=bench/out/results.jsonl
: >"$results"
work=$(mktemp -d /tmp/emporium-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  tests/harness/kafka.sh stop "$work/kafka" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_http() {
  for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: $1 did not come up" >&2
  return 1
}
wrk_rps() { wrk -t2 -c64 -d"$duration" "$1" | awk '/Requests\/sec/ {print $2}'; }

echo "== HTTP: GET /v1/info, wrk -t2 -c64 -d$duration (2 server threads / 2 nginx workers, access logs off)"
p1=$(free_port)
"$build/emporium" serve --target=info --http-port="$p1" --data-dir="$work/var" --access-log=false \
  --threads=2 --log-level=warn &
pids+=($!)
wait_http "http://127.0.0.1:$p1/readyz"
curl -fs "http://127.0.0.1:$p1/v1/info" >"$work/body.json"

p2=$(free_port)
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 2;
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$p2 reuseport;
    location = /v1/info { default_type application/json; return 200 '$(cat "$work/body.json")'; }
  }
}
NGINX
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
wait_http "http://127.0.0.1:$p2/v1/info"
cmp -s <(curl -fs "http://127.0.0.1:$p2/v1/info") "$work/body.json" || { echo "bench: nginx body differs" >&2; exit 1; }

ours=$(wrk_rps "http://127.0.0.1:$p1/v1/info")
theirs=$(wrk_rps "http://127.0.0.1:$p2/v1/info")
ratio=$(python3 -c "print(f'{$ours/$theirs:.2f}')")
echo "{\"bench\":\"http\",\"emporium_rps\":$ours,\"nginx_rps\":$theirs,\"ratio\":$ratio}" | tee -a "$results"
kill "${pids[@]}" 2>/dev/null || true
wait 2>/dev/null || true
pids=()

echo "== module calls: in-process vs HTTP (sequential, one connection)"
"$build/emporium_bench" rpc --n=20000 | tee -a "$results"

echo "== events: outbox → relay → consumer (SQLite outbox/inbox, 10 events per transaction)"
"$build/emporium_bench" events --n=20000 --batch=10 | tee -a "$results"
mkdir -p "$work/kafka"
if tests/harness/kafka.sh start "$work/kafka" >"$work/kafka.env" 2>"$work/kafka.log"; then
  # shellcheck disable=SC1091
  source "$work/kafka.env"
  "$build/emporium_bench" events --bus="$EMP_TEST_KAFKA_URL" --n=20000 --batch=10 | tee -a "$results"
else
  echo "bench: Kafka did not start (see below); its figure is missing" >&2
  tail -n 20 "$work/kafka.log" >&2
fi

echo "== auth: ES256 verifications and argon2id logins (all cores)"
"$build/emporium_bench" auth --seconds=3 | tee -a "$results"

echo "== gateway overhead: GET /v1/me direct to identity vs through a gateway process"
pi=$(free_port)
pg=$(free_port)
"$build/emporium" serve --target=identity --http-port="$pi" --data-dir="$work/identity" --access-log=false \
  --log-level=warn --public-url="http://127.0.0.1:$pg" &
pids+=($!)
"$build/emporium" serve --target=gateway --http-port="$pg" --data-dir="$work/gateway" --access-log=false \
  --log-level=warn --remote="identity=http://127.0.0.1:$pi" --gateway-rate-ip=0 --gateway-rate-user=0 &
pids+=($!)
wait_http "http://127.0.0.1:$pi/readyz"
wait_http "http://127.0.0.1:$pg/readyz"
curl -fs -H 'Content-Type: application/json' -d '{"email":"bench@example.com","password":"a long bench passphrase","name":"Bench"}' \
  "http://127.0.0.1:$pg/v1/users" >/dev/null
token=$(curl -fs -d 'grant_type=password&client_id=storefront&username=bench@example.com&password=a+long+bench+passphrase' \
  "http://127.0.0.1:$pg/oauth2/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
"$build/emporium_bench" latency --label=direct --url="http://127.0.0.1:$pi/v1/me" --token="$token" | tee -a "$results"
"$build/emporium_bench" latency --label=via-gateway --url="http://127.0.0.1:$pg/v1/me" --token="$token" | tee -a "$results"

echo "== product page: GET /v1/products/{id} through \`emporium up\` (gateway middlewares, SQLite) vs nginx serving the same bytes from a file"
pu=$(free_port)
"$build/emporium" up --http-port="$pu" --data-dir="$work/up" --access-log=false --threads=2 --log-level=warn \
  --gateway-rate-ip=0 --gateway-rate-user=0 --order-fraud-max-orders=1000000 --order-fraud-max-window-amount=1000000000 &
pids+=($!)
wait_http "http://127.0.0.1:$pu/readyz"
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$pu/v1/products/p-000042" >/dev/null 2>&1 && break; sleep 0.2; done
mkdir -p "$work/www/v1/products"
curl -fs "http://127.0.0.1:$pu/v1/products/p-000042" >"$work/www/v1/products/p-000042"
pn=$(free_port)
mkdir -p "$work/nginx2/logs"
cat >"$work/nginx2/nginx.conf" <<NGINX
worker_processes 2;
error_log $work/nginx2/logs/error.log warn;
pid $work/nginx2/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$pn reuseport;
    location /v1/products/ { root $work/www; default_type application/json; etag off; }
  }
}
NGINX
nginx -p "$work/nginx2" -c "$work/nginx2/nginx.conf" -g 'daemon off;' &
pids+=($!)
wait_http "http://127.0.0.1:$pn/v1/products/p-000042"
ours=$(wrk_rps "http://127.0.0.1:$pu/v1/products/p-000042")
theirs=$(wrk_rps "http://127.0.0.1:$pn/v1/products/p-000042")
ratio=$(python3 -c "print(f'{$ours/$theirs:.2f}')")
echo "{\"bench\":\"product_get\",\"bytes\":$(wc -c <"$work/www/v1/products/p-000042"),\"emporium_rps\":$ours,\"nginx_rps\":$theirs,\"ratio\":$ratio}" | tee -a "$results"

echo "== checkout: 32 users add one item and check out with a test card (payment and carrier sandboxes in process), vs SQLite commits/s"
"$build/emporium_bench" checkout --url="http://127.0.0.1:$pu" --users=32 --orders=600 | tee -a "$results"

echo "== cart adds/s: cart module + fake catalog via Runtime::Dispatch, 2 threads (SQLite on disk, then tmpfs)"
"$build/cart_bench" --seconds=5 --threads=2 | tee -a "$results"
"$build/cart_bench" --seconds=5 --threads=2 --dir=/dev/shm --label=tmpfs | tee -a "$results"

echo "== behaviour ingest: 20-event batches via Runtime::Dispatch, 2 threads (SQLite on disk, then tmpfs)"
"$build/behavior_bench" --seconds=5 --threads=2 | tee -a "$results"
"$build/behavior_bench" --seconds=5 --threads=2 --dir=/dev/shm --label=tmpfs | tee -a "$results"

echo "== search: queries/s and p99 over a fixed query mix (all cores): keyword at 10k and 50k generated products;"
echo "   hybrid (query embedding + BM25 + vectors, fused, learned ranker) at 50k; product vectors kept in bench/out"
"$build/search_bench" --sizes=10000 --modes=keyword --seconds=3 | tee -a "$results"
"$build/search_bench" --sizes=50000 --modes=keyword,hybrid --seconds=5 --vectors-dir=bench/out/search-vectors \
  | tee -a "$results"

echo "== sentence encoder: ours vs sentence-transformers on the same 1,000 sentences (2 cores), single-query latency"
bench/encoder.sh "$build" "$results" || echo "bench: the encoder bench failed (see above)" >&2

echo "== recommendations: ALS s/iteration ours vs implicit (same matrices, 2 threads), Recommend open loop at 1000 req/s"
bench/recommend.sh "$build" "$results" || echo "bench: the recommend bench failed (see above)" >&2

echo
echo "== summary (bench/out/results.jsonl)"
python3 - "$results" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    b = r.pop("bench")
    print(f"{b:7s} " + "  ".join(f"{k}={v}" for k, v in r.items()))
PY
