#!/usr/bin/env python3
"""A relay on a mesh link's path, doing what an attacker between two nodes can do: it forwards
the bytes both ways, records each direction, and injects a call frame toward the listener.

    mesh_relay.py <listener port> <directory>

It listens on a free loopback port and writes it to <directory>/port. Per connection n it
appends the dialer's bytes to c2s-<n>.bin and the listener's to s2c-<n>.bin, the payloads of the
dialer's WebSocket frames (unmasked) to c2s-<n>.frames when they are in clear, and logs
"open n", "injected n", "closed n" lines to events.log. Each line on stdin is a JSON text to
inject on the newest connection: as a masked WebSocket text frame when the link is a plaintext
WebSocket, or inside a well-formed TLS application_data record when it is TLS (a relay has no
key to encrypt with). Dialer bytes go on in whole units (HTTP head, WebSocket frame, TLS
record), so an injection always lands between two of them.
"""
import os
import socket
import sys
import threading

lock = threading.Lock()
connections = []  # [n, listener socket, mode: "head", then "tls" or "ws"]


def log(directory, line):
    with open(os.path.join(directory, "events.log"), "a") as f:
        f.write(line + "\n")


def record(directory, name, data):
    with open(os.path.join(directory, name), "ab") as f:
        f.write(data)


def unit_length(buffer, mode):
    """Bytes of the first whole unit in buffer, or 0 when it is not all there yet."""
    if mode == "head":
        end = buffer.find(b"\r\n\r\n")
        return end + 4 if end >= 0 else 0
    if mode == "tls":
        if len(buffer) < 5:
            return 0
        n = 5 + int.from_bytes(buffer[3:5], "big")
    else:  # WebSocket frames from a client are masked (RFC 6455 5.2)
        if len(buffer) < 2:
            return 0
        length = buffer[1] & 0x7F
        offset = 2
        if length == 126:
            if len(buffer) < 4:
                return 0
            length = int.from_bytes(buffer[2:4], "big")
            offset = 4
        elif length == 127:
            if len(buffer) < 10:
                return 0
            length = int.from_bytes(buffer[2:10], "big")
            offset = 10
        n = offset + (4 if buffer[1] & 0x80 else 0) + length
    return n if len(buffer) >= n else 0


def unmasked(frame):
    """The payload of one whole WebSocket frame from a client: masking hides nothing from a
    relay, the key is in the frame."""
    length = frame[1] & 0x7F
    offset = {126: 4, 127: 10}.get(length, 2)
    if not frame[1] & 0x80:
        return frame[offset:]
    mask = frame[offset:offset + 4]
    return bytes(b ^ mask[i % 4] for i, b in enumerate(frame[offset + 4:]))


def dialer_to_listener(directory, n, dialer, listener, state):
    buffer = b""
    try:
        while True:
            data = dialer.recv(65536)
            if not data:
                break
            record(directory, "c2s-%d.bin" % n, data)
            buffer += data
            with lock:
                while True:
                    size = unit_length(buffer, state[2])
                    if size == 0:
                        break
                    unit, buffer = buffer[:size], buffer[size:]
                    if state[2] == "ws":
                        record(directory, "c2s-%d.frames" % n, unmasked(unit) + b"\n")
                    if state[2] == "head":
                        # After the first head: TLS records when it asked for TLS, else WebSocket
                        # frames (the listener's 101 ends HTTP either way).
                        state[2] = "tls" if b"upgrade: tls" in unit.lower() else "ws"
                    listener.sendall(unit)
    except OSError:
        pass
    for s in (listener, dialer):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def listener_to_dialer(directory, n, dialer, listener):
    try:
        while True:
            data = listener.recv(65536)
            if not data:
                break
            record(directory, "s2c-%d.bin" % n, data)
            dialer.sendall(data)
    except OSError:
        pass
    log(directory, "closed %d" % n)
    for s in (listener, dialer):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def ws_frame(payload):
    mask = os.urandom(4)
    header = bytes([0x81])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    elif len(payload) < 65536:
        header += bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    else:
        header += bytes([0x80 | 127]) + len(payload).to_bytes(8, "big")
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def inject(directory, text):
    with lock:
        if not connections:
            return
        n, listener, mode = connections[-1]
        frame = ws_frame(text.encode())
        if mode == "tls":
            frame = b"\x17\x03\x03" + len(frame).to_bytes(2, "big") + frame
        try:
            listener.sendall(frame)
        except OSError:
            pass
    log(directory, "injected %d" % n)


def accept_loop(directory, server, target):
    n = 0
    while True:
        dialer, _ = server.accept()
        n += 1
        listener = socket.create_connection(("127.0.0.1", target))
        state = [n, listener, "head"]
        with lock:
            connections.append(state)
        log(directory, "open %d" % n)
        threading.Thread(target=dialer_to_listener, args=(directory, n, dialer, listener, state),
                         daemon=True).start()
        threading.Thread(target=listener_to_dialer, args=(directory, n, dialer, listener),
                         daemon=True).start()


def main():
    target, directory = int(sys.argv[1]), sys.argv[2]
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    threading.Thread(target=accept_loop, args=(directory, server, target), daemon=True).start()
    with open(os.path.join(directory, "port.tmp"), "w") as f:
        f.write(str(server.getsockname()[1]))
    os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
    for line in sys.stdin:
        line = line.strip()
        if line:
            inject(directory, line)


if __name__ == "__main__":
    main()
