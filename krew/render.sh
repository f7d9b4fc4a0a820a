#!/usr/bin/env bash
# Renders krew/plugins/*.yaml into dist/krew/ for the archives `make dist`
# built: fills the version, download URI and sha256 of each archive.
# usage: krew/render.sh VERSION TARGET [BASE_URL]
set -euo pipefail
version=$1; target=$2
base=${3:-${KREW_BASE_URL:-https://github.com/kubectl-plugins/kubectl-plugins/releases/download/v$version}}
mkdir -p dist/krew
for manifest in krew/plugins/*.yaml; do
  name=$(basename "$manifest" .yaml)
  archive="dist/kubectl-$name-v$version-$target.tar.gz"
  [ -f "$archive" ] || { echo "error: $archive not found; run make dist" >&2; exit 2; }
  sha=$(sha256sum "$archive" | cut -d' ' -f1)
  sed -e "s|{{VERSION}}|$version|g" \
      -e "s|{{URI_$target}}|$base/$(basename "$archive")|g" \
      -e "s|{{SHA256_$target}}|$sha|g" "$manifest" > "dist/krew/$name.yaml"
  if grep -q '{{' "dist/krew/$name.yaml"; then
    echo "error: dist/krew/$name.yaml still has placeholders (a target not built?)" >&2; exit 2
  fi
  echo "dist/krew/$name.yaml"
done
echo "install locally: kubectl krew install --manifest=dist/krew/triage.yaml --archive=dist/kubectl-triage-v$version-$target.tar.gz"
