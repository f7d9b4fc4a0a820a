#!/usr/bin/env bash
# The README's first command: the demo namespace `hypersdk` on kube-sandbox,
# looked at first the runbook way (kubectl get pods), then with each plugin.
# Nothing here changes the cluster: rotate runs as a client dry run, drainplan
# only plans, backup writes a file under .demo/.
set -euo pipefail
export PATH="$PWD/target/debug:$PATH"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
# run CMD...: show it, run it, say how it exited (the exit codes are the contract)
run() {
  say "$*"
  set +e
  "$@"
  local status=$?
  set -e
  printf '(exit %s)\n' "$status"
}
mkdir -p .demo
# The backup's Secrets are encrypted with age for this passphrase (a demo value).
export DEMO_BACKUP_PASSPHRASE=demo-only-passphrase

run kubectl get pods -n hypersdk
run kubectl triage -n hypersdk
run kubectl drainplan node-a
run kubectl rotate secret vsphere-credentials -n hypersdk --generate password --keep username --dry-run=client
run kubectl backup create -n hypersdk --passphrase-env DEMO_BACKUP_PASSPHRASE -f .demo/hypersdk.tar.zst
run kubectl backup verify .demo/hypersdk.tar.zst
printf '\nexit 1 = "not fine" (triage: findings at or above --fail-on; drainplan: the drain is blocked). See the README.\n'
