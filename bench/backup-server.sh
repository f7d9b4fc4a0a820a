#!/usr/bin/env bash
# kube-sandbox's own throughput beside `kubectl backup` (make bench): how much of
# a backup or restore is the server. Uses the current KUBECONFIG (admin token).
#   backup-server.sh list PATH...   page through each list (limit 500, 8 at once) with curl
#   backup-server.sh write N        create N ConfigMaps in namespace default, 16 at once
# Prints the wall time in milliseconds.
set -euo pipefail
KUBECTL=${KUBECTL:-kubectl}
mode=${1:?list or write}
shift
server=$($KUBECTL config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')
token=$($KUBECTL config view --raw --minify -o jsonpath='{.users[0].user.token}')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$KUBECTL config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$work/ca.crt"
# The token goes through a curl config file, not the command line.
printf 'header = "Authorization: Bearer %s"\ncacert = "%s"\nsilent\nshow-error\nfail\n' "$token" "$work/ca.crt" >"$work/auth.conf"
chmod 600 "$work/auth.conf"
now_ms() { echo $(($(date +%s%N) / 1000000)); }

list_one() {
  local path=$1 cont="" page
  while :; do
    page=$(curl -K "$work/auth.conf" "$server$path?limit=500${cont:+&continue=$cont}")
    cont=$(printf '%s' "$page" | grep -o '"continue":"[^"]*"' | head -1 | cut -d'"' -f4 || true)
    [[ -n $cont ]] || break
  done
}

t0=$(now_ms)
case $mode in
  list)
    export -f list_one
    export server work
    printf '%s\n' "$@" | xargs -P 8 -I{} bash -c 'list_one "$1"' _ {}
    ;;
  write)
    n=${1:?count}
    {
      for ((i = 1; i <= n; i++)); do
        ((i > 1)) && echo next
        printf 'url = "%s/api/v1/namespaces/default/configmaps"\nrequest = "POST"\nheader = "Content-Type: application/json"\ndata = "{\\"apiVersion\\":\\"v1\\",\\"kind\\":\\"ConfigMap\\",\\"metadata\\":{\\"name\\":\\"bench-%d\\"},\\"data\\":{\\"k\\":\\"v\\"}}"\noutput = "/dev/null"\n' "$server" "$i"
        cat "$work/auth.conf"
      done
    } >"$work/writes.conf"
    curl --parallel --parallel-max 16 -K "$work/writes.conf"
    ;;
  *)
    echo "usage: $0 list PATH... | write N" >&2
    exit 2
    ;;
esac
echo $(($(now_ms) - t0))
