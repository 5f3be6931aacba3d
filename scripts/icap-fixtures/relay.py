#!/usr/bin/env python3
"""A TCP relay that logs each direction of each connection to files, to capture ICAP wire bytes.
Usage: relay.py LISTEN_PORT TARGET_PORT OUTDIR"""
import socket, sys, threading, os, itertools, time
listen_port, target_port, outdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.makedirs(outdir, exist_ok=True)
counter = itertools.count(1)
def pump(src, dst, path, seqlog, tag, lock):
    with open(path, 'wb') as f:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b''
            if not data:
                try: dst.shutdown(socket.SHUT_WR)
                except OSError: pass
                return
            f.write(data); f.flush()
            with lock:
                seqlog.write(f"{time.time():.6f} {tag} {len(data)}\n"); seqlog.flush()
            dst.sendall(data)
def handle(client):
    n = next(counter)
    server = socket.create_connection(('127.0.0.1', target_port))
    lock = threading.Lock()
    seqlog = open(os.path.join(outdir, f'conn{n}.seq'), 'w')
    a = threading.Thread(target=pump, args=(client, server, os.path.join(outdir, f'conn{n}.c2s'), seqlog, 'c2s', lock))
    b = threading.Thread(target=pump, args=(server, client, os.path.join(outdir, f'conn{n}.s2c'), seqlog, 's2c', lock))
    a.start(); b.start(); a.join(); b.join()
    client.close(); server.close(); seqlog.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', listen_port)); s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
