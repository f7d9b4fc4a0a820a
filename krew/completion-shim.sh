#!/usr/bin/env bash
# Writes the kubectl_complete-<plugin> shim kubectl runs for `kubectl <plugin> <TAB>`
# (kubectl >= 1.26 completes plugin arguments through it) into DIR, mode 0755.
# usage: krew/completion-shim.sh PLUGIN DIR
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: krew/completion-shim.sh PLUGIN DIR" >&2; exit 2; }
plugin=$1 dir=$2
printf '#!/bin/sh\n# kubectl runs this for `kubectl %s <TAB>`: the plugin answers cobra'"'"'s __complete protocol.\nexec kubectl-%s __complete "$@"\n' \
  "$plugin" "$plugin" >"$dir/kubectl_complete-$plugin"
chmod 0755 "$dir/kubectl_complete-$plugin"
