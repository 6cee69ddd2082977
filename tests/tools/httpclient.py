#!/usr/bin/env python3
"""HTTP/1.1 clients on raw sockets for the HTTP edge tests (standard library only).

  httpclient.py [OPTIONS] keepalive URL1 URL2 ...
      the requests one after another on ONE TCP connection; prints "N STATUS FIRST-BODY-LINE"
      for each; fails if the connection is closed before the last response
  httpclient.py [OPTIONS] pipeline URL1 URL2 ...
      the same, but every request is written before the first response is read
  httpclient.py [OPTIONS] sse URL
      prints "event N at T s: DATA" as each event arrives (T from the response head), then
      "spread T s" (last arrival minus first)
  httpclient.py [OPTIONS] slowloris HOST PORT [MAX-SECONDS]
      sends a request head one byte a second, never finishing it; reports when and how the
      server answered or closed: "answered after T s: STATUS-LINE", "closed after T s",
      "reset after T s"; exits 1 if nothing happened within MAX-SECONDS (default 60)
  httpclient.py [OPTIONS] raw HOST PORT FILE
      sends FILE's bytes, prints whatever comes back until the server closes or is silent for
      --timeout seconds, then one line "-- closed", "-- reset" or "-- silent"
  httpclient.py [OPTIONS] head-304 URL
      URL is an httpback /etag URL. On ONE connection: HEAD .../bytes?n=100000 (a large
      Content-Length and no body), HEAD URL, GET URL with If-None-Match "v1" (304), GET URL
      (200 and the body), GET .../nocontent (204), GET .../hello (200): any body wrongly sent
      after a HEAD, 304 or 204 would show up as garbage where the next status line should be
  httpclient.py [OPTIONS] abort URL
      downloads URL (printing "progress N" every MiB); prints "complete N bytes" and exits 0
      when the whole body came (Content-Length or chunked, and nothing after it), or
      "incomplete: reset|eof|bad chunk after N of M bytes" and exits 3
  httpclient.py [OPTIONS] idle URL [MAX-SECONDS]
      one GET, then the connection is left idle: prints "closed after T s idle" (or "reset
      after ...") when the server closes it; exits 1 if it is still open after MAX-SECONDS
      (default 60)
  httpclient.py [OPTIONS] expect100 URL SIZE
      POST SIZE bytes with "Expect: 100-continue"; the body goes only after a "100 Continue";
      prints "100 after T s" and the final response; exits 1 if no 100 came within 5 s

OPTIONS: --connect HOST:PORT  connect there instead of the URL's host (like curl --resolve;
                              the Host header still comes from the URL)
         -H 'Name: value'     an extra request header (repeatable)
         --timeout SECONDS    per-read timeout (default 30)

Exit status 0 on success, 1 with a message naming what was wrong (abort: 3 = incomplete).
"""
import hashlib
import os
import select
import socket
import sys
import time
import urllib.parse

OPTS = {"connect": None, "headers": [], "timeout": 30.0}


def die(msg, code=1):
    print("httpclient: " + msg, file=sys.stderr, flush=True)
    sys.exit(code)


