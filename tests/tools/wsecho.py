#!/usr/bin/python3
"""A WebSocket echo server for the HTTP edge tests.

  /usr/bin/python3 wsecho.py PORT [--name NAME] [--bind ADDR]

Needs the websockets package (Debian 12: python3-websockets 10.4, asyncio API); run it with
/usr/bin/python3, which sees Debian's packages. Listens on ADDR:PORT (default 127.0.0.1; a
VM's service in the VM-host proxy tests binds 0.0.0.0), prints "ready"
once listening. Every message (text or binary, up to 16 MiB) is sent back as it came. The
opening handshake's request line and Host header are printed, one line per connection.
"""
import asyncio
import sys

try:
    import websockets
except ImportError:
    print("wsecho: the websockets package is missing (python3-websockets; run with /usr/bin/python3)",
          file=sys.stderr)
    sys.exit(2)

NAME = "wsecho"
BIND = "127.0.0.1"


async def echo(ws, path=None):
    host = ws.request_headers.get("Host")
    print("%s: connection for %s (Host %s)" % (NAME, path or getattr(ws, "path", "?"), host), flush=True)
    n = 0
    try:
        async for msg in ws:
            await ws.send(msg)
            n += 1
    except websockets.ConnectionClosed:
        pass
    print("%s: connection closed after %d messages" % (NAME, n), flush=True)


async def main(port):
    async with websockets.serve(echo, BIND, port, max_size=16 << 20):
        print("ready: %s listening on %s:%d" % (NAME, BIND, port), flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--name" in args:
        i = args.index("--name")
        NAME = args[i + 1]
        del args[i:i + 2]
    if "--bind" in args:
        i = args.index("--bind")
        BIND = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1 or not args[0].isdigit():
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        asyncio.run(main(int(args[0])))
    except KeyboardInterrupt:
        pass
