#!/usr/bin/env bash
# The sentence encoder next to sentence-transformers on the same 1,000 sentences (product titles
# and descriptions, customer-service utterances, Home Depot queries from ../shared/data): cosine
# min/mean, sentences/s and tokens/s of both and their ratio, and single-query latency (p50/p99).
# The reference runs in a venv under the build dir (created on first use: torch from PyPI pulls
# its CUDA libraries, about 6 GB; nothing of it is used by the product or by `make test`).
#   bench/encoder.sh BUILD_DIR [RESULTS_JSONL]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
results=${2:-}
data=${EMPORIUM_DATA_DIR:-../shared/data}
model=${EMPORIUM_MODEL_DIR:-$HOME/.cache/emporium/models}/all-minilm-l6-v2
venv=$build/encoder-venv
work=$(mktemp -d /tmp/emporium-encoder-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

emit() {
  echo "$1"
  if [ -n "$results" ]; then echo "$1" >>"$results"; fi
}

if [ ! -d "$data/myntra-products-catalog" ]; then
  echo "encoder bench: no datasets in $data (set EMPORIUM_DATA_DIR); skipped" >&2
  exit 0
fi
if ! scripts/fetch-model.sh >&2; then
  echo "encoder bench: the model is not installed and could not be fetched; skipped" >&2
  exit 0
fi

python3 bench/encoder_compare.py sentences --data "$data" --out "$work/sentences.txt" --queries "$work/queries.txt"

# Ours as shipped (OpenBLAS's threads, one Encode thread), then with OpenBLAS single-threaded and
# two Encode threads (the better split for bulk jobs).
"$build/encoder_bench" --model-dir="$model" --in="$work/sentences.txt" --out="$work/ours.npy" \
  --ids-out="$work/ours.ids" --queries="$work/queries.txt" >"$work/ours.json"
emit "$(cat "$work/ours.json")"
OPENBLAS_NUM_THREADS=1 "$build/encoder_bench" --model-dir="$model" --in="$work/sentences.txt" \
  --out="$work/ours1.npy" --queries="$work/queries.txt" --threads=2 >"$work/ours1.json"
emit "$(sed 's/"impl":"emporium"/"impl":"emporium-blas1"/' "$work/ours1.json")"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sentence_transformers' 2>/dev/null; then
  echo "encoder bench: creating the reference venv in $venv (torch + sentence-transformers)" >&2
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check torch==2.15.0 sentence-transformers==6.3.0 numpy; then
    echo "encoder bench: could not install sentence-transformers; the reference figures are missing" >&2
    exit 0
  fi
fi
"$venv/bin/python" bench/encoder_compare.py reference --model "$model" --in "$work/sentences.txt" \
  --out "$work/ref.npy" --ids-out "$work/ref.ids" --queries "$work/queries.txt" --threads 2 \
  >"$work/ref.json" 2>"$work/ref.log" || { tail -n 20 "$work/ref.log" >&2; exit 1; }
emit "$(cat "$work/ref.json")"
emit "$("$venv/bin/python" bench/encoder_compare.py compare --ours "$work/ours.npy" --ref "$work/ref.npy" \
  --ours-ids "$work/ours.ids" --ref-ids "$work/ref.ids" --ours-json "$work/ours.json" --ref-json "$work/ref.json")"