def out(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


class Closed(Exception):
    def __init__(self, how, got=b""):
        Exception.__init__(self, how)
        self.how = how
        self.got = got


def parse_url(url):
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http":
        die("only http:// URLs: %s" % url)
    port = u.port or 80
    host_hdr = u.netloc
    target = u.path or "/"
    if u.query:
        target += "?" + u.query
    return u.hostname, port, host_hdr, target


def connect_to(host, port):
    if OPTS["connect"]:
        h, p = OPTS["connect"].rsplit(":", 1)
        host, port = h.strip("[]"), int(p)
    s = socket.create_connection((host, port), timeout=OPTS["timeout"])
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def request_bytes(method, host_hdr, target, extra=(), body_len=None):
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: " + host_hdr, "User-Agent: httpclient.py"]
    for h in OPTS["headers"]:
        lines.append(h)
    lines.extend(extra)
    if body_len is not None:
        lines.append("Content-Length: %d" % body_len)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Reader:
    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.eof = False

    def fill(self):
        try:
            d = self.s.recv(1 << 16)
        except ConnectionResetError:
            raise Closed("reset")
        except socket.timeout:
            raise Closed("timeout")
        if not d:
            self.eof = True
            raise Closed("eof")
        self.buf += d

    def line(self, limit=1 << 16):
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                raise Closed("line too long")
            self.fill()
        i = self.buf.index(b"\n") + 1
        ln, self.buf = self.buf[:i], self.buf[i:]
        return ln

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def take_some(self, n):
        if not self.buf:
            self.fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d


class Response:
    pass


def read_head(r):
    status_line = r.line()
    parts = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ValueError("not a status line: %r" % status_line[:120])
    resp = Response()
    resp.status_line = status_line.decode("latin-1").rstrip("\r\n")
    resp.version = parts[0]
    resp.status = int(parts[1])
    resp.headers = []
    while True:
        ln = r.line()
        if ln in (b"\r\n", b"\n"):
            break
        k, _, v = ln.decode("latin-1").partition(":")
        resp.headers.append((k.strip(), v.strip()))
    return resp


def hget(resp, name):
    vals = [v for k, v in resp.headers if k.lower() == name.lower()]
    return ", ".join(vals) if vals else None


def read_response(r, method="GET", on_data=None, keep_interim=False, head=None):
    """A whole response (1xx interim responses skipped). Body bytes go to on_data when given
    (then resp.body is empty), else into resp.body. resp.framing names how the body ended.
    head: a final response head already read with read_head()."""
    while True:
        resp = head or read_head(r)
        head = None
        if 100 <= resp.status < 200 and resp.status != 101:
            if keep_interim:
                return resp
            continue
        break
    resp.body = b""
    resp.received = 0

    def sink(d):
        resp.received += len(d)
        if on_data:
            on_data(d, resp)
        else:
            resp.body += d

    te = (hget(resp, "transfer-encoding") or "").lower()
    cl = hget(resp, "content-length")
    resp.length = int(cl) if cl is not None and cl.isdigit() else None
    if method == "HEAD" or resp.status in (204, 304) or resp.status == 101:
        resp.framing = "none"
        return resp
    if "chunked" in te:
        resp.framing = "chunked"
        while True:
            ln = r.line()
            try:
                size = int(ln.split(b";")[0].strip(), 16)
            except ValueError:
                raise Closed("bad chunk")
            if size == 0:
                while r.line() not in (b"\r\n", b"\n"):
                    pass
                return resp
            left = size
            while left:
                d = r.take_some(left)
                left -= len(d)
                sink(d)
            if r.line() not in (b"\r\n", b"\n"):
                raise Closed("bad chunk")
    if resp.length is not None:
        resp.framing = "content-length"
        left = resp.length
        while left:
            d = r.take_some(min(left, 1 << 20))
            left -= len(d)
            sink(d)
        return resp
    resp.framing = "close"
    while True:
        try:
            d = r.take_some(1 << 20)
        except Closed as e:
            if e.how == "eof":
                return resp
            raise
        sink(d)


def first_line(body):
    try:
        t = body.decode("utf-8")
    except UnicodeDecodeError:
        return "<%d bytes of binary>" % len(body)
    t = t.strip().split("\n")[0] if t else ""
    return t[:120]


def peer_closed(sock, wait=0.15):
    """True if the peer has closed (EOF or reset) or sent unexpected bytes."""
    rl, _, _ = select.select([sock], [], [], wait)
    if not rl:
        return None
    try:
        d = sock.recv(1, socket.MSG_PEEK)
    except ConnectionResetError:
        return "reset"
    return "eof" if not d else "unexpected bytes %r" % d


def cmd_keepalive(urls, pipeline=False):
    if not urls:
        die("keepalive: at least one URL")
    reqs = []
    first = None
    for u in urls:
        h, p, hh, t = parse_url(u)
        if first is None:
            first = (h, p)
        elif (h, p) != first and not OPTS["connect"]:
            die("keepalive: every URL must name the same host and port (or use --connect)")
        reqs.append((hh, t))
    s = connect_to(*first)
    out("connection %s:%d -> %s:%d" % (s.getsockname()[:2] + s.getpeername()[:2]))
    r = Reader(s)
    if pipeline:
        s.sendall(b"".join(request_bytes("GET", hh, t) for hh, t in reqs))
    for i, (hh, t) in enumerate(reqs, 1):
        if not pipeline:
            try:
                s.sendall(request_bytes("GET", hh, t))
            except OSError as e:
                die("request %d (%s): cannot send on the connection: %s" % (i, t, e))
        try:
            resp = read_response(r)
        except Closed as e:
            die("request %d (%s): connection %s before a complete response (read %r)"
                % (i, t, e.how, r.buf[:200]))
        except ValueError as e:
            die("request %d (%s): %s" % (i, t, e))
        out("%d %d %s" % (i, resp.status, first_line(resp.body)))
        if i < len(reqs):
            conn = (hget(resp, "connection") or "").lower()
            if "close" in conn:
                die("request %d (%s): the response says Connection: close" % (i, t))
            if resp.framing == "close":
                die("request %d (%s): a close-delimited response ends the connection" % (i, t))
            if not pipeline:
                st = peer_closed(s)
                if st:
                    die("request %d (%s): after the response the connection shows %s" % (i, t, st))
    s.close()
    out("all %d responses on one connection" % len(reqs))


def cmd_sse(url):
    h, p, hh, t = parse_url(url)
    s = connect_to(h, p)
    s.sendall(request_bytes("GET", hh, t, ["Accept: text/event-stream"]))
    r = Reader(s)
    state = {"buf": b"", "n": 0, "times": [], "t0": None}

    def on_data(d, resp):
        now = time.monotonic()
        state["buf"] += d
        while b"\n\n" in state["buf"]:
            ev, state["buf"] = state["buf"].split(b"\n\n", 1)
            state["n"] += 1
            data = [ln[5:].strip() for ln in ev.decode("utf-8", "replace").split("\n")
                    if ln.startswith("data:")]
            state["times"].append(now)
            out("event %d at %.2f s: %s" % (state["n"], now - state["t0"], " ".join(data)))

    try:
        # time zero: the arrival of the response head
        resp = read_head(r)
        state["t0"] = time.monotonic()
        out("status %d content-type %s" % (resp.status, hget(resp, "content-type")))
        read_response(r, on_data=on_data, head=resp)
    except Closed as e:
        die("sse: connection %s after %d events" % (e.how, state["n"]))
    if not state["times"]:
        die("sse: no events")
    out("spread %.2f s" % (state["times"][-1] - state["times"][0]))


def cmd_slowloris(host, port, maxs="60"):
    maxs = float(maxs)
    s = socket.create_connection((host, int(port)), timeout=5)
    head = b"GET /hello HTTP/1.1\r\nHost: slow.example\r\nX-Slow: " + b"a" * 100000
    t0 = time.monotonic()
    sent = 0
    s.setblocking(False)
    while True:
        el = time.monotonic() - t0
        if el > maxs:
            die("slowloris: after %.1f s and %d bytes the server neither answered nor closed" % (el, sent))
        rl, _, _ = select.select([s], [], [], 1.0)
        if rl:
            try:
                d = s.recv(4096)
            except ConnectionResetError:
                out("reset after %.1f s (%d bytes sent)" % (time.monotonic() - t0, sent))
                return
            el = time.monotonic() - t0
            if not d:
                out("closed after %.1f s (%d bytes sent)" % (el, sent))
                return
            out("answered after %.1f s (%d bytes sent): %s"
                % (el, sent, d.split(b"\r\n")[0].decode("latin-1")))
            # then: does the server close?
            s.setblocking(True)
            s.settimeout(5)
            try:
                while s.recv(4096):
                    pass
                out("then closed after %.1f s" % (time.monotonic() - t0))
            except ConnectionResetError:
                out("then reset after %.1f s" % (time.monotonic() - t0))
            except socket.timeout:
                out("then still open 5 s later")
            return
        try:
            s.send(head[sent:sent + 1])
            sent += 1
        except (BrokenPipeError, ConnectionResetError):
            out("reset after %.1f s (%d bytes sent; send failed)" % (time.monotonic() - t0, sent))
            return
        except BlockingIOError:
            pass


def cmd_raw(host, port, path):
    with open(path, "rb") as f:
        data = f.read()
    s = socket.create_connection((host, int(port)), timeout=5)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before taking all of a large head
    s.settimeout(OPTS["timeout"] if OPTS["timeout"] < 30 else 10)
    got = b""
    how = "closed"
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        how = "silent"
    sys.stdout.write(got.decode("latin-1"))
    if got and not got.endswith(b"\n"):
        sys.stdout.write("\n")
    out("-- " + how)


def cmd_head304(url):
    h, p, hh, t = parse_url(url)
    base = t.split("?")[0].rsplit("/", 1)[0]
    steps = [
        ("HEAD", base + "/bytes?n=100000", [], 200, "100000", b""),
        ("HEAD", t, [], 200, None, b""),
        ("GET", t, ['If-None-Match: "v1"'], 304, None, b""),
        ("GET", t, [], 200, None, b"etag body v1\n"),
        ("GET", base + "/nocontent", [], 204, None, b""),
        ("GET", base + "/hello", [], 200, None, None),
    ]
    s = connect_to(h, p)
    r = Reader(s)
    for i, (m, tt, extra, want, want_cl, want_body) in enumerate(steps, 1):
        s.sendall(request_bytes(m, hh, tt, extra))
        try:
            resp = read_response(r, method=m)
        except Closed as e:
            die("%d %s %s: connection %s (read %r)" % (i, m, tt, e.how, r.buf[:200]))
        except ValueError as e:
            die("%d %s %s: the connection is out of sync: %s" % (i, m, tt, e))
        cl = hget(resp, "content-length")
        out("%d %s %s -> %d content-length=%s etag=%s body=%r"
            % (i, m, tt, resp.status, cl, hget(resp, "etag"), resp.body[:60]))
        if resp.status != want:
            die("%d %s %s: status %d, expected %d" % (i, m, tt, resp.status, want))
        if want_cl is not None and cl != want_cl:
            die("%d %s %s: content-length %s, expected %s" % (i, m, tt, cl, want_cl))
        if want_body is not None and resp.body != want_body:
            die("%d %s %s: body %r, expected %r" % (i, m, tt, resp.body, want_body))
        if i == 1 or i == 2 or i == 3 or i == 5:
            st = peer_closed(s, 0.3)
            if st:
                die("%d %s %s: after a body-less response the connection shows %s" % (i, m, tt, st))
    s.close()
    out("HEAD, 304 and 204 kept the connection in sync")


def cmd_abort(url):
    h, p, hh, t = parse_url(url)
    s = connect_to(h, p)
    s.sendall(request_bytes("GET", hh, t))
    r = Reader(s)
    st = {"next": 1 << 20, "h": hashlib.sha256()}

    def on_data(d, resp):
        st["h"].update(d)
        if resp.received >= st["next"]:
            out("progress %d" % resp.received)
            st["next"] += 1 << 20

    resp = None
    try:
        resp = read_head(r)
        out("status %d content-length %s" % (resp.status, hget(resp, "content-length")))
        resp = read_response(r, on_data=on_data, head=resp)
    except Closed as e:
        if resp is None:
            die("abort: connection %s before a response head" % e.how)
        got = getattr(resp, "received", 0)
        out("incomplete: %s after %d of %s bytes" % (e.how, got, hget(resp, "content-length") or "chunked"))
        sys.exit(3)
    except ValueError as e:
        die("abort: %s" % e)
    if resp.framing == "close":
        out("incomplete?: close-delimited body of %d bytes (cannot tell)" % resp.received)
        sys.exit(3)
    want = hget(resp, "x-sha256")
    if want and want != st["h"].hexdigest():
        out("corrupt: %d bytes, sha256 %s, X-Sha256 %s" % (resp.received, st["h"].hexdigest(), want))
        sys.exit(1)
    out("complete %d bytes" % resp.received)


def cmd_idle(url, maxs="60"):
    maxs = float(maxs)
    h, p, hh, t = parse_url(url)
    s = connect_to(h, p)
    s.sendall(request_bytes("GET", hh, t))
    r = Reader(s)
    try:
        resp = read_response(r)
    except Closed as e:
        die("idle: connection %s before the response" % e.how)
    out("%d %s" % (resp.status, first_line(resp.body)))
    t0 = time.monotonic()
    rl, _, _ = select.select([s], [], [], maxs)
    el = time.monotonic() - t0
    if not rl:
        die("idle: the connection is still open after %.1f s idle" % el)
    try:
        d = s.recv(4096)
    except ConnectionResetError:
        out("reset after %.1f s idle" % el)
        return
    if d:
        out("unexpected bytes after %.1f s idle: %r" % (el, d[:200]))
        # a 408 before closing is allowed: wait for the close
        s.settimeout(5)
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
        el = time.monotonic() - t0
    out("closed after %.1f s idle" % el)


def cmd_expect100(url, size):
    size = int(size)
    h, p, hh, t = parse_url(url)
    s = connect_to(h, p)
    s.sendall(request_bytes("POST", hh, t, ["Expect: 100-continue",
                                            "Content-Type: application/octet-stream"], size))
    r = Reader(s)
    t0 = time.monotonic()
    s.settimeout(5)
    got100 = False
    try:
        interim = read_response(r, keep_interim=True)
        if interim.status == 100:
            got100 = True
            out("100 after %.2f s" % (time.monotonic() - t0))
        else:
            out("final response before the body: %s" % interim.status_line)
            sys.exit(1)
    except Closed as e:
        if e.how != "timeout":
            die("expect100: connection %s while waiting for 100 Continue" % e.how)
        out("no 100 Continue within 5 s; sending the body anyway")
    s.settimeout(OPTS["timeout"])
    hs = hashlib.sha256()
    block = os.urandom(1 << 16)
    left = size
    while left:
        k = min(left, len(block))
        s.sendall(block[:k])
        hs.update(block[:k])
        left -= k
    try:
        resp = read_response(r)
    except Closed as e:
        die("expect100: connection %s before the final response" % e.how)
    out("%d %s" % (resp.status, first_line(resp.body)))
    out("sent sha256 %s" % hs.hexdigest())
    if not got100:
        sys.exit(1)


def main():
    a = sys.argv[1:]
    while a and a[0].startswith("-"):
        if a[0] == "--connect" and len(a) > 1:
            OPTS["connect"] = a[1]
        elif a[0] == "-H" and len(a) > 1:
            OPTS["headers"].append(a[1])
        elif a[0] == "--timeout" and len(a) > 1:
            OPTS["timeout"] = float(a[1])
        elif a[0] in ("-h", "--help"):
            print(__doc__)
            return
        else:
            die("unknown option %s\n%s" % (a[0], __doc__))
        a = a[2:]
    if not a:
        die(__doc__)
    cmd, args = a[0], a[1:]
    try:
        if cmd == "keepalive":
            cmd_keepalive(args)
        elif cmd == "pipeline":
            cmd_keepalive(args, pipeline=True)
        elif cmd == "sse":
            cmd_sse(*args)
        elif cmd == "slowloris":
            cmd_slowloris(*args)
        elif cmd == "raw":
            cmd_raw(*args)
        elif cmd == "head-304":
            cmd_head304(*args)
        elif cmd == "abort":
            cmd_abort(*args)
        elif cmd == "idle":
            cmd_idle(*args)
        elif cmd == "expect100":
            cmd_expect100(*args)
        else:
            die("unknown command %s\n%s" % (cmd, __doc__))
    except TypeError as e:
        die("%s: wrong arguments (%s)\n%s" % (cmd, e, __doc__))
    except (ConnectionRefusedError, socket.timeout) as e:
        die("%s: %s" % (cmd, e))


if __name__ == "__main__":
    main()
