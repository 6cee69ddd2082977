#!/usr/bin/env python3
"""A VM lookup API for the VM-host proxy tests (standard library only, any python3).

  vmapi.py PORT --table FILE [--bind ADDR]

Listens on ADDR:PORT (default 127.0.0.1), prints "ready" once listening and one line per
request as it answers ("lookup /vms/NAME -> STATUS"), so a test can count lookups. GET /vms/NAME answers from
FILE, a JSON object read again for every request (a test changes it to move or remove a VM):
  {"web1": {"ip": "172.30.1.2", "ports": [3000]}, ...}
as 200 {"name": NAME, "network": {"ip": IP}, "ports": [...]} when NAME is there, 404
{"error": "no such vm"} when it is not. An entry may instead say {"status": 500} (that status,
a text body) or {"raw": "TEXT"} (200 with TEXT as the body, for answers that are not JSON),
or {"delay_ms": N, ...} (answer after N ms).
"""
import http.server
import json
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, ctype="application/json"):
        # Logged before the answer goes: a lookup the proxy gave up on counts too.
        print("lookup %s -> %d" % (self.path, status), flush=True)
        data = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        if not self.path.startswith("/vms/"):
            self.send(404, json.dumps({"error": "unknown path"}))
            return
        name = self.path[len("/vms/"):]
        with open(self.server.table) as f:
            table = json.load(f)
        entry = table.get(name)
        if entry is None:
            self.send(404, json.dumps({"error": "no such vm"}))
            return
        time.sleep(entry.get("delay_ms", 0) / 1000.0)
        if "status" in entry:
            self.send(entry["status"], "lookup failed\n", "text/plain")
        elif "raw" in entry:
            self.send(200, entry["raw"])
        else:
            self.send(200, json.dumps({"name": name, "network": {"ip": entry["ip"]},
                                       "ports": entry.get("ports", [])}))


def main():
    args = sys.argv[1:]
    if not args or "--table" not in args:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    port = int(args[0])
    table = args[args.index("--table") + 1]
    bind = args[args.index("--bind") + 1] if "--bind" in args else "127.0.0.1"
    srv = http.server.ThreadingHTTPServer((bind, port), Handler)
    srv.table = table
    print("ready: vmapi on %s:%d" % (bind, port), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
