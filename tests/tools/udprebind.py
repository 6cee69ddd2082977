#!/usr/bin/env python3
"""udprebind.py LISTEN_PORT TARGET_PORT — a UDP forwarder on 127.0.0.1 that behaves like a NAT
whose mapping changes: the agent sends to LISTEN_PORT, the forwarder relays to TARGET_PORT from
its own socket, and on SIGUSR1 it drops that socket and continues from a fresh one on another
port, as a NAT does when a mapping expires or the host's address changes. Packets the server
still sends to the old port are lost, as they would be.

It prints "ready <port>" once listening and "moved <old> -> <new>" at each move; it counts
datagrams both ways and prints the counts on SIGTERM.
"""
import selectors
import signal
import socket
import sys


def main():
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    target = ("127.0.0.1", target_port)
    inside = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    inside.bind(("127.0.0.1", listen_port))
    state = {"outside": None, "client": None, "moves": 0, "up": 0, "down": 0, "move": False}

    def new_outside():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        return s

    sel = selectors.DefaultSelector()
    inside.setblocking(False)
    sel.register(inside, selectors.EVENT_READ, "in")
    state["outside"] = new_outside()
    sel.register(state["outside"], selectors.EVENT_READ, "out")

    def on_usr1(_sig, _frm):
        state["move"] = True

    def on_term(_sig, _frm):
        print("datagrams up %d down %d moves %d" % (state["up"], state["down"], state["moves"]),
              flush=True)
        sys.exit(0)

    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_term)
    print("ready %d" % listen_port, flush=True)
    while True:
        if state["move"]:
            state["move"] = False
            old = state["outside"]
            sel.unregister(old)
            fresh = new_outside()
            sel.register(fresh, selectors.EVENT_READ, "out")
            state["outside"] = fresh
            state["moves"] += 1
            print("moved %d -> %d" % (old.getsockname()[1], fresh.getsockname()[1]), flush=True)
            old.close()
        try:
            events = sel.select(timeout=0.2)
        except InterruptedError:
            continue
        for key, _ in events:
            sock = key.fileobj
            while True:
                try:
                    data, addr = sock.recvfrom(65535)
                except (BlockingIOError, InterruptedError):
                    break
                if key.data == "in":
                    state["client"] = addr
                    state["up"] += 1
                    try:
                        state["outside"].sendto(data, target)
                    except (BlockingIOError, OSError):
                        pass
                elif sock is state["outside"] and state["client"]:
                    state["down"] += 1
                    try:
                        inside.sendto(data, state["client"])
                    except (BlockingIOError, OSError):
                        pass


if __name__ == "__main__":
    main()
