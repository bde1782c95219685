#!/usr/bin/env bash
# Installs the Debian packages the project needs (a no-op when all are present).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git clang-format
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libpq-dev libhiredis-dev librdkafka-dev libssl-dev libsodium-dev libyaml-cpp-dev
  libxapian-dev zlib1g-dev
  libeigen3-dev libopenblas-dev libxgboost-dev xgboost libfaiss-dev libhnswlib-dev libfasttext-dev
  libbenchmark-dev unzip
  libicu-dev
  libgtest-dev libgmock-dev
  postgresql redis-server kcat wrk nginx python3 python3-venv curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Kafka's broker (tests only) runs on a JDK and is fetched with Maven; any JDK >= 17 will do.
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# The sentence encoder's pretrained weights (into ~/.cache/emporium/models); without them the features that use it fall back, so a failed fetch only warns.
"$(dirname "$0")/fetch-model.sh" || echo "deps: WARNING: could not install the sentence encoder model (all-MiniLM-L6-v2); features that need it fall back. Retry: scripts/fetch-model.sh" >&2
