#!/usr/bin/env python3
"""Real TCP clients and servers for the tunnel tests (standard library only).

  echo-server PORT              echo every connection's bytes back; half-close after EOF
  bulk-server PORT              per connection: read an 8-byte length N and N bytes, answer
                                with the SHA-256 of what arrived, then send N' bytes (N' =
                                the next 8 bytes the client sent) preceded by their SHA-256
  bulk HOST PORT UP DOWN        drive bulk-server: send UP random bytes, receive DOWN bytes,
                                check both digests; prints MB/s each way
  echo HOST PORT TEXT           send TEXT, half-close, print what comes back
  many HOST PORT N BYTES        N concurrent echo streams of BYTES each through HOST:PORT,
                                plus one stream whose reader stalls until the N are done;
                                fails if any of the N is held up by the stalled one
  sequential HOST PORT N         N short echo streams one after another, each checked
  expect-reset HOST PORT        connect, send a line, and require the connection to be reset
                                or closed without an echo (e.g. the service is down)

Exit status 0 on success; 1 with a message naming what was wrong.
"""
import hashlib
import os
import socket
import struct
import sys
import threading
import time

CHUNK = 1 << 20


def die(msg):
    print("netcheck: " + msg, file=sys.stderr)
    sys.exit(1)


def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(512)
    return s


