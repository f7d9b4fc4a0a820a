#!/usr/bin/env bash
# The README's first command: the demo namespace `hypersdk` on kube-sandbox,
# looked at first the runbook way (kubectl get pods), then with kubectl triage.
set -euo pipefail
export PATH="$PWD/target/debug:$PATH"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
say "kubectl get pods -n hypersdk"
kubectl get pods -n hypersdk
say "kubectl triage -n hypersdk"
set +e
kubectl triage -n hypersdk
status=$?
set -e
printf '\n(kubectl triage exited %s: 1 means "findings at or above --fail-on", see the README)\n' "$status"
