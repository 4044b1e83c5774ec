"""/docs: the OpenAPI reference with Swagger UI served from our own /static (vendored from the npm
registry: swagger-ui-dist), so it works offline and under the same strict CSP as every page (the
bootstrap is a static file, not an inline script)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>VitalGate API</title><link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><main id="swagger-ui"><h1>VitalGate API</h1><p>Loading the API reference…
The machine-readable schema is at <a href="/openapi.json">/openapi.json</a>.</p></main>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script></body></html>
"""


@router.get("/docs", response_class=HTMLResponse)
async def docs() -> HTMLResponse:
    return HTMLResponse(_PAGE)
