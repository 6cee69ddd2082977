#!/usr/bin/env python3
"""Send many damaged HTTP requests to an HTTP edge, each on its own connection, and report
how each was answered. Damage is made from valid requests by a seeded PRNG (bytes flipped,
inserted, deleted, lines duplicated or cut, CR/LF games, huge values), so a run can be
repeated exactly. Usage: httpgarbage.py HOST PORT COUNT SEED

Prints one summary line: "sent N: S answered with a status, C closed quietly, R reset,
T timed out" and exits 1 if any connection timed out (the edge must answer or close every
damaged request within the timeout) or if the answers were not HTTP."""
import random
import socket
import sys

BASE = [
    b"GET /proxy/agent-1/hello HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n",
    b"POST /proxy/agent-1/upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /proxy/agent-1/upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"GET /proxy/agent-1/ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    b"HEAD /proxy/agent-1/hello HTTP/1.0\r\n\r\n",
]


def damage(rng, req):
    b = bytearray(req)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        pos = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(pos, len(b) - 1)] = rng.randrange(256)
        elif op == 1:
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2 and b:
            del b[pos:pos + rng.randint(1, 8)]
        elif op == 3:
            b[pos:pos] = rng.choice([b"\r", b"\n", b"\r\n", b"\r\n\r\n", b" ", b":", b"\0"])
        elif op == 4:
            b[pos:pos] = b"X-Big: " + b"a" * rng.choice([100, 5000, 20000]) + b"\r\n"
        elif op == 5:
            b[pos:pos] = rng.choice([b"Content-Length: 7\r\n", b"Transfer-Encoding: chunked\r\n",
                                      b"Content-Length: -1\r\n", b"Host: x\r\n",
                                      b"Transfer-Encoding: gzip\r\n", b"Expect: 100-continue\r\n"])
        elif op == 6:
            b = b[:pos]
        else:
            b = b + bytes(b)
    return bytes(b)


def main():
    host, port, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    answered = closed = reset = timed_out = not_http = 0
    for i in range(count):
        req = damage(rng, rng.choice(BASE))
        s = socket.create_connection((host, port), timeout=5)
        try:
            s.sendall(req)
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the edge already answered and closed (a refused head)
            got = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                got += d
            if got:
                answered += 1
                if not got.startswith(b"HTTP/1."):
                    not_http += 1
                    print("not HTTP after request %d: %r" % (i, got[:80]))
            else:
                closed += 1
        except (ConnectionResetError, BrokenPipeError):
            reset += 1
        except OSError as e:
            if e.errno != 107:  # ENOTCONN: reset before we read; anything else is a failure
                raise
            reset += 1
        except socket.timeout:
            timed_out += 1
            print("timeout on request %d: %r" % (i, req[:200]))
        finally:
            s.close()
    print("sent %d: %d answered with a status, %d closed quietly, %d reset, %d timed out"
          % (count, answered, closed, reset, timed_out))
    sys.exit(1 if timed_out or not_http else 0)


if __name__ == "__main__":
    main()
