#!/usr/bin/env python3
"""An HTTP/1.1 backend for the HTTP edge tests (standard library only, any python3).

  httpback.py PORT [--name NAME] [--bind ADDR] [--tls-cert CRT --tls-key KEY]

Listens on ADDR:PORT (default 127.0.0.1), prints "ready" once listening, then per request a
line when its head has arrived ("NAME < METHOD TARGET") and one when it is answered
("NAME METHOD TARGET -> STATUS"). One thread per connection; keep-alive is on for
HTTP/1.1 (and for HTTP/1.0 with "Connection: keep-alive"). Request bodies are read whatever
the endpoint, with Content-Length or chunked, so a connection stays in sync. A request with
"Expect: 100-continue" and a body gets "100 Continue" before its body is read.

Endpoints (HEAD works on every one: the same head, Content-Length included, and no body):
  /hello                  "hello from NAME\\n"
  /echo-headers           JSON: method, target, path, query, version, headers (lower-case
                          name -> value, a list when repeated), header_list ([name, value] in
                          arrival order, names as sent), body_length, peer
  /cookies                20 distinct Set-Cookie headers (c01=v01 ... c20=v20)
  /sse[?n=5&ms=300]       text/event-stream, chunked: n events ms apart, each flushed
  /bytes?n=N[&chunked=1]  N pseudo-random bytes from a fixed seed (the same N gives the same
                          bytes every time), X-Sha256 header with the body's SHA-256 (hex)
  /upload                 reads the body (Content-Length or chunked) and answers
                          {"length": L, "sha256": "..."}
  /etag                   ETag "v1"; If-None-Match matching "v1" (or *) -> 304
  /nocontent              204
  /close[?n=N]            HTTP/1.1 200 with neither Content-Length nor chunked: the body ends
                          when the backend closes the connection (N bytes, default a line)
  /slowbig[?n=N&rate=B&chunked=1]  N bytes (default 100 MB; the /bytes pattern, X-Sha256) at
                          about B bytes/s (default 4 MiB/s), Content-Length or chunked, for
                          killing the agent mid-transfer
  /die?after=N            Content-Length 10 MB, N bytes of body, then a TCP RST (SO_LINGER 0)
  /sleep?ms=N             answers "slept N ms\\n" after N ms
  /status?code=N          status N with a short text body (none for 204 and 304)
  anything else           404
"""
import hashlib
import json
import random
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

MAX_HEAD = 1 << 20
BLOCK = 1 << 20
SEED = 20240601

REASONS = {
    100: "Continue", 200: "OK", 204: "No Content", 304: "Not Modified",
    400: "Bad Request", 404: "Not Found", 411: "Length Required", 500: "Internal Server Error",
}

_block = None
_block_lock = threading.Lock()
_digests = {}
_print_lock = threading.Lock()


def log(msg):
    with _print_lock:
        sys.stdout.write(msg + "\n")
        sys.stdout.flush()


def base_block():
    global _block
    with _block_lock:
        if _block is None:
            r = random.Random(SEED)
            if hasattr(r, "randbytes"):
                _block = r.randbytes(BLOCK)
            else:
                _block = r.getrandbits(BLOCK * 8).to_bytes(BLOCK, "little")
        return _block


def pattern(n):
    """Yield the N pseudo-random bytes of /bytes?n=N as memoryviews. Block i (1 MiB) is the
    seeded block with its last 8 bytes replaced by i: no two blocks are equal, so a reordered,
    duplicated or dropped block changes the digest."""
    blk = memoryview(base_block())
    body = BLOCK - 8
    i = 0
    left = n
    while left > 0:
        k = min(BLOCK, left)
        yield blk[:min(k, body)]
        if k > body:
            yield memoryview(struct.pack("!Q", i))[:k - body]
        left -= k
        i += 1


def pattern_sha256(n):
    with _block_lock:
        if n in _digests:
            return _digests[n]
    h = hashlib.sha256()
    for part in pattern(n):
        h.update(part)
    d = h.hexdigest()
    with _block_lock:
        _digests[n] = d
    return d


class BadRequest(Exception):
    pass


class Request:
    pass


