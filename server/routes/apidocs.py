"""`GET /docs`: the OpenAPI explorer (Swagger UI), served from the installed `swagger-ui-bundle`
package rather than FastAPI's default CDN, so it works in a classroom without internet
(docs/architecture.md: no CDN). ReDoc is off: it would need a CDN too.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/vendor/swagger-ui"

router = APIRouter(include_in_schema=False)

swagger_assets = StaticFiles(directory=str(swagger_ui_path))


@router.get("/docs", response_class=HTMLResponse)
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Backprop Lab — REST API v1",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )
