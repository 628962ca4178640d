#!/usr/bin/env python3
"""A neighbour's load on the agent's HTTP side: N clients connect to HOST:PORT from the source
address SRC (any 127.x.y.z is this machine) for SECONDS, each either idle (connects and says
nothing) or partial (sends an unfinished request head and waits), and each reconnects as soon as
the server drops it. Creates the file READY once all have connected; stops after SECONDS, or
sooner once the file STOP exists (the caller's measurements are done); prints, at the end, how
many times the server dropped one.

    flood.py HOST PORT N SRC idle|partial SECONDS READY [STOP]
"""
import os, selectors, socket, sys, time

host, port, n, src, mode, secs, ready = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], float(sys.argv[6]), sys.argv[7]
stop = sys.argv[8] if len(sys.argv) > 8 else None
sel = selectors.DefaultSelector()
drops = 0

def connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, 0))
    s.setblocking(False)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, "new")

for _ in range(n):
    connect()
open(ready, "w").close()
end = time.time() + secs
while time.time() < end and not (stop and os.path.exists(stop)):
    for key, ev in sel.select(timeout=0.2):
        s = key.fileobj
        if key.data == "new" and ev & selectors.EVENT_WRITE:
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 and mode == "partial":
                try:
                    s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                except OSError:
                    pass
            sel.modify(s, selectors.EVENT_READ, "held")
            continue
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if not data:
            sel.unregister(s)
            s.close()
            drops += 1
            connect()
print(drops)
