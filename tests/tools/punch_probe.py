#!/usr/bin/env python3
"""punch_probe.py --bind IP:PORT PEER_IP:PORT [--timeout S]

One side of a UDP hole punch, for the NAT test bed: from IP:PORT, send to the peer's public
address (learned by STUN from that same port) every 50 ms until the peer is heard and the peer
says it heard us, or until the timeout. Both sides run at once, as a rendezvous would start
them. Datagrams carry one byte of state: "0" (not heard from you yet) or "1" (heard you).

Prints "connected PEER after S s" and exits 0, or prints "no path to PEER within S s" and
exits 1. Only datagrams from exactly PEER count: anything else is reported and ignored.
"""
import argparse
import socket
import sys
import time


def hostport(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peer")
    ap.add_argument("--bind", required=True)
    ap.add_argument("--timeout", type=float, default=3.0)
    args = ap.parse_args()
    peer = hostport(args.peer)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(hostport(args.bind))
    start = time.monotonic()
    heard = False
    next_send = start
    while True:
        now = time.monotonic()
        if now - start > args.timeout:
            print("no path to %s:%d within %g s" % (peer[0], peer[1], args.timeout), flush=True)
            return 1
        if now >= next_send:
            try:
                sock.sendto(b"1" if heard else b"0", peer)
            except OSError:  # an ICMP error from an earlier packet: keep trying
                pass
            next_send = now + 0.05
        sock.settimeout(max(0.001, next_send - time.monotonic()))
        try:
            data, src = sock.recvfrom(64)
        except socket.timeout:
            continue
        except OSError:
            continue
        if src != peer:
            print("ignored a datagram from %s:%d" % src, flush=True)
            continue
        heard = True
        if data == b"1":
            # The peer heard us and we heard it: done. A few more "1"s, so that the peer
            # (which may have heard us only just now) learns it too.
            for _ in range(3):
                sock.sendto(b"1", peer)
                time.sleep(0.02)
            print("connected %s:%d after %.2f s" % (peer[0], peer[1], time.monotonic() - start),
                  flush=True)
            return 0


if __name__ == "__main__":
    sys.exit(main())
