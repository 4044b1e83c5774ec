"""Local receivers for outbound messages: a webhook sink that checks signatures, and an SMTP server.

Used by `vitalgate demo`, the notify tests and benchmarks.notify_bench: they stand in for an SMS /
voice gateway and a mail server on this machine. `python -m vitalgate.app.notify_sinks webhook
--port P --secret S --out FILE` runs the webhook sink as its own process (one JSON line per request).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import IO, Any

from vitalgate.notify.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, SignatureError, verify


@dataclass
class Received:
    key: str | None
    body: dict[str, Any]
    signed: bool
    headers: dict[str, str]


@dataclass
class WebhookSink:
    """An HTTP/1.1 server (keep-alive) on 127.0.0.1 that records every POST and answers 200 {"message_id"}.

    `secret`: requests whose signature does not verify are answered 401 and recorded as unsigned.
    `delay_s` slows each answer (a slow gateway); `fail_first` answers 503 to that many requests.
    """

    secret: str | None = None
    delay_s: float = 0.0
    fail_first: int = 0
    out: IO[str] | None = None
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    def keys(self) -> Counter[str]:
        """How often each idempotency key arrived (more than once: a resend, same key)."""
        return Counter(r.key for r in self.received if r.key)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, answer = await self._handle(headers, body)
                close = headers.get("connection", "").lower() == "close"
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(answer)}\r\n"
                    f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n".encode()
                    + answer
                )
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _handle(self, headers: dict[str, str], raw: bytes) -> tuple[str, bytes]:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_first > 0:
            self.fail_first -= 1
            return "503 Service Unavailable", b"{}"
        signed = True
        if self.secret is not None:
            try:
                verify(self.secret, headers.get(SIGNATURE_HEADER.lower()), raw, datetime.now(UTC))
            except SignatureError:
                signed = False
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"raw": raw.decode(errors="replace")}
        key = headers.get(IDEMPOTENCY_HEADER.lower())
        self.received.append(Received(key, body, signed, headers))
        if self.out is not None:
            self.out.write(json.dumps({"key": key, "signed": signed, "body": body}, ensure_ascii=False) + "\n")
            self.out.flush()
        if not signed:
            return "401 Unauthorized", b'{"error": "bad signature"}'
        return "200 OK", json.dumps({"message_id": f"sink-{len(self.received)}"}).encode()


@dataclass
class SmtpSink:
    """aiosmtpd on 127.0.0.1 with optional STARTTLS and AUTH (PLAIN/LOGIN over TLS); records each message."""

    username: str | None = None
    password: str | None = None
    tls_context: Any = None  # ssl.SSLContext for STARTTLS; None: plain SMTP
    messages: list[Message] = field(default_factory=list)
    port: int = 0
    _controller: Any = None

    def start(self, port: int = 0) -> int:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        from vitalgate.app.embedded import free_port

        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.messages.append(message_from_bytes(envelope.original_content or envelope.content))
                return "250 Message accepted for delivery"

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
            ok = auth_data.login.decode() == sink.username and auth_data.password.decode() == sink.password
            return AuthResult(success=ok, handled=False)

        self.port = port or free_port()
        kwargs: dict[str, Any] = {}
        if self.tls_context is not None:
            kwargs |= {"tls_context": self.tls_context, "require_starttls": True}
        if self.username is not None:
            kwargs |= {"authenticator": authenticate, "auth_required": True}
        else:
            kwargs |= {"auth_require_tls": False}
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()
        return self.port

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="A local webhook sink (one JSON line per request to --out).")
    parser.add_argument("kind", choices=["webhook"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", default=None)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    async def serve() -> None:
        with args.out.open("a", encoding="utf-8") as out:
            sink = WebhookSink(secret=args.secret, delay_s=args.delay, out=out)
            await sink.start(args.port)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
