#!/usr/bin/env bash
# Validates docs/openapi.yaml against the OpenAPI 3.1 specification with openapi-spec-validator
# (a test tool from PyPI, installed once into a venv under the build dir).
#   tests/harness/openapi-check.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${1:-build}/py"
if [[ ! -x "$venv/bin/openapi-spec-validator" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'openapi-spec-validator==0.7.1'
fi
"$venv/bin/openapi-spec-validator" docs/openapi.yaml
