"""`GET /docs`: the OpenAPI explorer (Swagger UI 5, which reads the OpenAPI 3.1 FastAPI writes),
served from the installed `swagger-ui-bundle-v2` package rather than FastAPI's default CDN, so it
works in a classroom without internet (docs/architecture.md: no CDN). ReDoc is off: it would need
a CDN too.

The page is written here rather than by FastAPI's `get_swagger_ui_html`, whose page starts
Swagger UI with an inline script: the lab's Content-Security-Policy runs no inline script
(`backprop_lab.server.web.headers`), so the start-up is a file of the page's own, static/js/apidocs.js, which
reads the schema's address from the page.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from backprop_lab.server import __version__

ASSETS = "/vendor/swagger-ui"
TITLE = "Backprop Lab — REST API v1"

router = APIRouter(include_in_schema=False)

swagger_assets = StaticFiles(directory=str(swagger_ui_path))


def explorer_page(openapi_url: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{escape(TITLE)}</title>
  <link rel="icon" href="{ASSETS}/favicon-32x32.png">
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script type="module" src="/static/js/apidocs.js?v={escape(__version__)}"></script>
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
async def docs(request: Request) -> HTMLResponse:
    return HTMLResponse(explorer_page(request.app.openapi_url or ""))
