"""The page: `GET /` renders templates/index.html; `/static/…` serves static/ (mounted by
`server.app`); `/vendor/plotly.min.js` serves plotly.js from the installed `plotly` package, so
the page works offline and no third-party source is committed (docs/architecture.md,
"Rules").

Where the files are: an installed package has them at `server/static` and `server/templates`
(pyproject maps the top-level folders there); a source checkout has them at the repository root.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

import server
from server import __version__
from server.deps import SettingsDep
from server.protocol import PROTOCOL_VERSION
from server.settings import Settings

router = APIRouter(include_in_schema=False)


def _asset_dir(name: str, override: Path | None) -> Path:
    if override is not None:
        return override
    installed = Path(server.__file__).parent / name
    if installed.is_dir():
        return installed
    return Path(server.__file__).resolve().parent.parent / name  # a source checkout


def static_dir(settings: Settings) -> Path:
    return _asset_dir("static", settings.static_dir)


def templates_dir(settings: Settings) -> Path:
    return _asset_dir("templates", settings.templates_dir)


@cache
def _templates(directory: Path) -> Jinja2Templates:
    return Jinja2Templates(directory=str(directory))


@cache
def plotly_js() -> Path | None:
    """plotly.min.js inside the installed `plotly` Python package (as Dash serves it)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


@router.get("/", response_class=HTMLResponse)
async def index(request: Request, settings: SettingsDep) -> HTMLResponse:
    directory = templates_dir(settings)
    if not (directory / "index.html").is_file():
        raise HTTPException(404, "the page is not built yet (templates/index.html is missing)")
    return _templates(directory).TemplateResponse(
        request, "index.html", {"protocol_version": PROTOCOL_VERSION, "version": __version__}
    )


@router.get("/vendor/plotly.min.js")
async def plotly() -> FileResponse:
    path = plotly_js()
    if path is None:
        raise HTTPException(404, "the plotly package is not installed")
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})