def read_head(rf):
    """Read a request head; None on a clean EOF before any byte."""
    line = rf.readline(MAX_HEAD)
    if not line:
        return None
    while line in (b"\r\n", b"\n"):  # tolerate a stray CRLF between requests (RFC 9112 2.2)
        line = rf.readline(MAX_HEAD)
        if not line:
            return None
    total = len(line)
    parts = line.rstrip(b"\r\n").split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise BadRequest("bad request line %r" % line[:200])
    req = Request()
    req.method = parts[0].decode("latin-1")
    req.target = parts[1].decode("latin-1")
    req.version = parts[2].decode("latin-1")
    req.headers = []
    while True:
        line = rf.readline(MAX_HEAD)
        total += len(line)
        if not line:
            raise BadRequest("connection closed inside the head")
        if total > MAX_HEAD:
            raise BadRequest("head too large")
        if line in (b"\r\n", b"\n"):
            break
        if b":" not in line or line[:1] in (b" ", b"\t"):
            raise BadRequest("bad header line %r" % line[:200])
        name, value = line.split(b":", 1)
        req.headers.append((name.decode("latin-1"), value.strip().decode("latin-1")))
    u = urllib.parse.urlsplit(req.target)
    req.path = u.path
    req.query = u.query
    req.args = dict(urllib.parse.parse_qsl(u.query))
    return req


def hget(req, name):
    name = name.lower()
    vals = [v for k, v in req.headers if k.lower() == name]
    return ", ".join(vals) if vals else None


def tokens(value):
    return [t.strip().lower() for t in (value or "").split(",") if t.strip()]


def body_reader(req, rf):
    """Yield the request body in pieces (Content-Length or chunked)."""
    te = tokens(hget(req, "transfer-encoding"))
    if te:
        if te[-1] != "chunked":
            raise BadRequest("unsupported transfer-encoding %r" % te)
        while True:
            line = rf.readline(4096)
            if not line.endswith(b"\n"):
                raise BadRequest("bad chunk size line")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest("bad chunk size %r" % line)
            if size == 0:
                while True:  # trailers
                    t = rf.readline(MAX_HEAD)
                    if not t:
                        raise BadRequest("EOF in trailers")
                    if t in (b"\r\n", b"\n"):
                        return
            left = size
            while left:
                d = rf.read(min(left, BLOCK))
                if not d:
                    raise BadRequest("EOF inside a chunk")
                left -= len(d)
                yield d
            if rf.readline(3) not in (b"\r\n", b"\n"):
                raise BadRequest("chunk not followed by CRLF")
    cl = hget(req, "content-length")
    if cl is None:
        return
    try:
        left = int(cl)
    except ValueError:
        raise BadRequest("bad content-length %r" % cl)
    while left:
        d = rf.read(min(left, BLOCK))
        if not d:
            raise BadRequest("EOF after %s of %s body bytes" % (int(cl) - left, cl))
        left -= len(d)
        yield d


def has_body(req):
    if hget(req, "transfer-encoding"):
        return True
    cl = hget(req, "content-length")
    return cl is not None and cl.strip() not in ("0", "")


class Conn:
    def __init__(self, sock, name, peer):
        self.sock = sock
        self.name = name
        self.peer = peer
        self.rf = sock.makefile("rb", buffering=1 << 16)

    def send(self, data):
        self.sock.sendall(data)

    def head(self, status, headers, version="HTTP/1.1"):
        out = ["%s %d %s\r\n" % (version, status, REASONS.get(status, "Status"))]
        for k, v in headers:
            out.append("%s: %s\r\n" % (k, v))
        out.append("\r\n")
        self.send("".join(out).encode("latin-1"))


def serve_conn(sock, name, peer):
    c = Conn(sock, name, peer)
    try:
        while True:
            try:
                req = read_head(c.rf)
            except BadRequest as e:
                log("%s bad request: %s" % (name, e))
                body = b"bad request\n"
                c.head(400, [("Content-Length", len(body)), ("Connection", "close")])
                c.send(body)
                return
            if req is None:
                return
            keep = handle(c, req)
            if not keep:
                return
    except (OSError, BadRequest) as e:
        log("%s connection from %s ended: %s" % (name, peer, e))
    finally:
        try:
            c.rf.close()
            sock.close()
        except OSError:
            pass


def wants_keepalive(req):
    conn = tokens(hget(req, "connection"))
    if req.version == "HTTP/1.0":
        return "keep-alive" in conn
    return "close" not in conn


