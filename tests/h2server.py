#!/usr/bin/env python3
"""A scripted HTTP/2 server (prior-knowledge h2c) for tests/test-h2.c, on
Debian's python3-h2: each path answers in one deliberate way, and every
request that arrives whole is logged as one JSON line.

  h2server.py --port-file FILE --log FILE

Paths:
  /echo           200, body "LEN CRC32" of the request body
  /rst            RST_STREAM INTERNAL_ERROR
  /refuse-once    REFUSED_STREAM the first time, then 200
  /refuse-always  REFUSED_STREAM
  /goaway-once    the first time: GOAWAY that leaves the stream unprocessed,
                  then the connection closes; then 200
  /close-after    200, then 0.1 s later the connection closes (an idle close)
  /slow           no answer
  /push           a PUSH_PROMISE (push is off: a protocol error), then 200
  /big?N          200 with N bytes
  /headers        200, the request's header fields as JSON
  /barrier/N      no answer until N streams of its connection wait on
                  /barrier/N; then 200 "barrier N" to all of them
  anything else   200 "hello"
"""
import argparse
import json
import os
import socket
import struct
import threading
import time
import zlib

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings

lock = threading.Lock()
seen = {}        # path -> times it arrived
conn_ids = [0]


def log(path, entry):
    with lock:
        with open(path, "a") as f:
            f.write(json.dumps(entry) + "\n")


def first_time(path):
    with lock:
        seen[path] = seen.get(path, 0) + 1
        return seen[path] == 1


def push_promise_frame(stream_id, promised):
    # HPACK literals without indexing: they leave the dynamic table alone
    def lit(name, value):
        name, value = name.encode(), value.encode()
        return bytes([0x00, len(name)]) + name + bytes([len(value)]) + value
    block = (lit(":method", "GET") + lit(":scheme", "http") + lit(":path", "/pushed") +
             lit(":authority", "127.0.0.1"))
    payload = struct.pack(">I", promised) + block
    head = struct.pack(">I", len(payload))[1:] + bytes([0x05, 0x04]) + struct.pack(">I", stream_id)
    return head + payload


def serve(sock, args):
    with lock:
        conn_ids[0] += 1
        cid = conn_ids[0]
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False,
                                                                header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    streams = {}
    client_push = None
    close_after = False
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.RemoteSettingsChanged):
                    ch = ev.changed_settings.get(h2.settings.SettingCodes.ENABLE_PUSH)
                    if ch is not None:
                        client_push = ch.new_value
                elif isinstance(ev, h2.events.RequestReceived):
                    streams[ev.stream_id] = {"headers": ev.headers, "body": b""}
                elif isinstance(ev, h2.events.DataReceived):
                    st = streams.get(ev.stream_id)
                    if st is not None:
                        st["body"] += ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    st = streams.pop(ev.stream_id, None)
                    if st is None:
                        continue
                    close_after |= answer(conn, sock, ev.stream_id, st, cid, client_push, args)
                    if close_after == "now":
                        return
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
            if close_after:
                return
    except (ConnectionError, h2.exceptions.ProtocolError):
        return
    finally:
        try:
            sock.sendall(conn.data_to_send())
        except OSError:
            pass
        sock.close()


def respond(conn, sid, status, body, extra=()):
    conn.send_headers(sid, [(":status", str(status)), ("content-length", str(len(body)))] +
                      list(extra), end_stream=not body)
    if body:
        conn.send_data(sid, body, end_stream=True)  # small bodies: one frame


def send_big(conn, sock, sid, data):
    """Sends data within the flow-control windows, reading the client's
    WINDOW_UPDATEs while it waits; False when the client went."""
    conn.send_headers(sid, [(":status", "200"), ("content-length", str(len(data)))])
    while data:
        n = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size, len(data))
        if n > 0:
            conn.send_data(sid, data[:n], end_stream=n == len(data))
            data = data[n:]
            continue
        sock.sendall(conn.data_to_send())
        more = sock.recv(65536)
        if not more:
            return False
        conn.receive_data(more)
    return True


barriers = {}    # (conn, N) -> streams waiting on /barrier/N (tests/test-batch.c)


def barrier(conn, sid, cid, name):
    n = int(name[len("/barrier/"):])
    with lock:
        waiting = barriers.setdefault((cid, n), [])
        waiting.append(sid)
        if len(waiting) < n:
            return
        del barriers[(cid, n)]
    for s in waiting:
        respond(conn, s, 200, ("barrier %d" % n).encode())


def answer(conn, sock, sid, st, cid, client_push, args):
    h = dict((k, v) for k, v in st["headers"])
    path = h.get(":path", "")
    body = st["body"]
    log(args.log, {"conn": cid, "stream": sid, "method": h.get(":method"), "path": path,
                   "headers": st["headers"], "body_len": len(body),
                   "crc": zlib.crc32(body), "client_push": client_push})
    name = path.split("?")[0]
    if name == "/echo":
        respond(conn, sid, 200, ("%d %d" % (len(body), zlib.crc32(body))).encode())
    elif name == "/rst":
        conn.reset_stream(sid, h2.errors.ErrorCodes.INTERNAL_ERROR)
    elif name == "/refuse-always" or (name == "/refuse-once" and first_time(name)):
        conn.reset_stream(sid, h2.errors.ErrorCodes.REFUSED_STREAM)
    elif name == "/goaway-once" and first_time(name):
        conn.close_connection(last_stream_id=sid - 2 if sid > 2 else 0)
        sock.sendall(conn.data_to_send())
        return "now"
    elif name == "/close-after":
        respond(conn, sid, 200, b"bye")
        sock.sendall(conn.data_to_send())
        time.sleep(0.1)  # the client is idle by now
        return True
    elif name == "/slow":
        pass
    elif name == "/push":
        sock.sendall(conn.data_to_send())
        sock.sendall(push_promise_frame(sid, 2))
        respond(conn, sid, 200, b"pushed?")
    elif name == "/big":
        n = int(path.split("?")[1])
        if not send_big(conn, sock, sid, bytes((i * 7) & 0xff for i in range(n))):
            return "now"
    elif name.startswith("/barrier/"):
        barrier(conn, sid, cid, name)
    elif name == "/headers":
        respond(conn, sid, 200, json.dumps(st["headers"]).encode())
    else:
        respond(conn, sid, 200, b"hello", [("set-cookie", "h2=yes; Path=/")])
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(ls.getsockname()[1]))
    os.rename(tmp, args.port_file)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve, args=(s, args), daemon=True).start()


if __name__ == "__main__":
    main()
