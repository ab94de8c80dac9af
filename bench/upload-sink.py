#!/usr/bin/env python3
"""Tiny HTTP/1.1 server that reads and discards request bodies, the sink of the upload case.

nginx alone cannot be the sink: `return 200` and the static handler answer before the body is
read (and skip it entirely when the client sent `Expect: 100-continue`), so an upload would
"finish" without its bytes having crossed the tunnel. This server reads every byte (Content-Length
or chunked) with recv_into on one reusable buffer, answers 100 Continue when asked, and replies
200 with the number of body bytes received, which bench/run.sh checks against what it sent.
The upstream nginx proxies /upload here with request buffering off, so for every target the
path is: client -> [target] -> upstream nginx -> this sink.

usage: upload-sink.py PORT
"""
import socket
import sys
import threading



def serve(conn):
    view = memoryview(bytearray(1 << 20))
    pending = b""
    try:
        while True:
            # read the request head
            while b"\r\n\r\n" not in pending:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                pending += chunk
            head, pending = pending.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if headers.get("expect", "").lower() == "100-continue":
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            received = 0
            if "chunked" in headers.get("transfer-encoding", "").lower():
                received, pending = read_chunked(conn, pending, view)
                if received is None:
                    return
            else:
                length = int(headers.get("content-length", "0"))
                take = min(length, len(pending))
                pending = pending[take:]
                received = take
                while received < length:
                    n = conn.recv_into(view, min(len(view), length - received))
                    if n == 0:
                        return
                    received += n
            body = str(received).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            if headers.get("connection", "").lower() == "close":
                return
    except (ConnectionError, ValueError):
        return
    finally:
        conn.close()


def read_chunked(conn, pending, view):
    """Discards a chunked body; returns (bytes of body, leftover bytes) or (None, b'') on EOF."""
    received = 0
    while True:
        while b"\r\n" not in pending:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            pending += chunk
        size_line, pending = pending.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            # trailers, then an empty line
            while True:
                while b"\r\n" not in pending:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return None, b""
                    pending += chunk
                line, pending = pending.split(b"\r\n", 1)
                if line == b"":
                    return received, pending
        need = size + 2  # data + CRLF
        take = min(need, len(pending))
        pending = pending[take:]
        need -= take
        while need > 0:
            n = conn.recv_into(view, min(len(view), need))
            if n == 0:
                return None, b""
            need -= n
        received += size


def main():
    port = int(sys.argv[1])
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(128)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