def handle(c, req):
    """Answer one request; return whether the connection stays open."""
    keep = wants_keepalive(req)
    log("%s < %s %s" % (c.name, req.method, req.target))
    # Expect: 100-continue, answered before reading the body.
    if "100-continue" in tokens(hget(req, "expect")) and has_body(req) and req.version != "HTTP/1.0":
        c.send(b"HTTP/1.1 100 Continue\r\n\r\n")
    # The body: hashed for /upload, counted and dropped otherwise.
    h = hashlib.sha256()
    length = 0
    for d in body_reader(req, c.rf):
        if req.path == "/upload":
            h.update(d)
        length += len(d)
    req.body_length = length
    req.body_sha256 = h.hexdigest()

    is_head = req.method == "HEAD"
    status, headers, body = route(c, req)
    # body: bytes, or ("gen", iterator, content_length or None for chunked), or special marks
    if not keep:
        headers.append(("Connection", "close"))
    elif req.version == "HTTP/1.0":
        headers.append(("Connection", "keep-alive"))
    log("%s %s %s -> %d" % (c.name, req.method, req.target, status))

    if isinstance(body, tuple) and body[0] == "close-delimited":
        # No Content-Length, no chunked: the end of the body is the end of the connection.
        headers = [h_ for h_ in headers if h_[0].lower() != "connection"] + [("Connection", "close")]
        c.head(status, headers)
        if not is_head:
            c.send(body[1])
        c.sock.shutdown(socket.SHUT_WR)
        drain_until_eof(c)
        return False
    if isinstance(body, tuple) and body[0] == "die":
        _, total, after = body
        c.head(status, headers + [("Content-Length", total)])
        if is_head:
            return keep
        sent = 0
        for part in pattern(after):
            c.send(part)
            sent += len(part)
        time.sleep(0.2)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        log("%s /die: reset after %d of %d bytes" % (c.name, sent, total))
        return False
    if isinstance(body, tuple) and body[0] == "gen":
        _, it, clen = body
        if clen is None and req.version == "HTTP/1.0":
            # no chunked coding in HTTP/1.0: the body ends with the connection
            headers = [h_ for h_ in headers if h_[0].lower() != "connection"] + [("Connection", "close")]
            c.head(status, headers)
            if not is_head:
                for part in it:
                    c.send(part)
            return False
        if clen is None:
            c.head(status, headers + [("Transfer-Encoding", "chunked")])
            if is_head:
                return keep
            for part in it:
                if len(part):
                    c.send(b"%x\r\n" % len(part) + bytes(part) + b"\r\n")
            c.send(b"0\r\n\r\n")
        else:
            c.head(status, headers + [("Content-Length", clen)])
            if is_head:
                return keep
            for part in it:
                c.send(part)
        return keep
    # A whole body in memory.
    if status in (204, 304) or 100 <= status < 200:
        c.head(status, headers)
    else:
        c.head(status, headers + [("Content-Length", len(body))])
        if not is_head:
            c.send(body)
    return keep


def drain_until_eof(c):
    c.sock.settimeout(5)
    try:
        while c.rf.read1(65536):
            pass
    except OSError:
        pass


def text(s):
    return s.encode() if isinstance(s, str) else s


def intarg(req, key, default):
    try:
        return int(req.args.get(key, default))
    except ValueError:
        return default


