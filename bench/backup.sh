# shellcheck shell=bash
# The kubectl backup block of `make bench`, sourced by bench/run.sh (it uses its
# generate/start_sandbox/run_once/bench_pair helpers). The issue's targets, on a
# sandbox-scale cluster of ~20,000 objects over 50 namespaces with custom resources:
#   create -A >= 2,000 objects/s and no slower than `kubectl get KINDS -A -o yaml > file`;
#   restore into an empty sandbox >= 500 objects/s;
#   peak RSS of create at 20,000 objects <= 1.5 x its RSS at 2,000;
# with the sandbox's own list and write throughput beside them.

BACKUP_SCENARIOS=${BENCH_BACKUP_SCENARIOS:-backup-2k backup-20k}
BACKUP_ROWS=$OUT/backup.tsv # scenario key value
# The kinds the archive holds (kubectl's side of the comparison).
BACKUP_ARCHIVED_KINDS=namespaces,deployments,services,configmaps,secrets,serviceaccounts,persistentvolumeclaims,horizontalpodautoscalers,poddisruptionbudgets,exportprofiles.bench.example.com
# What the backup lists (every namespaced type with objects), for the raw server figure.
BACKUP_LIST_PATHS="/api/v1/pods /api/v1/events /api/v1/services /api/v1/endpoints /api/v1/configmaps /api/v1/secrets /api/v1/serviceaccounts /api/v1/persistentvolumeclaims /apis/apps/v1/deployments /apis/apps/v1/replicasets /apis/discovery.k8s.io/v1/endpointslices /apis/autoscaling/v2/horizontalpodautoscalers /apis/policy/v1/poddisruptionbudgets /apis/bench.example.com/v1/exportprofiles"

backup_row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$BACKUP_ROWS"; }
backup_value() { awk -F'\t' -v s="$1" -v k="$2" '$1 == s && $2 == k { v = $3 } END { print v }' "$BACKUP_ROWS"; }

