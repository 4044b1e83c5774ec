"""qemu guestfwd helper: one guest TCP connection (this process's stdin/stdout) <-> 127.0.0.1:PORT.

qemu starts it per connection the guest opens to the forwarded address (`guestfwd=...-cmd:`), so the
guest reaches exactly one host service (the private broker) and nothing else. Standard library only.
"""

from __future__ import annotations

import os
import selectors
import socket
import sys


def main(port: int) -> None:
    upstream = socket.create_connection(("127.0.0.1", port))
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ)
    sel.register(upstream, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj == 0:
                data = os.read(0, 65536)
                if not data:
                    return
                upstream.sendall(data)
            else:
                data = upstream.recv(65536)
                if not data:
                    return
                os.write(1, data)


if __name__ == "__main__":
    main(int(sys.argv[1]))
