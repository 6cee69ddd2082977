#!/usr/bin/env python3
"""stun_client.py ADDR:PORT [--bind ADDR:PORT] [--timeout S]: send one STUN Binding request
(RFC 8489, with FINGERPRINT) and print the XOR-MAPPED-ADDRESS of the answer as ip:port
([v6]:port for IPv6). Retransmits after 0.25 s, doubling (up to 0.5 s), within --timeout
(default 1.5 s). Exit 1 with a message on stderr on timeout or garbage. Works against any
STUN server (coturn, transport-udp-punch's listener)."""
import argparse
import binascii
import ipaddress
import os
import socket
import struct
import sys
import time

MAGIC = 0x2112A442
XOR_MAPPED = 0x0020
FINGERPRINT = 0x8028


def hostport(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError("expected ip:port, got %r" % text)
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
        return host, int(port)
    except ValueError:
        # a name: let the resolver have it
        return host, int(port)


def fingerprint(msg):
    return (binascii.crc32(msg) & 0xFFFFFFFF) ^ 0x5354554E


def request(txid):
    # header with the length counting the FINGERPRINT attribute (8 bytes)
    head = struct.pack("!HHI", 0x0001, 8, MAGIC) + txid
    return head + struct.pack("!HHI", FINGERPRINT, 4, fingerprint(head))


def parse(data, txid):
    """The XOR-MAPPED-ADDRESS of a Binding success response, or raise ValueError."""
    if len(data) < 20:
        raise ValueError("%d bytes: shorter than a STUN header" % len(data))
    mtype, mlen, magic = struct.unpack("!HHI", data[:8])
    if mtype & 0xC000 or magic != MAGIC:
        raise ValueError("not STUN (type 0x%04x, cookie 0x%08x)" % (mtype, magic))
    if 20 + mlen != len(data) or mlen % 4:
        raise ValueError("length %d does not match the %d-byte datagram" % (mlen, len(data)))
    if data[8:20] != txid:
        raise ValueError("another transaction id")
    if mtype != 0x0101:
        raise ValueError("not a Binding success response (type 0x%04x)" % mtype)
    off, found = 20, None
    while off < len(data):
        if len(data) - off < 4:
            raise ValueError("truncated attribute")
        atype, alen = struct.unpack("!HH", data[off:off + 4])
        val = data[off + 4:off + 4 + alen]
        if len(val) != alen:
            raise ValueError("attribute 0x%04x runs past the end" % atype)
        if atype == FINGERPRINT and struct.unpack("!I", val)[0] != fingerprint(data[:off]):
            raise ValueError("FINGERPRINT does not match")
        if atype == XOR_MAPPED:
            if alen < 8:
                raise ValueError("short XOR-MAPPED-ADDRESS")
            family, xport = struct.unpack("!xBH", val[:4])
            port = xport ^ (MAGIC >> 16)
            if family == 1 and alen == 8:
                raw = bytes(a ^ b for a, b in zip(val[4:8], struct.pack("!I", MAGIC)))
                found = "%s:%d" % (ipaddress.IPv4Address(raw), port)
            elif family == 2 and alen == 20:
                key = struct.pack("!I", MAGIC) + txid
                raw = bytes(a ^ b for a, b in zip(val[4:20], key))
                found = "[%s]:%d" % (ipaddress.IPv6Address(raw), port)
            else:
                raise ValueError("bad XOR-MAPPED-ADDRESS family %d" % family)
        off += 4 + ((alen + 3) & ~3)
    if not found:
        raise ValueError("no XOR-MAPPED-ADDRESS in the answer")
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("server", type=hostport, help="STUN server ip:port")
    ap.add_argument("--bind", type=hostport, help="local ip:port to send from")
    ap.add_argument("--timeout", type=float, default=1.5, help="seconds in all (1.5)")
    args = ap.parse_args()
    try:
        infos = socket.getaddrinfo(args.server[0], args.server[1], type=socket.SOCK_DGRAM)
    except socket.gaierror as e:
        print("stun_client: %s: %s" % (args.server[0], e), file=sys.stderr)
        return 1
    family, _, _, _, dest = infos[0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    if args.bind:
        sock.bind(args.bind)
    txid = os.urandom(12)
    msg = request(txid)
    deadline = time.monotonic() + args.timeout
    rto = 0.25
    last_error = None
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        sock.sendto(msg, dest)
        wait_until = min(now + rto, deadline)
        rto = min(rto * 2, 0.5)
        while True:
            left = wait_until - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                data, _ = sock.recvfrom(2048)
            except socket.timeout:
                break
            except OSError as e:  # e.g. ICMP port unreachable
                last_error = str(e)
                continue
            try:
                print(parse(data, txid))
                return 0
            except ValueError as e:
                last_error = "garbage answer: %s" % e
    print("stun_client: no valid answer from %s:%d in %.1f s%s" %
          (args.server[0], args.server[1], args.timeout,
           " (%s)" % last_error if last_error else ""), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
