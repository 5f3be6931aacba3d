#!/usr/bin/env python3
"""Sends hand-written requests straight to c-icap and stores its answers byte for byte.

    raw.py OUTDIR [PORT]        (PORT defaults to 13440, the port in c-icap.conf)

Writes OUTDIR/raw-NAME.c2s (what was sent) and OUTDIR/raw-NAME.s2c (what c-icap answered).
"""
import socket
import sys

out = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 13440


def exchange(data, name):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    s.settimeout(2)
    answer = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    except socket.timeout:
        pass
    s.close()
    open(f"{out}/raw-{name}.c2s", "wb").write(data)
    open(f"{out}/raw-{name}.s2c", "wb").write(answer)
    print(name, repr(answer))


exchange(b"OPTIONS icap://127.0.0.1/nosuch ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: null-body=0\r\n\r\n",
         "unknown-service")
exchange(b"GARBAGE\r\n\r\n", "garbage")
exchange(b"FETCH icap://127.0.0.1/echo ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: null-body=0\r\n\r\n",
         "unknown-method")
# c-icap ignores the version: it answers this one 200 OK.
exchange(b"OPTIONS icap://127.0.0.1/echo ICAP/2.0\r\nHost: 127.0.0.1\r\nEncapsulated: null-body=0\r\n\r\n",
         "wrong-version")
# c-icap looks for CRLF CRLF only: it never answers this one (the socket times out).
exchange(b"OPTIONS icap://127.0.0.1/echo ICAP/1.0\nHost: 127.0.0.1\nEncapsulated: null-body=0\n\n", "bare-lf")
exchange(b"REQMOD icap://127.0.0.1/echo ICAP/1.0\r\nHost: 127.0.0.1\r\nEncapsulated: req-hdr=0, req-body=5\r\n\r\n"
         b"GET / HTTP/1.0\r\n\r\n0\r\n\r\n", "bad-offset")
