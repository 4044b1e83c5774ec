"""Response headers every page and API answer carries: no caching of patient data, no framing."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Scripts only from our own /static files (no inline script, no other origin: an injected
# <script> or onclick does not run); the chart data travels in a non-executed JSON <script> block.
# Inline style attributes stay allowed (layout only, cannot run code). Buttons on the worklist must
# not be clickable through another site's invisible frame (frame-ancestors + X-Frame-Options).
_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
    b" object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# /docs loads the vendored Swagger UI from /static with a static bootstrap file (api.docs_pages):
# it needs only images from data: URIs, which the common policy already allows.
_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Page addresses carry patient ids: never send them to another site.
    (b"referrer-policy", b"same-origin"),
]
# Patient data must not stay in a shared workstation's browser cache after sign-out (back button).
_NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """Pure ASGI middleware (no BaseHTTPMiddleware: streaming and lifespan stay untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = scope["path"].startswith("/static/")
        csp = _CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [*_ALWAYS, (b"content-security-policy", csp), *([] if cacheable else [_NO_STORE])]
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
