#!/usr/bin/env bash
# Renders the Krew index: for each template in krew/templates/, a complete Plugin
# manifest in OUT/plugins/<name>.yaml (the layout `kubectl krew index add` expects), with
# one platform per target: os/arch selector, download URI, the archive's sha256, the
# files to extract and the binary. Used by `make krew` and the release workflow.
# usage: krew/render.sh [--dist DIR] [--out DIR] [--base-url URL] VERSION TARGET...
set -euo pipefail
dist=dist out=dist/krew base=""
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --dist) dist=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --base-url) base=$2; shift 2 ;;
    *) echo "error: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $# -ge 2 ]] || { echo "usage: krew/render.sh [--dist DIR] [--out DIR] [--base-url URL] VERSION TARGET..." >&2; exit 2; }
version=$1; shift
targets=("$@")
base=${base:-${KREW_BASE_URL:-https://github.com/kubectl-plugins/kubectl-plugins/releases/download/v$version}}
root=$(cd "$(dirname "$0")/.." && pwd)

# target triple -> "os arch"
platform_of() {
  case $1 in
    x86_64-unknown-linux-*) echo "linux amd64" ;;
    aarch64-unknown-linux-*) echo "linux arm64" ;;
    x86_64-apple-darwin) echo "darwin amd64" ;;
    aarch64-apple-darwin) echo "darwin arm64" ;;
    x86_64-pc-windows-*) echo "windows amd64" ;;
    *) return 1 ;;
  esac
}

declare -A seen=()
for t in "${targets[@]}"; do
  p=$(platform_of "$t") || { echo "error: no Krew platform for target $t" >&2; exit 2; }
  if [[ -n ${seen[$p]:-} ]]; then
    echo "error: targets ${seen[$p]} and $t are both $p: Krew selectors would overlap" >&2; exit 2
  fi
  seen[$p]=$t
done

mkdir -p "$out/plugins"
for template in "$root"/krew/templates/*.yaml; do
  name=$(basename "$template" .yaml)
  manifest="$out/plugins/$name.yaml"
  {
    sed -e "s|{{VERSION}}|$version|g" "$template"
    echo "  platforms:"
    for t in "${targets[@]}"; do
      read -r os arch < <(platform_of "$t")
      archive="$dist/kubectl-$name-v$version-$t.tar.gz"
      [[ -f $archive ]] || { echo "error: $archive not found; run krew/pack.sh (make dist) first" >&2; exit 2; }
      sha=$(sha256sum "$archive" | cut -d' ' -f1)
      exe=""; [[ $os == windows ]] && exe=".exe"
      cat <<YAML
  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $base/$(basename "$archive")
    sha256: $sha
    files:
    - from: kubectl-$name$exe
      to: .
    - from: LICENSE
      to: .
    bin: kubectl-$name$exe
YAML
    done
  } >"$manifest.tmp"
  if grep -q '{{' "$manifest.tmp"; then
    rm -f "$manifest.tmp"
    echo "error: $manifest still has placeholders" >&2; exit 2
  fi
  mv "$manifest.tmp" "$manifest"
  echo "$manifest"
done
