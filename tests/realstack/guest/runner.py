"""Guest side of the host's command channel (third serial port): run each command, report its status.

One JSON object per line each way. Host -> guest: {"argv": [...], "env": {...}, "timeout": s, "tty_input": optional text typed at a terminal}
or {"poweroff": true}. Guest -> host: {"rc": exit status, "out": stdout+stderr} (rc 124: timeout).
Once at start: {"ready": true, "boot_s": seconds since the kernel started}. Standard library only.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import termios
import time
import tty


def main(port: str) -> None:
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[4] = attrs[5] = termios.B115200
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    stream = os.fdopen(fd, "r+b", buffering=0)

    def send(obj: dict) -> None:
        stream.write(json.dumps(obj).encode() + b"\n")

    with open("/proc/uptime") as f:
        send({"ready": True, "boot_s": float(f.read().split()[0])})
    buf = b""
    while True:
        chunk = stream.read(4096)
        if not chunk:
            time.sleep(0.05)
            continue
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            request = json.loads(line)
            if request.get("poweroff"):
                send({"rc": 0, "out": "powering off"})
                return
            env = {**os.environ, **request.get("env", {})}
            try:
                # No stdin: the hub runs as a service would (no terminal, so no passkey prompt), unless the
                # host sends what an operator would type: then stdin is a terminal with that typed ahead.
                stdin, typed = subprocess.DEVNULL, request.get("tty_input")
                if typed is not None:
                    master, stdin = pty.openpty()
                    os.write(master, typed.encode())
                try:
                    done = subprocess.run(
                        request["argv"], env=env, stdin=stdin, capture_output=True, timeout=request.get("timeout", 300)
                    )
                finally:
                    if typed is not None:
                        os.close(stdin)
                        os.close(master)
                send({"rc": done.returncode, "out": (done.stdout + done.stderr).decode(errors="replace")})
            except subprocess.TimeoutExpired as exc:
                out = (exc.stdout or b"") + (exc.stderr or b"")
                send({"rc": 124, "out": out.decode(errors="replace") + "\n[timed out]"})


if __name__ == "__main__":
    main(sys.argv[1])
