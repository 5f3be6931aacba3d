#!/usr/bin/env bash
#
# bench/policy.sh -- the policy at UT1 scale: 5 million domain entries over 60 lists.
#
#   1. Generates a UT1-shaped blacklist tree (gen-blacklist.py, 20 categories x
#      domains/urls/expressions = 60 lists).
#   2. Imports it: `portcullis policy import TREE --list ut1 --deny` (wall time, peak RSS).
#   3. `portcullis policy benchmark`: snapshot compile time, RSS growth per entry,
#      decisions per second on one thread.
#   4. Proxy throughput with that policy loaded vs the empty starter policy:
#      bench/run.sh (direct + Portcullis, 1 KiB keep-alive) alternately with each,
#      ROUNDS times; the ratio of the Portcullis req/s means.
#
# Usage: bench/policy.sh     Knobs: DOMAINS [5000000] CATEGORIES [20] ROUNDS [2]
#        GENERATOR [../shared/tools/gen-blacklist.py] PORTCULLIS_BIN [.build/release/portcullis]
#        DURATION (passed to run.sh) [10]  SKIP_PROXY=1 to stop after step 3.
# Nothing is timed inside the test suite; these are measurements for people.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOMAINS=${DOMAINS:-5000000}
CATEGORIES=${CATEGORIES:-20}
ROUNDS=${ROUNDS:-2}
GENERATOR=${GENERATOR:-$ROOT/../shared/tools/gen-blacklist.py}
BIN=${PORTCULLIS_BIN:-$ROOT/.build/release/portcullis}
export DURATION=${DURATION:-10}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[[ -f $GENERATOR ]] || { log "generator not found: $GENERATOR (set GENERATOR)"; exit 1; }
if [[ ! -x $BIN ]]; then
    log "building: scripts/build-release"
    "$ROOT/scripts/build-release" >&2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-policy-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log "generating $DOMAINS domains in $CATEGORIES categories"
python3 "$GENERATOR" "$WORK/tree" --domains "$DOMAINS" --categories "$CATEGORIES" >/dev/null
LINES=$(cat "$WORK"/tree/*/* | wc -l)

log "importing"
/usr/bin/time -f '%e %M' -o "$WORK/import.time" \
    "$BIN" policy import "$WORK/tree" --list ut1 --deny --data-dir "$WORK/data" --show-problems 0 \
    >"$WORK/import.out"
read -r IMPORT_SECONDS IMPORT_KIB <"$WORK/import.time"

log "policy benchmark"
"$BIN" policy benchmark --data-dir "$WORK/data" --seconds 5 >"$WORK/policy.out"

echo "## Policy benchmark"
echo
echo "- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- Tree: gen-blacklist.py --domains $DOMAINS --categories $CATEGORIES ($LINES lines)"
echo
echo "| Measure | Value |"
echo "| --- | ---: |"
echo "| import (\`policy import --deny\`, wall) | ${IMPORT_SECONDS} s |"
echo "| import peak RSS | $((IMPORT_KIB / 1024)) MiB |"
echo "| $(tail -n 1 "$WORK/import.out" | sed 's/ in [0-9.]* s;.*//') | |"
sed -n 's/^\([^:]*\): *\(.*\)$/| \1 | \2 |/p' "$WORK/policy.out"

if [[ ${SKIP_PROXY:-0} == 1 ]]; then exit 0; fi

rps_of() { awk -F'|' '/^\| Portcullis/ { gsub(/ /, "", $3); print $3 }' "$1"; }
direct_of() { awk -F'|' '/^\| nginx direct|^\| Direct|^\| direct/ { gsub(/ /, "", $3); print $3 }' "$1"; }
EMPTY=()
LOADED=()
for round in $(seq 1 "$ROUNDS"); do
    log "proxy round $round: empty policy"
    BENCH_ONLY="direct portcullis" ROUNDS=1 DOWNLOADS=1 PORTCULLIS_BIN=$BIN "$ROOT/bench/run.sh" >"$WORK/empty.$round.md"
    EMPTY+=("$(rps_of "$WORK/empty.$round.md")")
    log "proxy round $round: 5M policy"
    BENCH_ONLY="direct portcullis" ROUNDS=1 DOWNLOADS=1 PORTCULLIS_BIN=$BIN PORTCULLIS_DATA="$WORK/data" \
        "$ROOT/bench/run.sh" >"$WORK/loaded.$round.md"
    LOADED+=("$(rps_of "$WORK/loaded.$round.md")")
done
mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.0f", s / NR }'; }
E=$(mean "${EMPTY[@]}")
L=$(mean "${LOADED[@]}")
echo "| proxy 1 KiB req/s, empty policy (runs: ${EMPTY[*]}) | $E |"
echo "| proxy 1 KiB req/s, ${DOMAINS} entries (runs: ${LOADED[*]}) | $L |"
echo "| loaded / empty | $(awk -v l="$L" -v e="$E" 'BEGIN { printf "%.3f", l / e }') |"