def serve_forever(port, handler):
    s = listener(port)
    print("listening on %d" % port, flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()


def echo_handler(c):
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            c.sendall(d)
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    finally:
        c.close()


def recv_exact(c, n):
    buf = bytearray()
    while len(buf) < n:
        d = c.recv(min(CHUNK, n - len(buf)))
        if not d:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += d
    return bytes(buf)


def pattern_block():
    # Random per run, so a stale or misrouted stream cannot pass by accident.
    return os.urandom(CHUNK)


def bulk_handler(c):
    try:
        up, down = struct.unpack("!QQ", recv_exact(c, 16))
        h = hashlib.sha256()
        left = up
        while left:
            d = c.recv(min(CHUNK, left))
            if not d:
                raise EOFError("upload cut short")
            h.update(d)
            left -= len(d)
        c.sendall(h.digest())
        block = pattern_block()
        h = hashlib.sha256()
        left = down
        while left:
            n = min(CHUNK, left)
            h.update(block[:n])
            left -= n
        c.sendall(h.digest())
        left = down
        while left:
            n = min(CHUNK, left)
            c.sendall(block[:n])
            left -= n
        c.shutdown(socket.SHUT_WR)
        c.recv(1)
    except (OSError, EOFError) as e:
        print("bulk-server: %s" % e, file=sys.stderr, flush=True)
    finally:
        c.close()


def connect(host, port):
    c = socket.create_connection((host, int(port)), timeout=float(os.environ.get("NETCHECK_TIMEOUT", "120")))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def bulk(host, port, up, down):
    up, down = int(up), int(down)
    c = connect(host, port)
    c.sendall(struct.pack("!QQ", up, down))
    block = pattern_block()
    h = hashlib.sha256()
    t0 = time.monotonic()
    left = up
    while left:
        n = min(CHUNK, left)
        c.sendall(block[:n])
        h.update(block[:n])
        left -= n
    got = recv_exact(c, 32)
    t1 = time.monotonic()
    if got != h.digest():
        die("upload digest mismatch: the server received other bytes than were sent")
    want = recv_exact(c, 32)
    h = hashlib.sha256()
    left = down
    t2 = time.monotonic()
    while left:
        d = c.recv(min(CHUNK, left))
        if not d:
            die("download cut short: %d bytes missing" % left)
        h.update(d)
        left -= len(d)
    t3 = time.monotonic()
    if c.recv(1) != b"":
        die("download: more bytes than announced")
    if h.digest() != want:
        die("download digest mismatch")
    c.close()
    mb = 1024 * 1024
    print("upload %.1f MB/s download %.1f MB/s" % (
        up / mb / max(t1 - t0, 1e-9), down / mb / max(t3 - t2, 1e-9)))


def echo(host, port, text):
    c = connect(host, port)
    c.sendall(text.encode())
    c.shutdown(socket.SHUT_WR)
    out = bytearray()
    while True:
        d = c.recv(65536)
        if not d:
            break
        out += d
    sys.stdout.write(out.decode(errors="replace"))
    if bytes(out) != text.encode():
        die("echo mismatch: sent %r got %r" % (text, bytes(out)))


def sequential(host, port, n):
    """n echo connections one after another, each checked: counts of streams opened over
    a connection's life, not at once (QUIC limits the former unless raised as they close)."""
    n = int(n)
    for i in range(n):
        c = connect(host, port)
        text = b"stream %d" % i
        c.sendall(text)
        c.shutdown(socket.SHUT_WR)
        got = recv_exact(c, len(text))
        if got != text:
            die("stream %d of %d: sent %r got %r" % (i, n, text, bytes(got)))
        c.close()
    print("%d streams one after another, all echoed" % n)


def many(host, port, n, nbytes):
    n, nbytes = int(n), int(nbytes)
    errors = []
    done = threading.Event()
    finished = [0]
    lock = threading.Lock()

    def one(i):
        try:
            c = connect(host, port)
            payload = os.urandom(nbytes)
            sender = threading.Thread(target=lambda: (c.sendall(payload), c.shutdown(socket.SHUT_WR)))
            sender.start()
            got = recv_exact(c, nbytes)
            sender.join()
            if c.recv(1) != b"":
                raise ValueError("extra bytes")
            if got != payload:
                raise ValueError("payload mismatch")
            c.close()
        except Exception as e:  # noqa: BLE001 - report any failure with the stream index
            errors.append("stream %d: %s" % (i, e))
        with lock:
            finished[0] += 1
            if finished[0] == n:
                done.set()

    # The stalled stream: it sends far more than the window and reads nothing until the
    # others are done. With head-of-line blocking the others would never finish.
    stalled_size = 32 * CHUNK
    stalled = connect(host, port)
    stalled_payload = os.urandom(stalled_size)
    stall_sender = threading.Thread(target=lambda: stalled.sendall(stalled_payload), daemon=True)
    stall_sender.start()
    time.sleep(0.5)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    if not done.wait(120):
        die("only %d of %d streams finished while one reader was stalled" % (finished[0], n))
    elapsed = time.monotonic() - t0
    for t in threads:
        t.join()
    if errors:
        die("; ".join(errors[:5]))
    # Now the stalled reader catches up and must get everything intact.
    got = recv_exact(stalled, stalled_size)
    stall_sender.join()
    if got != stalled_payload:
        die("the stalled stream's data was corrupted")
    stalled.close()
    print("%d streams of %d bytes finished in %.2f s while one reader was stalled" % (n, nbytes, elapsed))


def trickle(host, port, seconds):
    """Echo small random chunks for SECONDS, checking each comes back whole: a long-lived
    connection for tests that move it between paths while it carries data."""
    c = connect(host, port)
    end = time.monotonic() + float(seconds)
    sent = 0
    while time.monotonic() < end:
        chunk = os.urandom(4096)
        c.sendall(chunk)
        if recv_exact(c, len(chunk)) != chunk:
            die("trickle: the echo differs after %d bytes" % sent)
        sent += len(chunk)
        time.sleep(0.02)
    c.shutdown(socket.SHUT_WR)
    if c.recv(1) != b"":
        die("trickle: extra bytes")
    c.close()
    print("trickle: %d bytes echoed intact" % sent)


def expect_reset(host, port):
    try:
        c = connect(host, port)
        c.settimeout(10)
        c.sendall(b"hello\n")
        d = c.recv(100)
    except (ConnectionResetError, BrokenPipeError):
        print("reset")
        return
    except socket.timeout:
        die("no reset and no close within 10 s")
    if d:
        die("expected a reset, got data %r" % d)
    print("closed")


def main():
    if len(sys.argv) < 2:
        die(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "echo-server":
        serve_forever(int(args[0]), echo_handler)
    elif cmd == "bulk-server":
        serve_forever(int(args[0]), bulk_handler)
    elif cmd == "bulk":
        bulk(*args)
    elif cmd == "echo":
        echo(*args)
    elif cmd == "many":
        many(*args)
    elif cmd == "sequential":
        sequential(*args)
    elif cmd == "trickle":
        trickle(*args)
    elif cmd == "expect-reset":
        expect_reset(*args)
    else:
        die("unknown command " + cmd)


if __name__ == "__main__":
    main()
