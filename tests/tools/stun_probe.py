#!/usr/bin/env python3
"""stun_probe.py ADDR:PORT [--bind IP:PORT] [--timeout S] [--count N] [--interval S]

A minimal STUN Binding client (RFC 8489) for the NAT test bed: sends a Binding request to
ADDR:PORT (IPv6 as [ADDR]:PORT) and prints the XOR-MAPPED-ADDRESS of the answer as ip:port
(IPv6 as [ip]:port). Exit 0 on an answer; 1 with a message on stderr on timeout or on an answer
that is not a valid Binding success response for our transaction.

--bind fixes the local address and port, so two probes can show whether a NAT keeps the same
mapping towards two servers. --count N sends N requests in turn from that one socket, each
waiting up to --timeout (no retransmission: a lost request or answer counts as lost), prints
one line per answer and ends with "answered A lost L"; exit 0 if at least one was answered.
It is a test tool, deliberately separate from the daemon's own STUN code: it must be able to
judge that code, and coturn judges this.
"""
import argparse
import ipaddress
import os
import socket
import struct
import sys
import time

MAGIC = 0x2112A442
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
XOR_MAPPED_ADDRESS = 0x0020


def split_hostport(text):
    """"1.2.3.4:5" or "[::1]:5" -> (host, port)."""
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError("expected ADDR:PORT or [ADDR]:PORT, got %r" % text)
    return host, int(port)


def request(tid):
    # Header: type, length (no attributes), magic cookie, 96-bit transaction id.
    return struct.pack("!HHI12s", BINDING_REQUEST, 0, MAGIC, tid)


def parse(data, tid):
    """The mapped address of a Binding success response for tid, or raise ValueError."""
    if len(data) < 20:
        raise ValueError("%d bytes, shorter than a STUN header" % len(data))
    mtype, length, cookie, rtid = struct.unpack("!HHI12s", data[:20])
    if cookie != MAGIC:
        raise ValueError("no magic cookie (0x%08x)" % cookie)
    if rtid != tid:
        raise ValueError("another transaction id")
    if mtype != BINDING_SUCCESS:
        raise ValueError("message type 0x%04x, not a Binding success response" % mtype)
    if 20 + length > len(data) or length % 4:
        raise ValueError("length %d does not fit the %d bytes received" % (length, len(data)))
    pos, end = 20, 20 + length
    while pos + 4 <= end:
        atype, alen = struct.unpack("!HH", data[pos:pos + 4])
        value = data[pos + 4:pos + 4 + alen]
        if len(value) < alen:
            raise ValueError("attribute 0x%04x runs past the message" % atype)
        if atype == XOR_MAPPED_ADDRESS:
            return xor_address(value, tid)
        pos += 4 + ((alen + 3) & ~3)  # attributes are padded to 4 bytes
    raise ValueError("no XOR-MAPPED-ADDRESS in the answer")


def xor_address(value, tid):
    if len(value) < 4:
        raise ValueError("XOR-MAPPED-ADDRESS too short")
    family, xport = struct.unpack("!xBH", value[:4])
    port = xport ^ (MAGIC >> 16)
    if family == 0x01 and len(value) == 8:
        key = struct.pack("!I", MAGIC)
        raw = bytes(a ^ b for a, b in zip(value[4:8], key))
        return "%s:%d" % (ipaddress.IPv4Address(raw), port)
    if family == 0x02 and len(value) == 20:
        key = struct.pack("!I", MAGIC) + tid  # IPv6: XOR with cookie + transaction id
        raw = bytes(a ^ b for a, b in zip(value[4:20], key))
        return "[%s]:%d" % (ipaddress.IPv6Address(raw), port)
    raise ValueError("XOR-MAPPED-ADDRESS family 0x%02x with %d bytes" % (family, len(value)))


def one(sock, server, timeout):
    """The mapped address, or None on timeout; ValueError on garbage."""
    tid = os.urandom(12)
    sock.sendto(request(tid), server)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data, src = sock.recvfrom(2048)
        except socket.timeout:
            return None
        # A late answer to an earlier (timed-out) request is not garbage: skip it.
        if len(data) >= 20 and data[8:20] != tid and data[4:8] == struct.pack("!I", MAGIC):
            continue
        return parse(data, tid)


def main():
    ap = argparse.ArgumentParser(description="STUN Binding request; prints XOR-MAPPED-ADDRESS")
    ap.add_argument("server", help="ADDR:PORT or [ADDR]:PORT")
    ap.add_argument("--bind", help="local IP:PORT to send from")
    ap.add_argument("--timeout", type=float, default=2.0, help="seconds per request")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--interval", type=float, default=0.0, help="pause between requests")
    args = ap.parse_args()
    try:
        host, port = split_hostport(args.server)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        if args.bind:
            sock.bind(split_hostport(args.bind))
    except (ValueError, OSError) as e:
        print("stun_probe: %s" % e, file=sys.stderr)
        return 1
    server = (host, port)
    answered = lost = 0
    for i in range(args.count):
        if i and args.interval:
            time.sleep(args.interval)
        try:
            mapped = one(sock, server, args.timeout)
        except ValueError as e:
            print("stun_probe: garbage from %s: %s" % (args.server, e), file=sys.stderr)
            return 1
        except OSError as e:  # e.g. ICMP port unreachable reported on the next call
            print("stun_probe: %s: %s" % (args.server, e), file=sys.stderr)
            if args.count == 1:
                return 1
            mapped = None
        if mapped is None:
            lost += 1
            if args.count == 1:
                print("stun_probe: no answer from %s within %g s" % (args.server, args.timeout),
                      file=sys.stderr)
                return 1
        else:
            answered += 1
            print(mapped, flush=True)
    if args.count > 1:
        print("answered %d lost %d" % (answered, lost))
        return 0 if answered else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
