#!/usr/bin/env python3
"""A server that stops reading while it talks: the client's upload fills
the socket while bytes keep coming, so the client writes again from its
read event with its write event still armed (a libevent event assigned
twice spins the loop forever).  Modes:
  stall-server.py h2c PORT           h2c: huge windows, then PINGs unread
  stall-server.py tls PORT CERT KEY  HTTP/1.1 over TLS: a head in pieces
Serves until killed; the test bounds it."""
import socket
import ssl
import struct
import sys
import threading
import time


def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream) + payload


def h2c(conn):
    # SETTINGS (initial window 2^31-1) and a connection WINDOW_UPDATE: the
    # client may send all it has
    conn.sendall(frame(4, 0, 0, struct.pack(">HI", 4, 2**31 - 1)) +
                 frame(8, 0, 0, struct.pack(">I", 2**31 - 1 - 65535)))
    for n in range(40):  # 2 s of PINGs, nothing read
        time.sleep(0.05)
        conn.sendall(frame(6, 0, 0, struct.pack(">Q", n)))
    while conn.recv(1 << 20):  # then read all, never answer
        pass


def tls(conn, ctx):
    s = ctx.wrap_socket(conn, server_side=True)
    for i in range(6):  # the head in pieces, the request unread
        time.sleep(0.3)
        s.sendall(b"HTTP/1.1 200 OK\r\n" if i == 0 else b"X-A: b\r\n")
    while s.recv(1 << 20):
        pass


def serve(conn, mode, ctx):
    try:
        h2c(conn) if mode == "h2c" else tls(conn, ctx)
    except OSError:
        pass
    conn.close()


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    ctx = None
    if mode == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)
    print("listening", flush=True)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve, args=(conn, mode, ctx), daemon=True).start()


main()
