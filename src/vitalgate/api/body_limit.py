"""Request body size limit, enforced before authentication and parsing (pure ASGI middleware).

A declared Content-Length over the limit is answered 413 at once; a chunked or under-declared body
is counted as it streams in and the request fails with 413 as soon as the count passes the limit,
so no handler ever buffers more than the limit (issue 13: a 300 MB POST took the API from 105 to 738 MB).
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Settings.api_max_body_bytes default: the largest JSON body the API takes (a pairing, an outcome,
# an admin change) is a few kB.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def _too_large(limit: int) -> HTTPException:
    return HTTPException(status_code=413, detail=f"request body over the {limit}-byte limit")


class BodyLimit:
    """Refuse request bodies over `max_bytes` (413); `limits` raises it for named path prefixes."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES, limits: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.limits = limits or {}

    def _limit(self, path: str) -> int:
        return next((n for prefix, n in self.limits.items() if path.startswith(prefix)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _send_413(send, limit)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)  # FastAPI turns it into the 413 answer of the route
            return message

        await self.app(scope, counted, send)


async def _send_413(send: Send, limit: int) -> None:
    body = b'{"detail":"request body over the ' + str(limit).encode() + b'-byte limit"}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
