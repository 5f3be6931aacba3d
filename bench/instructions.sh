#!/usr/bin/env bash
#
# bench/instructions.sh -- the user-space instructions Portcullis executes per 1 KiB request,
# counted by Valgrind (callgrind's Ir): a figure that does not move with the machine, for
# comparing two builds on a noisy one. Runs the proxy (one event loop) under callgrind twice,
# serving SMALL and then LARGE keep-alive requests from ab through it to an nginx origin, and
# prints (Ir(LARGE) - Ir(SMALL)) / (LARGE - SMALL): start-up and shutdown cancel out.
# Kernel time is not counted; what a change does to the socket calls needs bench/run.sh.
#
# Usage: bench/instructions.sh [PORTCULLIS_BINARY]   (default: .build/release/portcullis)
# Knobs: SMALL [2000], LARGE [12000], KEEP_PROFILES=DIR (keep both callgrind outputs there;
# `callgrind_annotate` reads them).
# Needs valgrind, ab (apache2-utils), nginx, curl. Valgrind 3.19 cannot read the DWARF 5
# the Swift compiler writes, so the binary is run from a copy without its debug sections
# (symbols kept).
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$REPO_ROOT/.build/release/portcullis}
SMALL=${SMALL:-2000}
LARGE=${LARGE:-12000}
[[ -x $BIN ]] || { echo "no Portcullis binary at $BIN" >&2; exit 1; }
((LARGE > SMALL && SMALL > 0)) || { echo "needs LARGE > SMALL > 0" >&2; exit 1; }
for tool in valgrind ab nginx curl strip; do
    command -v "$tool" >/dev/null || { echo "'$tool' not found (Debian: apt-get install -y valgrind apache2-utils nginx-light curl binutils)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-instructions.XXXXXX")
chmod 755 "$WORK"   # nginx's workers (nobody) read the 1 KiB file from here
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ORIGIN_PORT=$(free_port)

# shellcheck source=one-kib-origin.sh
source "$REPO_ROOT/bench/one-kib-origin.sh"
start_one_kib_origin "$ORIGIN_PORT"
strip --strip-debug -o "$WORK/portcullis" "$BIN"
URL="http://127.0.0.1:$ORIGIN_PORT/1k"

# count N: the total Ir of a proxy run that serves N requests, then shuts down (SIGTERM).
count() {
    local n=$1 port out
    port=$(free_port)
    out="$WORK/callgrind-$n.out"
    rm -rf "$WORK/var-$n"
    valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no \
        "$WORK/portcullis" run --threads 1 --listen "127.0.0.1:$port" --data-dir "$WORK/var-$n" \
        --access-log "$WORK/var-$n/access.log" >"$WORK/proxy-$n.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    local ready=0
    for _ in $(seq 600); do
        if curl -s -o /dev/null -x "127.0.0.1:$port" "$URL"; then ready=1; break; fi
        sleep 0.2
    done
    ((ready)) || { echo "the proxy did not answer under valgrind:" >&2; tail -20 "$WORK/proxy-$n.log" >&2; exit 1; }
    ab -q -k -n "$n" -c 4 -X "127.0.0.1:$port" "$URL" >"$WORK/ab-$n.txt" 2>&1 ||
        { cat "$WORK/ab-$n.txt" >&2; exit 1; }
    grep -q '^Failed requests: *0$' "$WORK/ab-$n.txt" || { grep -i 'failed' "$WORK/ab-$n.txt" >&2; exit 1; }
    if grep -q '^Non-2xx responses' "$WORK/ab-$n.txt"; then grep '^Non-2xx' "$WORK/ab-$n.txt" >&2; exit 1; fi
    kill -TERM "$pid"
    wait "$pid" || true
    [[ -n ${KEEP_PROFILES:-} ]] && mkdir -p "$KEEP_PROFILES" && cp "$out" "$KEEP_PROFILES/"
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
}
small=$(count "$SMALL")
large=$(count "$LARGE")
awk -v a="$small" -v b="$large" -v n=$((LARGE - SMALL)) 'BEGIN {
    printf "instructions per request: %.0f (Ir %d for %d requests more)\n", (b - a) / n, b - a, n }'