def route(c, req):
    p = req.path
    tp = [("Content-Type", "text/plain; charset=utf-8")]
    if p == "/hello":
        return 200, tp, text("hello from %s\n" % c.name)
    if p == "/echo-headers":
        hmap = {}
        for k, v in req.headers:
            k = k.lower()
            if k in hmap:
                if not isinstance(hmap[k], list):
                    hmap[k] = [hmap[k]]
                hmap[k].append(v)
            else:
                hmap[k] = v
        doc = {
            "server": c.name, "method": req.method, "target": req.target, "path": req.path,
            "query": req.query, "version": req.version, "headers": hmap,
            "header_list": [[k, v] for k, v in req.headers], "body_length": req.body_length,
            "peer": "%s:%d" % c.peer[:2],
        }
        return 200, [("Content-Type", "application/json")], text(json.dumps(doc) + "\n")
    if p == "/cookies":
        hs = tp + [("Set-Cookie", "c%02d=v%02d; Path=/; Max-Age=3600" % (i, i)) for i in range(1, 21)]
        return 200, hs, text("20 cookies\n")
    if p == "/sse":
        n = intarg(req, "n", 5)
        ms = intarg(req, "ms", 300)

        def events():
            for i in range(1, n + 1):
                if i > 1:
                    time.sleep(ms / 1000.0)
                yield text("id: %d\nevent: tick\ndata: event %d of %d\n\n" % (i, i, n))
        return 200, [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")], \
            ("gen", events(), None)
    if p == "/bytes":
        n = intarg(req, "n", 1024)
        hs = [("Content-Type", "application/octet-stream"), ("X-Sha256", pattern_sha256(n))]
        chunked = req.args.get("chunked") in ("1", "yes", "true")
        return 200, hs, ("gen", pattern(n), None if chunked else n)
    if p == "/upload":
        doc = {"length": req.body_length, "sha256": req.body_sha256}
        return 200, [("Content-Type", "application/json")], text(json.dumps(doc) + "\n")
    if p == "/etag":
        inm = tokens(hget(req, "if-none-match"))
        hs = [("ETag", '"v1"'), ("Cache-Control", "no-cache")]
        if '"v1"' in inm or "w/\"v1\"" in inm or "*" in inm:
            return 304, hs, b""
        return 200, tp + hs, text("etag body v1\n")
    if p == "/nocontent":
        return 204, [], b""
    if p == "/close":
        n = intarg(req, "n", -1)
        body = text("close-delimited body from %s\n" % c.name) if n < 0 else \
            b"".join(bytes(x) for x in pattern(n))
        return 200, tp, ("close-delimited", body)
    if p == "/slowbig":
        n = intarg(req, "n", 100 * 1000 * 1000)
        rate = max(intarg(req, "rate", 4 << 20), 1024)

        def slow():
            piece = 64 * 1024
            t0 = time.monotonic()
            sent = 0
            for part in pattern(n):
                part = bytes(part)
                for off in range(0, len(part), piece):
                    chunk = part[off:off + piece]
                    yield chunk
                    sent += len(chunk)
                    ahead = sent / rate - (time.monotonic() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
        chunked = req.args.get("chunked") in ("1", "yes", "true")
        return 200, [("Content-Type", "application/octet-stream"), ("X-Sha256", pattern_sha256(n))], \
            ("gen", slow(), None if chunked else n)
    if p == "/die":
        return 200, [("Content-Type", "application/octet-stream")], \
            ("die", 10 * 1000 * 1000, intarg(req, "after", 65536))
    if p == "/sleep":
        ms = intarg(req, "ms", 1000)
        time.sleep(ms / 1000.0)
        return 200, tp, text("slept %d ms\n" % ms)
    if p == "/status":
        code = intarg(req, "code", 200)
        return code, tp, (b"" if code in (204, 304) else text("status %d\n" % code))
    return 404, tp, text("no such endpoint: %s\n" % p)


def main():
    args = sys.argv[1:]
    port = None
    name = "httpback"
    bind = "127.0.0.1"
    cert = key = None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--name", "--bind", "--tls-cert", "--tls-key") and i + 1 < len(args):
            v = args[i + 1]
            if a == "--name":
                name = v
            elif a == "--bind":
                bind = v
            elif a == "--tls-cert":
                cert = v
            else:
                key = v
            i += 2
            continue
        if a in ("-h", "--help"):
            print(__doc__)
            return 0
        if port is None and a.isdigit():
            port = int(a)
            i += 1
            continue
        print("httpback: unexpected argument %r\n%s" % (a, __doc__), file=sys.stderr)
        return 2
    if port is None:
        print("httpback: PORT is required\n" + __doc__, file=sys.stderr)
        return 2
    ctx = None
    if cert or key:
        if not (cert and key):
            print("httpback: --tls-cert and --tls-key go together", file=sys.stderr)
            return 2
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
    base_block()  # before "ready": the first /bytes must not be slowed by it
    fam = socket.AF_INET6 if ":" in bind else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, port))
    s.listen(256)
    log("ready: %s listening on %s:%d%s" % (name, bind, port, " (TLS)" if ctx else ""))
    while True:
        conn, peer = s.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(600)

        def run(conn=conn, peer=peer):
            if ctx is not None:
                try:
                    conn = ctx.wrap_socket(conn, server_side=True)
                except (OSError, ssl.SSLError) as e:
                    log("%s TLS handshake from %s failed: %s" % (name, peer, e))
                    conn.close()
                    return
            serve_conn(conn, name, peer)
        threading.Thread(target=run, daemon=True).start()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
