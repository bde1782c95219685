#!/usr/bin/env bash
# Recommendations: ALS training seconds per iteration, ours (ml::AlsModel) next to the Python
# package `implicit` (CPU, conjugate gradient) on the same matrices — MovieLens latest-small from
# ../shared/data and a synthetic 100,000 users × 50,000 items matrix with ~5M nonzeros — factors
# 64, 10 iterations, 2 threads, λ 30, α 3, with the ratio ours / implicit (goal ≤ 1.0); then
# Recommender::Recommend under an open-loop load (50k items, 100k users, 1000 req/s for 10 s,
# 2 workers): p50/p99/p999 from the requests' due times, and the models' training seconds.
# The reference runs in a venv under the build dir (created on first use, ~100 MB from PyPI).
#   bench/recommend.sh BUILD_DIR [RESULTS_JSONL]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
results=${2:-}
data=${EMPORIUM_DATA_DIR:-../shared/data}
ratings=$data/movielens-latest-small/ratings.csv
venv=$build/recommend-venv
work=$(mktemp -d /tmp/emporium-recommend-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

emit() {
  echo "$1"
  if [ -n "$results" ]; then echo "$1" >>"$results"; fi
}

als=(--factors=64 --iterations=10 --threads=2 --regularization=30 --alpha=3 --seed=42)
datasets=()
if [ -f "$ratings" ]; then
  "$build/recommend_bench" --mode=als --interactions="$ratings" --label=movielens-latest-small \
    --write-matrix="$work/movielens.bin" "${als[@]}" >"$work/ours-movielens.json"
  emit "$(cat "$work/ours-movielens.json")"
  datasets+=(movielens)
else
  echo "recommend bench: no $ratings (set EMPORIUM_DATA_DIR); the MovieLens figures are skipped" >&2
fi
"$build/recommend_bench" --mode=als --synthetic-users=100000 --synthetic-items=50000 --synthetic-nnz=5000000 \
  --label=synthetic-100k-50k --write-matrix="$work/synthetic.bin" "${als[@]}" >"$work/ours-synthetic.json"
emit "$(cat "$work/ours-synthetic.json")"
datasets+=(synthetic)

reference=yes
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import implicit, threadpoolctl' 2>/dev/null; then
  echo "recommend bench: creating the reference venv in $venv (implicit, numpy, scipy)" >&2
  if ! python3 -m venv "$venv" ||
    ! "$venv/bin/pip" install --quiet --disable-pip-version-check implicit==0.7.3 numpy==2.4.6 scipy==1.17.1 \
      threadpoolctl==3.8.0; then
    echo "recommend bench: could not install implicit; the reference figures are missing" >&2
    reference=no
  fi
fi
if [ "$reference" = yes ]; then
  for d in "${datasets[@]}"; do
    label=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"])' "$work/ours-$d.json")
    # BLAS single-threaded (implicit's advice; its solver has its own 2 threads), and numpy's
    # current OpenBLAS left to pick its kernel (bench/README.md).
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 "$venv/bin/python" \
      bench/recommend_compare.py reference --matrix "$work/$d.bin" --data "$label" --factors 64 --iterations 10 \
      --threads 2 --regularization 30 --alpha 3 --seed 42 >"$work/ref-$d.json" 2>"$work/ref-$d.log" ||
      { tail -n 20 "$work/ref-$d.log" >&2; exit 1; }
    emit "$(cat "$work/ref-$d.json")"
    emit "$(python3 bench/recommend_compare.py compare --ours "$work/ours-$d.json" --ref "$work/ref-$d.json")"
  done
fi

# Exits non-zero when it had to drop requests (the machine could not keep up) after printing.
serve=0
"$build/recommend_bench" --mode=serve --items=50000 --users=100000 --interactions-per-user=20 --rate=1000 \
  --seconds=10 >"$work/serve.json" || serve=$?
while IFS= read -r line; do emit "$line"; done <"$work/serve.json"
exit "$serve"
