#!/usr/bin/env bash
#
# bench/pinned.sh -- what one request costs Portcullis, with the noise of a shared machine
# taken out: one event loop pinned to CPU 1, wrk and the nginx origin pinned to CPU 0.
# Prints requests/s and the proxy's user and system CPU microseconds per request (from
# /proc/PID/stat over the wrk run). Run it a few times, alternating two binaries, to compare
# them: bench/pinned.sh OLD_BINARY; bench/pinned.sh NEW_BINARY; ...
#
# Usage: bench/pinned.sh [PORTCULLIS_BINARY]   (default: .build/release/portcullis)
# Knobs: DURATION (seconds of the measured wrk run) [10], CONNECTIONS [50], REQUEST_FIELDS
# (minimal or browser, as in bench/run.sh) [minimal].
# Needs 2 or more CPUs, nginx, wrk, curl, taskset. Everything runs on 127.0.0.1 from a temp
# dir that is removed on exit, with every process it started.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$REPO_ROOT/.build/release/portcullis}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-50}
[[ -x $BIN ]] || { echo "no Portcullis binary at $BIN (scripts/build-release)" >&2; exit 1; }
(($(nproc) >= 2)) || { echo "needs at least 2 CPUs" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-pinned.XXXXXX")
# World-traversable: nginx started as root serves files as nobody, and a private temp dir
# would make every answer a 403 page instead of the 1 KiB file.
chmod 755 "$WORK"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ORIGIN_PORT=$(free_port)
PROXY_PORT=$(free_port)

mkdir -p "$WORK/var"
# shellcheck source=one-kib-origin.sh
source "$REPO_ROOT/bench/one-kib-origin.sh"
start_one_kib_origin "$ORIGIN_PORT" taskset -c 0
taskset -c 1 "$BIN" run --threads 1 --listen "127.0.0.1:$PROXY_PORT" --data-dir "$WORK/var" \
    --access-log "$WORK/var/access.log" >"$WORK/portcullis.log" 2>&1 &
PROXY_PID=$!
PIDS+=("$PROXY_PID")

ORIGIN_URL="http://127.0.0.1:$ORIGIN_PORT/1k"
for _ in $(seq 100); do
    curl -s -o /dev/null -x "127.0.0.1:$PROXY_PORT" "$ORIGIN_URL" && break
    sleep 0.1
done
GOT=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -x "127.0.0.1:$PROXY_PORT" "$ORIGIN_URL")
[[ $GOT == "200 1024" ]] || { echo "expected 200 and 1024 bytes through the proxy, got: $GOT" >&2; exit 1; }
run_wrk() {
    ORIGIN_URL=$ORIGIN_URL taskset -c 0 wrk -t1 -c"$CONNECTIONS" -d"$1s" \
        -s "$REPO_ROOT/bench/absolute-form.lua" "http://127.0.0.1:$PROXY_PORT/" 2>&1
}
run_wrk 3 >/dev/null   # warm-up
read -r u1 s1 < <(awk '{ sub(/.*\) /, ""); print $12, $13 }' "/proc/$PROXY_PID/stat")
OUT=$(run_wrk "$DURATION")
read -r u2 s2 < <(awk '{ sub(/.*\) /, ""); print $12, $13 }' "/proc/$PROXY_PID/stat")
LINE=$(grep '^BENCH_RESULT' <<<"$OUT") || { echo "wrk failed:" >&2; echo "$OUT" >&2; exit 1; }
# Only 200s with the whole file count: a run of error pages measures something else.
STATUS_ERRORS=$(tr ' ' '\n' <<<"$LINE" | awk -F= '$1 == "err_status" { print $2 }')
[[ $STATUS_ERRORS == 0 ]] || { echo "$STATUS_ERRORS answers were not 2xx/3xx: $LINE" >&2; exit 1; }
REQS=$(tr ' ' '\n' <<<"$LINE" | awk -F= '$1 == "requests" { print $2 }')
RPS=$(tr ' ' '\n' <<<"$LINE" | awk -F= '$1 == "rps" { print $2 }')
awk -v u=$((u2 - u1)) -v s=$((s2 - s1)) -v n="$REQS" -v hz="$(getconf CLK_TCK)" -v rps="$RPS" 'BEGIN {
    printf "req/s %.0f  user %.2f us/req  sys %.2f us/req  total %.2f us/req\n",
        rps, u / hz / n * 1e6, s / hz / n * 1e6, (u + s) / hz / n * 1e6 }'
