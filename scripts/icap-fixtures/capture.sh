#!/bin/bash
# Captures one c-icap-client exchange with c-icap, both directions, byte for byte.
#
#   capture.sh OUTDIR -- c-icap-client arguments...
#
# Expects c-icap (Debian's /usr/bin/c-icap, srv_echo) listening on 127.0.0.1:13440, e.g. with
# c-icap.conf from this directory: c-icap -N -D -f "$PWD/c-icap.conf". The relay listens on
# 13441, forwards to 13440 and writes connN.c2s / connN.s2c / connN.seq (the reads, in order).
set -u
out=$1; shift; [ "$1" = "--" ] && shift
rm -rf "$out"; mkdir -p "$out"
python3 "$(dirname "$0")/relay.py" 13441 13440 "$out" & relay=$!
sleep 1.5
c-icap-client -i 127.0.0.1 -p 13441 -s echo "$@" -o "$out/client-output" -v > "$out/client-stdout" 2>&1
sleep 0.5
kill "$relay"; wait "$relay" 2>/dev/null