backup_bench() {
  : >"$BACKUP_ROWS"
  local scen dir archive objects listed ms i restore_ms=() rrss=0 empty=$OUT/fixtures/empty
  mkdir -p "$empty"
  for scen in $BACKUP_SCENARIOS; do
    dir=$(generate "$scen")
    listed=$(cat "$dir"/cluster-*.yaml "$dir"/namespaces/*/*.yaml | grep '^kind: ' | grep -vc '^kind: PodLogs$')
    backup_row "$scen" cluster_objects "$listed"
    start_sandbox "$dir" 0
    archive=$OUT/backup-$scen.tar.zst
    bench_pair "$scen" 0 "kubectl backup create -A" 0 \
      "$BIN/kubectl-backup create -A --plaintext-secrets -f $archive" \
      "kubectl get KINDS -A -o yaml > file" "$KUBECTL \${KFLAGS:-} get $BACKUP_ARCHIVED_KINDS -A -o yaml > $OUT/kubectl-$scen.yaml" "$RUNS"
    objects=$("$BIN/kubectl-backup" inspect "$archive" -o json | grep -m1 '"objects":' | grep -oE '[0-9]+')
    backup_row "$scen" archived_objects "$objects"
    backup_row "$scen" archive_bytes "$(wc -c <"$archive")"
    "$BIN/kubectl-backup" verify "$archive" >/dev/null || die "kubectl backup verify failed on $archive"
    # shellcheck disable=SC2086 # paths are words
    ms=$(bash "$ROOT/bench/backup-server.sh" list $BACKUP_LIST_PATHS | tail -1)
    backup_row "$scen" server_list_ms "$ms"
    stop_sandbox
    # Restore into an empty sandbox (no nodes: the controllers create ReplicaSets
    # and pods that stay Pending), a fresh one per run.
    restore_ms=()
    rrss=0
    for ((i = 0; i <= RUNS; i++)); do
      start_sandbox "$empty" 0
      run_once "kubectl backup restore" 0 "$BIN/kubectl-backup restore $archive"
      ((i == 0)) || restore_ms+=("$LAST_MS") # the first run warms the page cache
      rrss=$(maxv "$rrss" "$LAST_RSS_KB")
      stop_sandbox
    done
    backup_row "$scen" restore_ms "$(printf '%s\n' "${restore_ms[@]}" | median)"
    backup_row "$scen" restore_rss_mb $((rrss / 1024))
    restored=$(grep -oE '^[0-9]+ restored' "$OUT/stdout.txt" | grep -oE '[0-9]+' || echo 0)
    backup_row "$scen" restored_objects "$restored"
    start_sandbox "$empty" 0
    ms=$(bash "$ROOT/bench/backup-server.sh" write 2000 | tail -1)
    backup_row "$scen" server_write_2000_ms "$ms"
    stop_sandbox
  done
}

# The markdown section.
backup_report() {
  local s2=backup-2k s20=backup-20k
  echo "## kubectl backup: ~20,000 objects over 50 namespaces, custom resources included"
  echo
  echo "sandbox-scale presets \`backup-20k\` ($(scenario_flags backup-20k)) and \`backup-2k\` ($(scenario_flags backup-2k)); latency 0. \`create -A --plaintext-secrets\` (as \`kubectl get -o yaml\` writes them) against \`kubectl get $BACKUP_ARCHIVED_KINDS -A -o yaml > file\`; \`restore\` into a fresh empty sandbox each run. The server rows are kube-sandbox alone, driven by curl (one process per page, so an upper bound of the server's share): every type the backup lists, 500 per page, 8 types at once; and 2,000 ConfigMap creates, 16 at once."
  echo
  echo "| scenario | objects in cluster | in the archive | create -A | objects/s | kubectl get -o yaml | create RSS | restore | objects/s | restore RSS | server: list all | server: 2,000 writes |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for s in $BACKUP_SCENARIOS; do
    local c k crss kr
    c=$(awk -F'\t' -v s="$s" '$1 == s && $3 == "kubectl backup create -A" { print $5 }' "$ROWS")
    crss=$(awk -F'\t' -v s="$s" '$1 == s && $3 == "kubectl backup create -A" { print $7 }' "$ROWS")
    k=$(awk -F'\t' -v s="$s" '$1 == s && $4 == "baseline" { print $5 }' "$ROWS")
    kr=$(backup_value "$s" restore_ms)
    awk -v s="$s" -v objs="$(backup_value "$s" cluster_objects)" -v arch="$(backup_value "$s" archived_objects)" \
      -v c="$c" -v k="$k" -v crss="$crss" -v r="$kr" -v rest="$(backup_value "$s" restored_objects)" \
      -v rrss="$(backup_value "$s" restore_rss_mb)" -v l="$(backup_value "$s" server_list_ms)" -v w="$(backup_value "$s" server_write_2000_ms)" \
      'BEGIN { printf "| %s | %d | %d | %.2f s | %d | %.2f s | %s MB | %.2f s | %d | %s MB | %.2f s (%d objects/s) | %.2f s (%d writes/s) |\n",
        s, objs, arch, c / 1000, arch / (c / 1000), k / 1000, crss, r / 1000, rest / (r / 1000), rrss, l / 1000, objs / (l / 1000), w / 1000, 2000 / (w / 1000) }'
  done
  echo
  if grep -q "^$s20	" "$ROWS" && grep -q "^$s2	" "$ROWS"; then
    awk -F'\t' -v s2="$s2" -v s20="$s20" \
      -v arch="$(backup_value "$s20" archived_objects)" -v r="$(backup_value "$s20" restore_ms)" -v rest="$(backup_value "$s20" restored_objects)" '
      $1 == s20 && $3 == "kubectl backup create -A" { c = $5; rss20 = $7 }
      $1 == s20 && $4 == "baseline" { k = $5 }
      $1 == s2 && $3 == "kubectl backup create -A" { rss2 = $7 }
      END {
        print "| target | measured | result |"
        print "| --- | --- | --- |"
        printf "| create -A ≥ 2,000 objects/s | %d objects/s (%d archived in %.2f s) | %s |\n", arch / (c / 1000), arch, c / 1000, (arch / (c / 1000) >= 2000) ? "PASS" : "MISS"
        printf "| create -A no slower than kubectl get -o yaml | %.2f s vs %.2f s (%.2f×) | %s |\n", c / 1000, k / 1000, c / k, (c <= k) ? "PASS" : "MISS"
        printf "| restore ≥ 500 objects/s | %d objects/s (%d in %.2f s) | %s |\n", rest / (r / 1000), rest, r / 1000, (rest / (r / 1000) >= 500) ? "PASS" : "MISS"
        printf "| create RSS at 20k ≤ 1.5 × at 2k | %s MB vs %s MB (%.2f×) | %s |\n", rss20, rss2, rss20 / rss2, (rss20 <= 1.5 * rss2) ? "PASS" : "MISS"
      }' "$ROWS"
  else
    echo "Targets not evaluated: both backup-2k and backup-20k are needed."
  fi
  echo
}
