#!/usr/bin/env python3
"""A TCP proxy that limits every connection's upstream-to-client bytes to RATE bytes per second.

What a registry's CDN looks like from one machine (each connection capped, more connections get
more), for bench/ranged-copy.sh and bench/adaptive-fetch.sh.  Usage: throttle_proxy.py LISTEN_PORT TARGET_HOST:PORT RATE_MIB_S
"""
import socket
import sys
import threading
import time

CHUNK = 256 * 1024


def pump(src, dst, rate):
    # A token bucket one chunk deep: a connection that sat idle (a keep-alive one between requests)
    # earns no burst beyond one chunk, so the first bytes of an answer come at the cap too.
    due = time.monotonic()
    try:
        while True:
            data = src.recv(CHUNK)
            if not data:
                break
            dst.sendall(data)
            if rate:
                now = time.monotonic()
                due = max(due, now - CHUNK / rate) + len(data) / rate
                if due > now:
                    time.sleep(due - now)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(listen_port, target, rate):
    host, port = target.rsplit(":", 1)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(64)
    while True:
        client, _ = server.accept()
        upstream = socket.create_connection((host, int(port)))
        threading.Thread(target=pump, args=(client, upstream, 0), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, rate), daemon=True).start()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2], float(sys.argv[3]) * 1024 * 1024)
