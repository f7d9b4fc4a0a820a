#!/usr/bin/env bash
# Packs release archives the way Krew installs them: one tar.gz per plugin and target,
# holding the binary, its kubectl_complete-<plugin> completion shim (not on Windows) and
# LICENSE, with deterministic metadata. Used by `make dist` and the release workflow.
# usage: krew/pack.sh VERSION TARGET BIN_DIR OUT_DIR PLUGIN...
set -euo pipefail
[[ $# -ge 5 ]] || { echo "usage: krew/pack.sh VERSION TARGET BIN_DIR OUT_DIR PLUGIN..." >&2; exit 2; }
version=$1 target=$2 bin_dir=$3 out_dir=$4
shift 4
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out_dir"
exe=""
[[ $target == *windows* ]] && exe=".exe"
for plugin in "$@"; do
  bin="$bin_dir/kubectl-$plugin$exe"
  [[ -f $bin ]] || { echo "error: $bin not found; build it first" >&2; exit 2; }
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  install -m 0755 "$bin" "$stage/kubectl-$plugin$exe"
  install -m 0644 "$root/LICENSE" "$stage/LICENSE"
  files=("kubectl-$plugin$exe" LICENSE)
  if [[ -z $exe ]]; then
    bash "$root/krew/completion-shim.sh" "$plugin" "$stage"
    files+=("kubectl_complete-$plugin")
  fi
  archive="$out_dir/kubectl-$plugin-v$version-$target.tar.gz"
  tar -C "$stage" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    -cf - "${files[@]}" | gzip -n >"$archive"
  rm -rf "$stage"
  trap - EXIT
  echo "$archive"
done
