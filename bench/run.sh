#!/usr/bin/env bash
#
# bench/run.sh -- compare Portcullis with nginx (direct), HAProxy, Squid and
# tinyproxy on this machine, over loopback only.
#
# What it does, in order:
#   1. Makes a private temp work dir. Everything generated (payloads, server
#      configs, logs, pid files) lives there. It is deleted on exit, and every
#      server started by this script is killed on exit, even on Ctrl-C/errors.
#   2. Writes a 1 KiB and a 64 MiB payload and serves them with nginx
#      (the "origin") on 127.0.0.1:<random free port>.
#   3. Starts the servers under test, each on its own free loopback port:
#        haproxy    - reverse proxy in front of nginx (origin-form requests)
#        nio-splice - SwiftNIO passing bytes between each client connection and
#                     its own origin connection, nothing parsed: the floor of
#                     any proxy built on SwiftNIO (bench/nio-splice)
#        squid      - forward proxy, no cache
#        tinyproxy  - forward proxy
#        portcullis - forward proxy ($PORTCULLIS_BIN)
#   4. Waits until each one answers a real request (bounded retries).
#   5. 1 KiB over keep-alive with wrk, ROUNDS rounds of every target in
#      turn: req/s, p99 latency and CPU per request, each the median round.
#   6. Then for each target, one after another:
#        a. the p99 of 1 KiB over one connection (LATENCY_SECONDS)
#        b. 64 MiB GET with curl, DOWNLOADS times: median MB/s
#        c. 64 MiB through a CONNECT tunnel (forward proxies only)
#   7. Prints a Markdown table on stdout (progress goes to stderr, so
#      `bench/run.sh > results.md` captures just the report).
#   8. Exits non-zero if any measurement failed.
#
# Usage:  bench/run.sh            (from anywhere; paths are resolved)
#         bench/run.sh --help
#
# Environment knobs (defaults in brackets):
#   DURATION         seconds of each wrk measurement            [10]
#   ROUNDS           1 KiB measurements per target, taken in turns (every
#                    target once, then again ...); the median is reported,
#                    so a moment of load elsewhere on the machine moves one
#                    round of one target, not the ratio                [3]
#   WARMUP           seconds of wrk warm-up before it, 0 = none [2]
#   THREADS          wrk threads                                [2]
#   CONNECTIONS      wrk concurrent connections                 [50]
#   LATENCY_SECONDS  seconds of the single-connection latency run after
#                    each 1 KiB run (p99 with no queueing: what a target
#                    adds to one request), 0 = skip it              [5]
#   DOWNLOADS        64 MiB downloads per target (median used)  [15]
#   REQUEST_FIELDS   minimal = wrk's bare request (Host only); browser = also
#                    the dozen fields a browser sends (absolute-form.lua) [minimal]
#   BENCH_ONLY       space-separated subset of targets to run:
#                    "direct haproxy nio-splice squid squid-icap tinyproxy
#                    portcullis portcullis-icap squid-respmod
#                    portcullis-respmod" [all];
#                    the -icap ones send every request
#                    to c-icap's echo service as a REQMOD service first
#   PORTCULLIS_BIN   Portcullis binary  [<repo>/.build/release/portcullis]
#   BENCH_BUILD      1 = if PORTCULLIS_BIN is unset and the default binary
#                    is missing, run scripts/build-release first
#                    (and build bench/nio-splice with the same flags,
#                    scripts/release-flags.sh, if it is missing);
#                    0 = never build (just skip)                  [1]
#   NGINX_WORKERS    nginx worker_processes, 0 = auto           [1]
#   HAPROXY_THREADS  HAProxy nbthread                           [1]
#   PORTCULLIS_THREADS  Portcullis event loops (--threads); empty = its
#                    default, one per core (nio-splice gets the same) [empty]
#   BENCH_KEEP       1 = keep the temp work dir (configs, logs) [0]
#   PORTCULLIS_DATA  data directory for Portcullis (e.g. one holding a
#                    5-million-entry policy from bench/policy.sh); the
#                    default is a fresh one, i.e. the empty starter policy [fresh]
#   ACCESS_LOGS      on  = Squid and Portcullis both write their access log
#                          to a file, as each does by default in production
#                    off = neither logs                          [on]
#
# Only 127.0.0.1 is ever used. Nothing is installed or written outside the
# temp dir (and the Swift build dir, if a build is needed).
#
# Note on `set -e`: measurement functions are called as `if ! measure ...`
# so one failing target does not abort the others. Bash disables errexit
# inside functions called that way, so those functions check every step
# explicitly and `return 1` on failure.

# cleanup and start_<target> are called indirectly (trap, "start_$t").
# shellcheck disable=SC2317
set -euo pipefail

# --- Remember the exact command line (knobs that were explicitly set) ------

KNOBS=(DURATION ROUNDS WARMUP THREADS CONNECTIONS LATENCY_SECONDS DOWNLOADS REQUEST_FIELDS BENCH_ONLY PORTCULLIS_BIN PORTCULLIS_DATA
       BENCH_BUILD NGINX_WORKERS HAPROXY_THREADS PORTCULLIS_THREADS BENCH_KEEP)
COMMAND_LINE=""
for k in "${KNOBS[@]}"; do
    if [[ -n ${!k+x} ]]; then
        COMMAND_LINE+="$k=$(printf '%q' "${!k}") "
    fi
done
COMMAND_LINE+=$(printf '%q' "$0")
for a in "$@"; do COMMAND_LINE+=" $(printf '%q' "$a")"; done

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    # Print the comment block at the top of this file.
    sed -n '3,/^$/{s/^# \{0,1\}//;p}' "$0"
    exit 0
