#!/usr/bin/env python3
# Times list requests against kube-sandbox the way a client reads them: one
# kept-alive HTTPS connection, each body read whole. Used by bench/sandbox-bench.sh.
#
#   sandbox-list.py KUBECONFIG PATH [LIMIT] [RUNS]
# prints one line per run: "<bytes> <seconds> <pages>" (a paged run follows
# the continue tokens to the end; the bytes and seconds are over all pages).
import http.client
import re
import ssl
import sys
import time
import urllib.parse

CONTINUE = re.compile(rb'"continue":"([^"]*)"')


def kubeconfig(path):
    # The sandbox's own kubeconfig: one cluster, admin user first.
    found = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().partition(": ")
            if key in ("server", "token"):
                found.setdefault(key, value.strip())
    if "server" not in found or "token" not in found:
        sys.exit(f"sandbox-list: no server or token in {path}")
    return found["server"], found["token"]


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: sandbox-list.py KUBECONFIG PATH [LIMIT] [RUNS]")
    server, token = kubeconfig(sys.argv[1])
    path = sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    url = urllib.parse.urlsplit(server)
    if url.scheme == "https":
        # The sandbox's throwaway local CA is not one Python's verifier
        # accepts as a root; the connection never leaves 127.0.0.1.
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx)
    else:
        conn = http.client.HTTPConnection(url.hostname, url.port)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    for _ in range(runs):
        total, pages, cont = 0, 0, None
        t0 = time.perf_counter()
        while True:
            q = {}
            if limit:
                q["limit"] = str(limit)
            if cont:
                q["continue"] = cont
            target = path + ("?" + urllib.parse.urlencode(q) if q else "")
            conn.request("GET", target, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                sys.exit(f"sandbox-list: GET {target}: HTTP {resp.status}: {body[:200]!r}")
            total += len(body)
            pages += 1
            m = CONTINUE.search(body, 0, 4096)
            cont = m.group(1).decode() if (limit and m) else None
            if not cont:
                break
        print(f"{total} {time.perf_counter() - t0:.4f} {pages}", flush=True)


if __name__ == "__main__":
    main()
