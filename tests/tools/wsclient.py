#!/usr/bin/python3
"""A WebSocket client for the HTTP edge tests: sends messages of several sizes and checks
each echo.

  /usr/bin/python3 wsclient.py [--host NAME] [--count N] ws://HOST:PORT/PATH

Needs the websockets package (Debian 12: python3-websockets 10.4); run it with /usr/bin/python3.
--host NAME  the Host header (and the name in the request) is NAME[:PORT], while the TCP
             connection still goes to the URL's HOST:PORT (like curl --resolve)
--count N    rounds (default 2); each round sends a text message of 1 B, a binary one of
             1 KiB and a binary one of 200 KiB, all random, and waits for each echo

Prints one line per message and "ok: N messages echoed intact"; exits 0 on success, 1 with a
message naming what was wrong (handshake refused with the status, a different echo, a timeout).
"""
import asyncio
import os
import sys
import urllib.parse

try:
    import websockets
except ImportError:
    print("wsclient: the websockets package is missing (python3-websockets; run with /usr/bin/python3)",
          file=sys.stderr)
    sys.exit(2)


def fail(msg):
    print("wsclient: FAIL: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


async def run(url, host, count):
    u = urllib.parse.urlsplit(url)
    if u.scheme != "ws":
        fail("only ws:// URLs: %s" % url)
    port = u.port or 80
    uri = url
    kw = {}
    if host:
        netloc = host if port == 80 else "%s:%d" % (host, port)
        uri = urllib.parse.urlunsplit(("ws", netloc, u.path or "/", u.query, ""))
        kw = {"host": u.hostname, "port": port}
    try:
        ws = await asyncio.wait_for(
            websockets.connect(uri, max_size=16 << 20, open_timeout=10, **kw), 15)
    except websockets.InvalidStatusCode as e:
        fail("handshake refused: HTTP status %d" % e.status_code)
    except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as e:
        fail("cannot open %s: %r" % (uri, e))
    print("connected to %s (Host %s)" % (uri, ws.request_headers.get("Host")), flush=True)
    n = 0
    try:
        for rnd in range(count):
            for size, kind in ((1, "text"), (1024, "binary"), (200 * 1024, "binary")):
                if kind == "text":
                    msg = os.urandom(size).hex()[:size]
                else:
                    msg = os.urandom(size)
                await ws.send(msg)
                try:
                    got = await asyncio.wait_for(ws.recv(), 15)
                except asyncio.TimeoutError:
                    fail("no echo of the %d-byte %s message within 15 s" % (size, kind))
                if type(got) is not type(msg):
                    fail("%d-byte %s message came back as %s" % (size, kind, type(got).__name__))
                if got != msg:
                    fail("%d-byte %s message came back different (%d bytes)" % (size, kind, len(got)))
                n += 1
                print("echo %d: %d-byte %s message intact" % (n, size, kind), flush=True)
        await ws.close()
    except websockets.ConnectionClosed as e:
        fail("connection closed after %d messages: %s" % (n, e))
    print("ok: %d messages echoed intact" % n, flush=True)


def main():
    args = sys.argv[1:]
    host = None
    count = 2
    while args and args[0].startswith("--"):
        if args[0] == "--host" and len(args) > 1:
            host = args[1]
        elif args[0] == "--count" and len(args) > 1:
            count = int(args[1])
        else:
            print(__doc__, file=sys.stderr)
            sys.exit(2)
        args = args[2:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    asyncio.run(run(args[0], host, count))


if __name__ == "__main__":
    main()