fi
if [[ $# -gt 0 ]]; then
    echo "run.sh takes no arguments (use environment knobs; see --help)" >&2
    exit 2
fi

# --- Settings -----------------------------------------------------------------

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
LUA_SCRIPT="$SCRIPT_DIR/absolute-form.lua"

ACCESS_LOGS=${ACCESS_LOGS:-on}
[[ $ACCESS_LOGS == on || $ACCESS_LOGS == off ]] || { echo "ACCESS_LOGS must be on or off" >&2; exit 2; }
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
DOWNLOADS=${DOWNLOADS:-15}
LATENCY_SECONDS=${LATENCY_SECONDS:-5}
export REQUEST_FIELDS=${REQUEST_FIELDS:-minimal}
[[ $REQUEST_FIELDS == minimal || $REQUEST_FIELDS == browser ]] || { echo "REQUEST_FIELDS must be minimal or browser" >&2; exit 2; }
BENCH_BUILD=${BENCH_BUILD:-1}
NGINX_WORKERS=${NGINX_WORKERS:-1}
HAPROXY_THREADS=${HAPROXY_THREADS:-1}
BENCH_KEEP=${BENCH_KEEP:-0}

ALL_TARGETS=(direct haproxy nio-splice squid squid-icap squid-respmod tinyproxy portcullis portcullis-icap portcullis-respmod)
FORWARD_PROXIES=" squid squid-icap squid-respmod tinyproxy portcullis portcullis-icap portcullis-respmod "
BENCH_ONLY=${BENCH_ONLY:-${ALL_TARGETS[*]}}

SMALL_BYTES=1024                  # 1 KiB
BIG_BYTES=$((64 * 1024 * 1024))   # 64 MiB
LOOPBACK=127.0.0.1                # the only address this script ever uses
STARTUP_TRIES=100                 # readiness polls per server ...
STARTUP_SLEEP=0.2                 # ... this far apart (20 s total)

# Human-readable target names used in the report.
declare -A LABEL=(
    [direct]="nginx (direct)"
    [haproxy]="HAProxy (reverse)"
    [nio-splice]="SwiftNIO splice (floor)"
    [squid]="Squid"
    [squid-icap]="Squid + c-icap echo"
    [tinyproxy]="tinyproxy"
    [portcullis]="Portcullis"
    [portcullis-icap]="Portcullis + c-icap echo"
    [squid-respmod]="Squid + c-icap echo RESPMOD"
    [portcullis-respmod]="Portcullis + c-icap echo RESPMOD"
)

log()  { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
warn() { log "WARNING: $*"; }
die()  { log "ERROR: $*"; exit 1; }

for v in DURATION ROUNDS WARMUP THREADS CONNECTIONS DOWNLOADS NGINX_WORKERS HAPROXY_THREADS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, got '${!v}'"
done
((DURATION > 0 && ROUNDS > 0 && THREADS > 0 && DOWNLOADS > 0)) || die "DURATION, ROUNDS, THREADS and DOWNLOADS must be > 0"
((CONNECTIONS >= THREADS)) || die "CONNECTIONS must be >= THREADS (wrk requirement)"
[[ $NGINX_WORKERS != 0 ]] || NGINX_WORKERS=auto
((HAPROXY_THREADS > 0)) || die "HAPROXY_THREADS must be > 0"

# Which targets to run (BENCH_ONLY filter, validated).
declare -A WANT=()
for t in $BENCH_ONLY; do
    [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] ||
        die "unknown target '$t' in BENCH_ONLY (known: ${ALL_TARGETS[*]})"
    WANT[$t]=1
done
wanted() { [[ -n ${WANT[$1]:-} ]]; }
is_forward_proxy() { [[ $FORWARD_PROXIES == *" $1 "* ]]; }

# Per-target results. Values: a number, "FAIL", or empty (printed as "-").
declare -A STATUS=()   # ok | skipped | failed
declare -A NOTE=()     # why skipped/failed
declare -A INFO=()     # footnotes for the report
declare -A RPS=() P99=() P99ONE=() DL=() TUNNEL=() CPU=()
declare -A RPS_ROUNDS=() P99_ROUNDS=() CPU_ROUNDS=()   # each round's figures, space-separated
FAILED=0

# --- Required tools ---------------------------------------------------------------

for tool in nginx wrk curl setsid awk sort ps; do
    command -v "$tool" >/dev/null || die "'$tool' not found (Debian: apt-get install -y $tool)"
done
[[ -r $LUA_SCRIPT ]] || die "missing $LUA_SCRIPT"

# A third-party proxy that is not installed is skipped, not fatal.
declare -A TOOL=([haproxy]=haproxy [squid]=squid [squid-icap]=squid [squid-respmod]=squid [tinyproxy]=tinyproxy)
for t in haproxy squid squid-icap squid-respmod tinyproxy; do
    if wanted "$t" && ! command -v "${TOOL[$t]}" >/dev/null; then
        STATUS[$t]=skipped; NOTE[$t]="${TOOL[$t]} not installed"
    fi
done
for t in squid-icap portcullis-icap squid-respmod portcullis-respmod; do
    if wanted "$t" && ! command -v c-icap >/dev/null; then
        STATUS[$t]=skipped; NOTE[$t]="c-icap not installed"
    fi
done

# --- Portcullis binary (build it first if needed, before anything runs) ----

if wanted portcullis || wanted portcullis-icap || wanted portcullis-respmod; then
    if [[ -z ${PORTCULLIS_BIN:-} ]]; then
        PORTCULLIS_BIN="$REPO_ROOT/.build/release/portcullis"
        if [[ ! -x $PORTCULLIS_BIN && $BENCH_BUILD == 1 ]]; then
            if [[ -f $REPO_ROOT/Package.swift ]] && command -v swift >/dev/null; then
                log "building Portcullis: scripts/build-release"
                "$REPO_ROOT/scripts/build-release" >&2 || die "swift build failed"
            fi
        fi
    fi
    if [[ ! -x $PORTCULLIS_BIN ]]; then
        for t in portcullis portcullis-icap portcullis-respmod; do STATUS[$t]=skipped; NOTE[$t]="binary not found: $PORTCULLIS_BIN"; done
    fi
fi

# --- The SwiftNIO floor (its own package, built like Portcullis if missing) ----------

NIO_SPLICE_BIN="$SCRIPT_DIR/nio-splice/.build/release/nio-splice"
if wanted nio-splice; then
    if [[ ! -x $NIO_SPLICE_BIN && $BENCH_BUILD == 1 ]] && command -v swift >/dev/null; then
        # The release flags of Portcullis's build (scripts/release-flags.sh), so that the floor
        # is built as the proxy is. A floor that does not build is a row short, not a run lost.
        # shellcheck source=../scripts/release-flags.sh
        source "$REPO_ROOT/scripts/release-flags.sh"
        log "building nio-splice: swift build ${RELEASE_FLAGS[*]} --package-path bench/nio-splice"
        swift build "${RELEASE_FLAGS[@]}" --package-path "$SCRIPT_DIR/nio-splice" >&2 ||
            warn "swift build of bench/nio-splice failed"
    fi
    if [[ ! -x $NIO_SPLICE_BIN ]]; then
        STATUS[nio-splice]=skipped; NOTE[nio-splice]="binary not found: $NIO_SPLICE_BIN"
    fi
fi

# --- Work dir and cleanup -------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-bench.XXXXXX")
# World-traversable so daemons that drop root privileges (nginx workers,
# Squid, tinyproxy) can read their configs and payloads. Nothing secret here.
chmod 755 "$WORK"

PGIDS=()   # process groups of every server we started (one per server)

# List live (non-zombie) processes in process group $1.
group_members() {
    ps -e -o pgid=,pid=,stat= | awk -v g="$1" '$1 == g && $3 !~ /^Z/ { print $2 }'
}

cleanup() {
    local rc=$? pg pid i alive
    set +e
    trap - EXIT INT TERM
    # 1. Politely stop every server's whole process group (nginx master +
    #    workers, etc.). Each server was started with setsid, so its PID is
    #    also its process-group ID and nothing else shares that group.
    for pg in ${PGIDS[@]+"${PGIDS[@]}"}; do
        kill -TERM -- "-$pg" 2>/dev/null
    done
    # 2. Give them up to 5 s, then SIGKILL whatever is left.
    for ((i = 0; i < 50; i++)); do
        alive=0
        for pg in ${PGIDS[@]+"${PGIDS[@]}"}; do
            [[ -n $(group_members "$pg") ]] && alive=1
        done
        ((alive)) || break
        sleep 0.1
    done
    for pg in ${PGIDS[@]+"${PGIDS[@]}"}; do
        kill -KILL -- "-$pg" 2>/dev/null
    done
    # 3. Belt and braces: anything still running whose command line names our
    #    private work dir was started by us (e.g. a helper that called
    #    setsid itself). Kill it by PID.
    for pid in $(ps -e -o pid=,args= | awk -v w="$WORK" 'index($0, w) { print $1 }'); do
        [[ $pid == "$$" ]] && continue
        kill -KILL "$pid" 2>/dev/null
    done
    wait 2>/dev/null
    if [[ $BENCH_KEEP == 1 ]]; then
        log "kept work dir: $WORK"
    else
        rm -rf -- "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Helpers: ports, starting servers, readiness --------------------------------

# Pick a free TCP port on loopback below the kernel's ephemeral range (so
# wrk/curl/proxy outgoing connections can never collide with a listener).
declare -A USED_PORTS=()
PORT=""
pick_port() {
    local lo=10000 hi p i
    hi=$(awk '{ print $1 - 1 }' /proc/sys/net/ipv4/ip_local_port_range)
    ((hi > lo + 1000)) || hi=65000
    for ((i = 0; i < 500; i++)); do
        p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
        [[ -n ${USED_PORTS[$p]:-} ]] && continue
        if command -v ss >/dev/null; then
            [[ -z $(ss -Htan "sport = :$p") ]] || continue
        elif (exec 3<>"/dev/tcp/$LOOPBACK/$p") 2>/dev/null; then
            continue
        fi
        USED_PORTS[$p]=1
        PORT=$p
        return 0
    done
    die "could not find a free port"
}

declare -A SERVER_PID=()
declare -A SERVER_LOGS=()   # files worth showing when something breaks

# start_server NAME CMD... : run CMD in its own session/process group, in the
# background, stdout+stderr to $WORK/NAME/console.log.
start_server() {
    local name=$1; shift
    mkdir -p "$WORK/$name"
    local out="$WORK/$name/console.log"
    log "starting $name: $*"
    setsid "$@" >"$out" 2>&1 </dev/null &
    local pid=$!
    PGIDS+=("$pid")
    SERVER_PID[$name]=$pid
    SERVER_LOGS[$name]="$out ${SERVER_LOGS[$name]:-}"
    # setsid only makes a new group without forking if the caller is not a
    # group leader, which is always true for `&` jobs in a script. Check it.
    sleep 0.05
    local pg
    pg=$(ps -o pgid= -p "$pid" | tr -d ' ') || true
    if [[ -n $pg && $pg != "$pid" ]]; then
        die "$name did not get its own process group (pgid $pg, pid $pid)"
    fi
}

show_logs() {
    local f
    for f in ${SERVER_LOGS[$1]:-}; do
        [[ -s $f ]] || continue
        log "---- last lines of $f ----"
        tail -n 20 "$f" >&2
    done
}

server_alive() { [[ -n $(group_members "${SERVER_PID[$1]}") ]]; }

# wait_ready NAME URL [PROXY]: poll until GET URL (optionally through PROXY)
# returns 200. Returns 1 (after showing logs) if it never does.
wait_ready() {
    local name=$1 url=$2 proxy=${3:-} i code
    local via=(--noproxy '*')
    [[ -n $proxy ]] && via=(--proxy "$proxy")
    for ((i = 0; i < STARTUP_TRIES; i++)); do
        if ! server_alive "$name"; then
            log "ERROR: $name exited during startup"
            show_logs "$name"
            return 1
        fi
        code=$(curl -q -s -o /dev/null --max-time 2 -w '%{http_code}' "${via[@]}" "$url") || true
        if [[ $code == 200 ]]; then
            log "$name is ready"
            return 0
        fi
        sleep "$STARTUP_SLEEP"
    done
    log "ERROR: $name not ready after $STARTUP_TRIES tries (last HTTP code: ${code:-none})"
    show_logs "$name"
    return 1
}

# When root, the daemons that support it drop to this unprivileged user.
RUN_USER="" RUN_GROUP=""
if [[ $(id -u) == 0 ]]; then
    RUN_USER=nobody
    RUN_GROUP=$(id -gn nobody 2>/dev/null || echo nogroup)
fi

# --- Payloads and the nginx origin ---------------------------------------------

mkdir -p "$WORK/www"
head -c "$SMALL_BYTES" /dev/urandom >"$WORK/www/1k"
head -c "$BIG_BYTES" /dev/urandom >"$WORK/www/64m"
chmod 755 "$WORK/www"; chmod 644 "$WORK/www/1k" "$WORK/www/64m"

pick_port; NGINX_PORT=$PORT
ORIGIN="http://$LOOPBACK:$NGINX_PORT"
mkdir -p "$WORK/nginx"

# Point every compiled-in temp path into the work dir so nginx never touches
# /var/lib/nginx (directives of modules that are not compiled in are errors).
NGINX_TEMP_PATHS="client_body_temp_path $WORK/nginx/client_body;"
for m in proxy fastcgi uwsgi scgi; do
    if ! nginx -V 2>&1 | grep -q -- "--without-http_${m}_module"; then
        NGINX_TEMP_PATHS+=$'\n'"    ${m}_temp_path $WORK/nginx/$m;"
    fi
done

# If stub_status is compiled in, expose the origin's request counter so we
# can verify that every proxied request really reached the origin (no cache).
NGINX_STATUS_LOCATION=""
if nginx -V 2>&1 | grep -q -- '--with-http_stub_status_module'; then
    NGINX_STATUS_LOCATION="location = /__origin_status { stub_status; }"
fi

# worker_processes 1 (NGINX_WORKERS): on a 2-core box the client (wrk) and the
# proxy under test need the CPU; a single origin worker is a fixed, equal cost
# for every target and cannot spread over both cores and starve the proxy.
cat >"$WORK/nginx/nginx.conf" <<EOF
# Generated by bench/run.sh -- origin server for the benchmark.
${RUN_USER:+user $RUN_USER $RUN_GROUP;}
worker_processes $NGINX_WORKERS;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;

events {
    worker_connections 4096;
}

http {
    access_log off;                  # logging would dominate a 1 KiB benchmark
    sendfile on;                     # zero-copy for the 64 MiB file
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000000;   # never close a keep-alive connection
    keepalive_timeout 300s;
    default_type application/octet-stream;
    server_tokens off;
    $NGINX_TEMP_PATHS

    server {
        listen $LOOPBACK:$NGINX_PORT;
        server_name _;
        root $WORK/www;
        $NGINX_STATUS_LOCATION
    }
}
EOF
SERVER_LOGS[nginx]="$WORK/nginx/error.log"
nginx -t -q -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" ||
    die "nginx config test failed ($WORK/nginx/nginx.conf)"
start_server nginx nginx -p "$WORK/nginx" -e "$WORK/nginx/error.log" \
    -c "$WORK/nginx/nginx.conf" -g 'daemon off;'
wait_ready nginx "$ORIGIN/1k" || die "nginx origin did not start"

# Sanity-check the origin itself before blaming any proxy.
size=$(curl -q -sS --noproxy '*' -o /dev/null -w '%{size_download}' "$ORIGIN/64m") ||
    die "cannot download $ORIGIN/64m from nginx"
[[ $size == "$BIG_BYTES" ]] || die "nginx served $size bytes for /64m, expected $BIG_BYTES"

declare -A TARGET_PORT=([direct]=$NGINX_PORT)

mark_failed() {  # mark_failed TARGET REASON
    STATUS[$1]=failed; NOTE[$1]=$2; FAILED=1
    log "ERROR: $1: $2"
}

# --- HAProxy: reverse proxy in front of nginx ------------------------------------

# nbthread 1 (HAPROXY_THREADS): like Squid (one worker) and the nginx origin,
# HAProxy gets one event loop. On 2 cores, wrk + origin already fill the
# machine; more proxy threads mostly add contention. Set HAPROXY_THREADS=2 to
# see the multi-threaded number.
start_haproxy() {
    pick_port; local port=$PORT
    mkdir -p "$WORK/haproxy"
    cat >"$WORK/haproxy/haproxy.cfg" <<EOF
# Generated by bench/run.sh -- HAProxy as a reverse proxy for the nginx origin.
global
    nbthread $HAPROXY_THREADS
    # No global maxconn on purpose: HAProxy derives it from the fd limit.
    # A small maxconn (e.g. 200) silently shrinks the idle server-connection
    # pool, and HAProxy then opens a new origin connection per request
    # (measured: 22k instead of 54k req/s).
    pidfile $WORK/haproxy/haproxy.pid
${RUN_USER:+    user $RUN_USER
    group $RUN_GROUP}
    # no "log" line: no logging, same as the other servers

defaults
    mode http
    option http-keep-alive           # keep-alive on both sides (the default)
    http-reuse always                # share idle origin connections
    timeout connect 5s
    timeout client  60s
    timeout server  60s

frontend bench
    bind $LOOPBACK:$port
    default_backend origin

backend origin
    server nginx $LOOPBACK:$NGINX_PORT
EOF
    haproxy -c -q -f "$WORK/haproxy/haproxy.cfg" >"$WORK/haproxy/check.log" 2>&1 || {
        cat "$WORK/haproxy/check.log" >&2; return 1; }
    start_server haproxy haproxy -db -f "$WORK/haproxy/haproxy.cfg"
    TARGET_PORT[haproxy]=$port
    wait_ready haproxy "http://$LOOPBACK:$port/1k"
}

# --- SwiftNIO splice: the floor of a proxy built on SwiftNIO -------------------------

# Each client connection gets its own connection to nginx and the bytes pass both ways,
# nothing parsed, logged or decided: the same four socket calls per 1 KiB request as
# Portcullis, and nothing else. Requests are origin-form, as for HAProxy. Its event loops
# are Portcullis's (one per core, or PORTCULLIS_THREADS).
start_nio-splice() {
    pick_port; local port=$PORT
    mkdir -p "$WORK/nio-splice"
    start_server nio-splice "$NIO_SPLICE_BIN" "$port" "$NGINX_PORT" ${PORTCULLIS_THREADS:+"$PORTCULLIS_THREADS"}
    TARGET_PORT[nio-splice]=$port
    wait_ready nio-splice "http://$LOOPBACK:$port/1k"
}

# --- Squid: forward proxy, no caching ---------------------------------------------

# workers 1: Squid's default, and SMP mode would need shared memory and IPC
# sockets outside the temp dir. With -N Squid stays in the foreground as a
# single process (no master/kid fork), which is what we want to measure.
start_squid() { start_squid_as squid ""; }

# Squid with c-icap's echo service as its REQMOD service (what a school runs today).
start_squid-icap() {
    start_cicap squid-icap || return 1
    start_squid_as squid-icap "icap_enable on
icap_preview_enable on
icap_persistent_connections on
icap_service echo reqmod_precache icap://$LOOPBACK:$CICAP_PORT/echo bypass=off
adaptation_access echo allow all"
}

# Squid with c-icap's echo service as its RESPMOD service (responses streamed through it).
start_squid-respmod() {
    start_cicap squid-respmod || return 1
    start_squid_as squid-respmod "icap_enable on
icap_preview_enable on
icap_persistent_connections on
icap_service echo respmod_precache icap://$LOOPBACK:$CICAP_PORT/echo bypass=off
adaptation_access echo allow all"
}

# start_squid_as NAME EXTRA_CONFIG
start_squid_as() {
    local name=$1 extra=$2
    pick_port; local port=$PORT
    mkdir -p "$WORK/$name"
    cat >"$WORK/$name/squid.conf" <<EOF
# Generated by bench/run.sh -- Squid as a plain forward proxy, no cache.
http_port $LOOPBACK:$port
workers 1
visible_hostname portcullis-bench

# No caching at all: every request goes to the origin, like the other proxies.
cache deny all
cache_mem 0 MB
# (no cache_dir line = no disk cache)

# Access log as in production (Squid's default, to a file), or none with
# ACCESS_LOGS=off; Portcullis gets the same setting.
$( [[ $ACCESS_LOGS == on ]] && echo "access_log daemon:$WORK/$name/access.log squid" || echo "access_log none" )
cache_store_log none
cache_log $WORK/$name/cache.log
logfile_rotate 0
pid_filename $WORK/$name/squid.pid
coredump_dir $WORK/$name
netdb_filename none
pinger_enable off
icp_port 0
htcp_port 0
snmp_port 0
shutdown_lifetime 0 seconds
${RUN_USER:+cache_effective_user $RUN_USER
cache_effective_group $RUN_GROUP}

# Access control: loopback clients only; CONNECT allowed to the origin port
# too (stock Squid only allows CONNECT to 443).
acl SSL_ports port 443 $NGINX_PORT
acl Safe_ports port 80 443 $NGINX_PORT
acl CONNECT method CONNECT
http_access deny !Safe_ports
http_access deny CONNECT !SSL_ports
http_access allow localhost
http_access deny all
$extra
EOF
    if [[ -n $RUN_USER ]]; then chown -R "$RUN_USER:$RUN_GROUP" "$WORK/$name"; fi
    SERVER_LOGS[$name]="$WORK/$name/cache.log"
    squid -k parse -f "$WORK/$name/squid.conf" >"$WORK/$name/parse.log" 2>&1 || {
        tail -n 20 "$WORK/$name/parse.log" >&2; return 1; }
    start_server "$name" squid -N -f "$WORK/$name/squid.conf"
    TARGET_PORT[$name]=$port
    wait_ready "$name" "$ORIGIN/1k" "http://$LOOPBACK:$port"
}

# --- tinyproxy: forward proxy --------------------------------------------------------

# tinyproxy 1.11 uses one thread per client connection; MaxClients is set
# above CONNECTIONS so it never refuses wrk's connections.
start_tinyproxy() {
    pick_port; local port=$PORT
    mkdir -p "$WORK/tinyproxy"
    cat >"$WORK/tinyproxy/tinyproxy.conf" <<EOF
# Generated by bench/run.sh -- tinyproxy as a forward proxy.
${RUN_USER:+User $RUN_USER
Group $RUN_GROUP}
Port $port
Listen $LOOPBACK
Timeout 600
MaxClients $((CONNECTIONS * 2 + 50))
LogFile "$WORK/tinyproxy/tinyproxy.log"
LogLevel Error
PidFile "$WORK/tinyproxy/tinyproxy.pid"
Allow 127.0.0.1
ConnectPort $NGINX_PORT
EOF
    if [[ -n $RUN_USER ]]; then chown -R "$RUN_USER:$RUN_GROUP" "$WORK/tinyproxy"; fi
    SERVER_LOGS[tinyproxy]="$WORK/tinyproxy/tinyproxy.log"
    start_server tinyproxy tinyproxy -d -c "$WORK/tinyproxy/tinyproxy.conf"
    TARGET_PORT[tinyproxy]=$port
    wait_ready tinyproxy "$ORIGIN/1k" "http://$LOOPBACK:$port"
}

# --- c-icap: the echo service of the ICAP targets -------------------------------------------

# start_cicap TARGET: a c-icap of the target's own, its port in CICAP_PORT. (One shared by all
# the ICAP targets fills up: c-icap gives every connection a thread until it closes, and
# each client keeps its idle connections open, so the first targets' idle connections took
# the threads the later ones needed, and their requests waited for ever.)
CICAP_PORT=""
start_cicap() {
    local target=$1 dir="$WORK/cicap-$1"
    command -v c-icap >/dev/null || { warn "c-icap not installed"; return 1; }
    pick_port; CICAP_PORT=$PORT
    mkdir -p "$dir/tmp"
    local modules
    modules=$(dirname "$(dpkg -L c-icap 2>/dev/null | grep -m1 '/srv_echo.so$')")
    cat >"$dir/c-icap.conf" <<EOF
PidFile $dir/c-icap.pid
CommandsSocket $dir/c-icap.ctl
Port $LOOPBACK:$CICAP_PORT
StartServers 1
MaxServers 2
ThreadsPerChild 64
MinSpareThreads 8
MaxSpareThreads 64
MaxKeepAliveRequests 0
KeepAliveTimeout 600
Pipelining on
TmpDir $dir/tmp
# Anonymous shared memory: POSIX's (named in /dev/shm) outlives a c-icap that is killed.
InterProcessSharedMemScheme mmap
ModulesDir $modules
ServicesDir $modules
ServerLog $dir/server.log
AccessLog /dev/null
DebugLevel 0
Service echo srv_echo.so
EOF
    start_server "cicap-$target" c-icap -N -D -f "$dir/c-icap.conf"
    local i
    for ((i = 0; i < STARTUP_TRIES; i++)); do
        if (exec 3<>"/dev/tcp/$LOOPBACK/$CICAP_PORT") 2>/dev/null; then return 0; fi
        sleep "$STARTUP_SLEEP"
    done
    warn "c-icap did not start"; show_logs "cicap-$target"; return 1
}

# --- Portcullis: forward proxy ------------------------------------------------------

# Contract: `portcullis run --listen ADDR:PORT --data-dir DIR
#            --connect-ports PORTS --access-log FILE`, stays in the
# foreground, allows loopback clients by default.
start_portcullis() { start_portcullis_as portcullis pc; }

# Portcullis with c-icap's echo service as its REQMOD service.
start_portcullis-icap() {
    start_cicap portcullis-icap || return 1
    start_portcullis_as portcullis-icap pc-icap --icap-service "reqmod icap://$LOOPBACK:$CICAP_PORT/echo bypass=off"
}

# Portcullis with c-icap's echo service as its RESPMOD service.
start_portcullis-respmod() {
    start_cicap portcullis-respmod || return 1
    start_portcullis_as portcullis-respmod pc-respmod --icap-service "respmod icap://$LOOPBACK:$CICAP_PORT/echo bypass=off"
}

# start_portcullis_as NAME DIR [EXTRA ARGS...]
start_portcullis_as() {
    local name=$1 dir=$2; shift 2
    pick_port; local port=$PORT
    mkdir -p "$WORK/$dir"
    SERVER_LOGS[$name]="$WORK/$dir/access.log"
    # This script's PORTCULLIS_* knobs are not for Portcullis, which reads PORTCULLIS_<SETTING>
    # variables as settings (PORTCULLIS_THREADS is its `threads`; set but empty, it is an error).
    start_server "$name" env -u PORTCULLIS_THREADS -u PORTCULLIS_BIN -u PORTCULLIS_DATA "$PORTCULLIS_BIN" run \
        --listen "$LOOPBACK:$port" \
        --data-dir "${PORTCULLIS_DATA:-$WORK/$dir}" \
        --connect-ports "$NGINX_PORT" \
        ${PORTCULLIS_THREADS:+--threads "$PORTCULLIS_THREADS"} \
        --access-log "$( [[ $ACCESS_LOGS == on ]] && echo "$WORK/$dir/access.log" || echo off )" "$@"
    TARGET_PORT[$name]=$port
    wait_ready "$name" "$ORIGIN/1k" "http://$LOOPBACK:$port"
}

# Start every wanted server up front; idle servers cost nothing.
for t in haproxy nio-splice squid squid-icap squid-respmod tinyproxy portcullis portcullis-icap portcullis-respmod; do
    wanted "$t" || continue
    if [[ ${STATUS[$t]:-} == skipped ]]; then
        log "$t: skipped (${NOTE[$t]})"
        continue
    fi
    if ! "start_$t"; then
        mark_failed "$t" "did not start"
    fi
done

# --- Measurements ---------------------------------------------------------------------

# field NAME LINE: value of NAME=... in a BENCH_RESULT line.
field() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' <<<"$2"; }

# run_wrk OUTFILE SECONDS URL ORIGIN_URL [THREADS CONNECTIONS]: one wrk run,
# raw output to OUTFILE.
run_wrk() {
    ORIGIN_URL=$4 wrk -t"${5:-$THREADS}" -c"${6:-$CONNECTIONS}" -d"$2s" --latency --timeout 10s \
        -s "$LUA_SCRIPT" "$3" >"$1" 2>&1
}

# measure_latency TARGET: 1 KiB over one keep-alive connection, one request at
# a time: the p99 is the target's own latency, with no queueing behind other
# requests (under the 50-connection load, p99 mostly measures the queue:
# mean latency = connections / throughput).
measure_latency() {
    local t=$1 port=${TARGET_PORT[$1]} url origin="" out="$WORK/wrk-$1-one.txt"
    if is_forward_proxy "$t"; then
        url="http://$LOOPBACK:$port/"
        origin="$ORIGIN/1k"
    else
        url="http://$LOOPBACK:$port/1k"
    fi
    run_wrk "$out" "$LATENCY_SECONDS" "$url" "$origin" 1 1 || {
        log "ERROR: single-connection wrk failed"; cat "$out" >&2; return 1; }
    local line
    line=$(grep '^BENCH_RESULT' "$out") || {
        log "ERROR: no BENCH_RESULT line from wrk"; cat "$out" >&2; return 1; }
    P99ONE[$t]=$(field p99_ms "$line")
    log "$t: 1 KiB, one connection: p99 ${P99ONE[$t]} ms"
}

# origin_counters: "CONNECTIONS REQUESTS" nginx has accepted/handled so far
# (stub_status), or nothing if stub_status is not available.
origin_counters() {
    [[ -n $NGINX_STATUS_LOCATION ]] || return 0
    curl -q -sS --noproxy '*' --max-time 5 "$ORIGIN/__origin_status" |
        awk 'NR == 3 { print $1, $3 }'
}

# Targets known to close the client connection after every response without
# saying so (no "Connection: close"). wrk sees the next request on that
# connection fail, counts a read error and reconnects. For these, read
# errors are expected (the cost of reconnecting is part of their number).
SILENT_CLOSE_TARGETS=" tinyproxy "

# group_cpu_ticks PGID: user + system CPU ticks of every process in the group (each
# server is started as its own group leader), from /proc/PID/stat (fields after the
# command name: state ppid pgrp ... utime is the 12th, stime the 13th).
group_cpu_ticks() {
    local f rest total=0 fields
    for f in /proc/[0-9]*/stat; do
        rest=$(<"$f") 2>/dev/null || continue
        rest=${rest##*) }
        read -r -a fields <<<"$rest"
        [[ ${fields[2]} == "$1" ]] || continue
        total=$((total + fields[11] + fields[12]))
    done
    echo "$total"
}

# measure_rps TARGET: 1 KiB responses over keep-alive with wrk.
measure_rps() {
    local t=$1 port=${TARGET_PORT[$1]} url origin="" out="$WORK/wrk-$1.txt"
    if is_forward_proxy "$t"; then
        url="http://$LOOPBACK:$port/"     # wrk connects to the proxy ...
        origin="$ORIGIN/1k"               # ... and asks it for this URL
    else
        url="http://$LOOPBACK:$port/1k"   # origin-form, straight to the server
    fi
    if ((WARMUP > 0)); then
        run_wrk "$out.warmup" "$WARMUP" "$url" "$origin" || {
            log "ERROR: wrk warm-up failed"; cat "$out.warmup" >&2; return 1; }
    fi
    local before after origin_reqs="" origin_conns="" cpu_before="" cpu_after="" group
    group=${SERVER_PID[$t]:-}
    [[ $t == direct ]] && group=${SERVER_PID[nginx]:-}
    before=$(origin_counters) || return 1
    [[ -n $group ]] && cpu_before=$(group_cpu_ticks "$group")
    run_wrk "$out" "$DURATION" "$url" "$origin" || {
        log "ERROR: wrk failed"; cat "$out" >&2; return 1; }
    [[ -n $group ]] && cpu_after=$(group_cpu_ticks "$group")
    after=$(origin_counters) || return 1
    if [[ -n $before && -n $after ]]; then
        origin_conns=$(( ${after% *} - ${before% *} ))
        origin_reqs=$(( ${after#* } - ${before#* } ))
    fi
    local line
    line=$(grep '^BENCH_RESULT' "$out") || {
        log "ERROR: no BENCH_RESULT line from wrk"; cat "$out" >&2; return 1; }
    local reqs status readerr sockerr
    reqs=$(field requests "$line")
    status=$(field err_status "$line")
    readerr=$(field err_read "$line")
    if [[ $SILENT_CLOSE_TARGETS == *" $t "* ]]; then
        if ((readerr > 0)); then
            log "$t: $readerr read errors = reconnects (it closes every connection after one response)"
            INFO[$t]="closes the client connection after every response without saying so; wrk's reconnects ($readerr) are part of its 1 KiB number"
        fi
        readerr=0
    fi
    sockerr=$(( $(field err_connect "$line") + readerr +
                $(field err_write "$line") + $(field err_timeout "$line") ))
    if ((reqs == 0)); then
        log "ERROR: wrk completed no requests"; cat "$out" >&2; return 1
    fi
    if ((status > 0)); then
        log "ERROR: $status responses had HTTP status >= 400"; cat "$out" >&2; return 1
    fi
    # A few socket errors can happen when the run ends; >1% means trouble.
    if ((sockerr * 100 > reqs)); then
        log "ERROR: $sockerr socket errors for $reqs requests"; cat "$out" >&2; return 1
    elif ((sockerr > 0)); then
        warn "$t: $sockerr socket errors for $reqs requests (under 1%, accepted)"
    fi
    # Every request must have reached the origin (nothing served from a cache).
    if [[ -n $origin_reqs ]] && ((origin_reqs < reqs)); then
        log "ERROR: origin saw only $origin_reqs requests for $reqs client requests (caching?)"
        return 1
    fi
    RPS[$t]=$(field rps "$line")
    P99[$t]=$(field p99_ms "$line")
    # The target's own CPU time per request over the same run (its process group: the
    # ICAP services of the -icap targets are not counted). Steadier than req/s on a
    # shared machine: it does not depend on how the cores were split with wrk and nginx.
    if [[ -n $cpu_before && -n $cpu_after ]]; then
        CPU[$t]=$(awk -v d=$((cpu_after - cpu_before)) -v hz="$(getconf CLK_TCK)" -v n="$reqs" \
            'BEGIN { printf "%.1f", d / hz / n * 1e6 }')
    fi
    log "$t: 1 KiB keep-alive: ${RPS[$t]} req/s, p99 ${P99[$t]} ms ($reqs requests)"
    if [[ -n $origin_reqs ]]; then
        log "$t: origin saw $origin_reqs requests on $origin_conns new connections"
    fi
}

# median NUMBERS...: the middle value (the mean of the two middle ones for an even count).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
        END { if (NR) printf "%s", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# median_mbps NUMBERS...: median of bytes/s values, printed as MB/s (10^6).
median_mbps() {
    awk -v m="$(median "$@")" 'BEGIN { printf "%.1f", m / 1e6 }'
}

# measure_download TARGET MODE: MODE is "get" (plain GET, through the proxy
# for forward proxies) or "connect" (GET inside a CONNECT tunnel).
measure_download() {
    local t=$1 mode=$2 port=${TARGET_PORT[$1]} i out code connect_code size speed
    local args=(-q -sS -o /dev/null --max-time 300
                -w '%{http_code} %{http_connect} %{size_download} %{speed_download}')
    local url
    if is_forward_proxy "$t"; then
        url="$ORIGIN/64m"
        args+=(--proxy "http://$LOOPBACK:$port")
        [[ $mode == connect ]] && args+=(--proxytunnel)
    else
        url="http://$LOOPBACK:$port/64m"
        args+=(--noproxy '*')
    fi
    local speeds=()
    for ((i = 1; i <= DOWNLOADS; i++)); do
        out=$(curl "${args[@]}" "$url") || {
            log "ERROR: curl failed (download $i): curl ${args[*]} $url"; return 1; }
        read -r code connect_code size speed <<<"$out"
        if [[ $mode == connect && $connect_code != 200 ]]; then
            log "ERROR: CONNECT answered $connect_code, expected 200"; return 1
        fi
        if [[ $code != 200 ]]; then
            log "ERROR: HTTP status $code for $url (download $i)"; return 1
        fi
        if [[ $size != "$BIG_BYTES" ]]; then
            log "ERROR: *** got $size bytes, expected $BIG_BYTES (download $i, $mode) ***"
            return 1
        fi
        speeds+=("$speed")
    done
    local mbps
    mbps=$(median_mbps "${speeds[@]}")
    if [[ $mode == connect ]]; then TUNNEL[$t]=$mbps; else DL[$t]=$mbps; fi
    log "$t: 64 MiB ${mode/get/GET}: median $mbps MB/s over $DOWNLOADS downloads"
}

# The 1 KiB runs: ROUNDS rounds, each target once per round, in the same order, so that every
# target is measured across the same stretch of the run; each figure is the median of its rounds.
for ((round = 1; round <= ROUNDS; round++)); do
    for t in "${ALL_TARGETS[@]}"; do
        wanted "$t" || continue
        case ${STATUS[$t]:-} in skipped|failed) continue ;; esac
        log "=== $t (port ${TARGET_PORT[$t]}): 1 KiB, round $round of $ROUNDS ==="
        STATUS[$t]=ok
        if ! measure_rps "$t"; then
            # (An earlier round's CPU figure must not stand beside a failed row.)
            RPS[$t]=FAIL; P99[$t]=FAIL; CPU[$t]=FAIL; mark_failed "$t" "1 KiB wrk run failed"
            continue
        fi
        RPS_ROUNDS[$t]+="${RPS[$t]} "; P99_ROUNDS[$t]+="${P99[$t]} "; CPU_ROUNDS[$t]+="${CPU[$t]:-} "
        sleep 1   # let sockets/CPU settle before the next target
    done
done
for t in "${!RPS_ROUNDS[@]}"; do
    [[ ${STATUS[$t]:-} == ok ]] || continue
    # shellcheck disable=SC2086  # the rounds are a space-separated list of numbers
    { RPS[$t]=$(median ${RPS_ROUNDS[$t]}); P99[$t]=$(median ${P99_ROUNDS[$t]}); }
    # shellcheck disable=SC2086
    [[ -n ${CPU_ROUNDS[$t]// /} ]] && CPU[$t]=$(median ${CPU_ROUNDS[$t]})
done

for t in "${ALL_TARGETS[@]}"; do
    wanted "$t" || continue
    case ${STATUS[$t]:-} in skipped|failed) continue ;; esac
    log "=== $t (port ${TARGET_PORT[$t]}) ==="
    if ((LATENCY_SECONDS > 0)) && ! measure_latency "$t"; then
        P99ONE[$t]=FAIL; mark_failed "$t" "1 KiB single-connection run failed"
    fi
    if ! measure_download "$t" get; then
        DL[$t]=FAIL; mark_failed "$t" "64 MiB download failed"
    fi
    if is_forward_proxy "$t"; then
        if ! measure_download "$t" connect; then
            TUNNEL[$t]=FAIL; mark_failed "$t" "64 MiB CONNECT download failed"
        fi
    fi
    # If the server died under load, say so (its later numbers are suspect).
    if [[ $t != direct ]] && ! server_alive "$t"; then
        mark_failed "$t" "server process died"; show_logs "$t"
    fi
    sleep 1   # let sockets/CPU settle before the next target
done

# --- Report ----------------------------------------------------------------------------

# ratio A B: "A/B" as e.g. 0.85x, or "-" when either is not a number.
is_num() { [[ ${1:-} =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
ratio() {
    if is_num "${1:-}" && is_num "${2:-}" && awk -v b="$2" 'BEGIN { exit !(b > 0) }'; then
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
    else
        echo "-"
    fi
}
show() { local v=${1:-}; if [[ -z $v ]]; then echo "-"; elif is_num "$v"; then awk -v v="$v" -v d="${2:-1}" 'BEGIN { printf "%.*f", d, v }'; else echo "$v"; fi; }

HEADERS=("Target" "1 KiB req/s" "1 KiB p99 ms" "p99 ms, 1 conn" "req/s vs Squid" "req/s vs direct"
         "CPU us/req" "64 MiB MB/s" "64 MiB vs Squid" "CONNECT 64 MiB MB/s" "CONNECT vs Squid")
ROWS=()
for t in "${ALL_TARGETS[@]}"; do
    wanted "$t" || continue
    name=${LABEL[$t]}
    case ${STATUS[$t]:-} in
        skipped) name+=" (skipped)" ;;
        failed)  name+=" (FAILED)" ;;
    esac
    ROWS+=("$name"$'\t'"$(show "${RPS[$t]:-}" 0)"$'\t'"$(show "${P99[$t]:-}" 2)"$'\t'"$(show "${P99ONE[$t]:-}" 2)"$'\t'"$(ratio "${RPS[$t]:-}" "${RPS[squid]:-}")"$'\t'"$(ratio "${RPS[$t]:-}" "${RPS[direct]:-}")"$'\t'"$(show "${CPU[$t]:-}" 1)"$'\t'"$(show "${DL[$t]:-}" 0)"$'\t'"$(ratio "${DL[$t]:-}" "${DL[squid]:-}")"$'\t'"$(show "${TUNNEL[$t]:-}" 0)"$'\t'"$(ratio "${TUNNEL[$t]:-}" "${TUNNEL[squid]:-}")")
done

# Column widths, then a padded Markdown table (first column left-aligned,
# numbers right-aligned) that also reads fine as plain text.
declare -a W
for i in "${!HEADERS[@]}"; do W[i]=${#HEADERS[i]}; done
for row in "${ROWS[@]}"; do
    IFS=$'\t' read -r -a cells <<<"$row"
    for i in "${!cells[@]}"; do ((${#cells[i]} > W[i])) && W[i]=${#cells[i]}; done
done
print_row() {  # print_row CELL...
    local i line="|" c=("$@")
    for ((i = 0; i < ${#c[@]}; i++)); do
        if ((i == 0)); then line+=$(printf ' %-*s |' "${W[i]}" "${c[i]}")
        else line+=$(printf ' %*s |' "${W[i]}" "${c[i]}"); fi
    done
    echo "$line"
}

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
version_of() {
    case $1 in
        nginx) nginx -v 2>&1 | sed 's/^nginx version: //' ;;
        haproxy) haproxy -v 2>/dev/null | awk 'NR == 1 { print "HAProxy " $3 }' ;;
        squid) squid -v 2>/dev/null | awk 'NR == 1 { print "Squid " $4 }' ;;
        tinyproxy) tinyproxy -v 2>/dev/null | head -n 1 ;;
        wrk) wrk -v 2>&1 | awk 'NR == 1 { print $1 " " $2 }' ;;
        curl) curl --version | awk 'NR == 1 { print $1 " " $2 }' ;;
    esac
}
VERSIONS="$(version_of nginx)"
for t in haproxy squid tinyproxy; do
    if wanted "$t" && [[ ${STATUS[$t]:-} != skipped ]]; then VERSIONS+=", $(version_of "$t")"; fi
done
VERSIONS+=", $(version_of wrk), $(version_of curl)"
if { wanted portcullis || wanted portcullis-icap || wanted portcullis-respmod; } && [[ -n ${PORTCULLIS_BIN:-} ]]; then
    VERSIONS+=", Portcullis ($PORTCULLIS_BIN)"
fi

{
    echo "## Portcullis benchmark"
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "- Machine: $(nproc) CPUs${CPU_MODEL:+ ($CPU_MODEL)}, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- Command: \`$COMMAND_LINE\`"
    echo "- wrk: -t$THREADS -c$CONNECTIONS -d${DURATION}s (after ${WARMUP}s warm-up), 1 KiB body, keep-alive, $REQUEST_FIELDS request fields, median of $ROUNDS rounds taken in turns; p99 over 1 connection: -t1 -c1 -d${LATENCY_SECONDS}s; downloads: median of $DOWNLOADS, MB = 10^6 bytes"
    echo "- Servers: nginx worker_processes $NGINX_WORKERS, HAProxy nbthread $HAPROXY_THREADS, Squid workers 1, Portcullis threads ${PORTCULLIS_THREADS:-= cores}; access logs (Squid, Portcullis): $ACCESS_LOGS"
    echo "- Versions: $VERSIONS"
    echo
    print_row "${HEADERS[@]}"
    sep="|"
    for i in "${!HEADERS[@]}"; do
        dashes=$(printf '%*s' "${W[i]}" '' | tr ' ' '-')
        if ((i == 0)); then sep+=" ${dashes} |"; else sep+=" ${dashes:1}: |"; fi
    done
    echo "$sep"
    for row in "${ROWS[@]}"; do
        IFS=$'\t' read -r -a cells <<<"$row"
        print_row "${cells[@]}"
    done
    if ((ROUNDS > 1)); then
        echo
        echo "1 KiB req/s in each round (the table gives the median; its ratios are of medians):"
        echo
        for t in "${ALL_TARGETS[@]}"; do
            [[ -n ${RPS_ROUNDS[$t]:-} ]] || continue
            echo "- ${LABEL[$t]}: $(awk '{ for (i = 1; i <= NF; i++) printf "%s%.0f", (i > 1 ? ", " : ""), $i }' <<<"${RPS_ROUNDS[$t]}")"
        done
    fi
    notes=0
    for t in "${ALL_TARGETS[@]}"; do
        for msg in "${NOTE[$t]:+${STATUS[$t]}: ${NOTE[$t]}}" "${INFO[$t]:-}"; do
            [[ -n $msg ]] || continue
            if ((notes++ == 0)); then echo; fi
            echo "- ${LABEL[$t]}: $msg"
        done
    done
}

if ((FAILED)); then
    log "some measurements FAILED (see messages above)"
    exit 1
fi
exit 0
