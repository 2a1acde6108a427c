"""The page: `GET /` renders templates/index.html; `/watch/{code}` the same page as a shared
session's viewer, `/watch` the form where a student types a code; `/lessons` the list of guided
lessons and `/lessons/{lesson}/{step}` the page with that lesson step's panel (docs/lessons.md);
`/teacher?key=…` the teacher
link of classroom mode; `/static/…` serves static/ (mounted by
`backprop_lab.server.app`); `/vendor/plotly.min.js` serves plotly.js from the installed `plotly` package, so
the page works offline and no third-party source is committed (docs/architecture.md,
"Rules"). Where those files are: `backprop_lab.server.web.assets`.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from backprop_lab.server import __version__
from backprop_lab.server.classroom.identity import Identities, set_cookie_header
from backprop_lab.server.deps import IdentityDep, Services, SettingsDep
from backprop_lab.server.live.share_codes import normalise, spoken
from backprop_lab.server.runtime.preparation import Preparation, Stage
from backprop_lab.server.settings import Settings
from backprop_lab.server.web.assets import static_dir, templates_dir
from backprop_lab.server.web.lessons import lesson, lessons
from backprop_lab.server.wire.problems import NotFound
from backprop_lab.server.wire.protocol import PROTOCOL_VERSION

router = APIRouter(include_in_schema=False)


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
    return _page(request, settings, "index.html", {"viewer": False})


@router.get("/teacher", response_class=HTMLResponse)
async def teacher(request: Request, settings: SettingsDep, key: str = "") -> Response:
    """The teacher link (`/teacher?key=…`, printed at start): the key goes into an HttpOnly,
    SameSite=Strict cookie and the browser on to the page, so the key leaves the address bar
    (backprop_lab.server.classroom.identity). Outside classroom mode the local user is the teacher already."""
    if not settings.classroom:
        return RedirectResponse("/", status_code=303)
    identities: Identities = request.app.state.identities
    if not identities.is_teacher_key(key):
        return _page(request, settings, "teacher.html", {}, status_code=403)
    response = RedirectResponse("/", status_code=303)
    name, value = set_cookie_header(key)
    response.raw_headers.append((name, value))
    return response


@router.get("/watch", response_class=HTMLResponse)
async def join(request: Request, settings: SettingsDep, code: str | None = None) -> Response:
    """Where students type the code the presenter reads out. The form also works before (or
    without) js/join.js: its plain GET `/watch?code=…` is normalised here and sent on to the
    viewer page, or answered with the form again, saying what is wrong."""
    if code is None:
        return _page(request, settings, "join.html", {"unknown_code": None, "invalid_code": False})
    shared = normalise(code)
    if shared is None:
        return _page(request, settings, "join.html", {"unknown_code": None, "invalid_code": True}, status_code=422)
    return RedirectResponse(f"/watch/{shared}", status_code=303)


@router.get("/watch/{code}", response_class=HTMLResponse)
async def watch(request: Request, settings: SettingsDep, code: str) -> HTMLResponse:
    """A shared session's viewer page: the services, read-only, with "try it yourself". An unknown
    code gets the join page again (404), saying so."""
    services: Services = request.app.state.services
    try:
        services.manager.shared(code) if services.relay is None else await services.relay.shared(code)
    except NotFound:
        return _page(
            request, settings, "join.html", {"unknown_code": code[:32], "invalid_code": False}, status_code=404
        )
    shared = normalise(code) or ""  # a known code is a valid one
    return _page(request, settings, "index.html", {"viewer": True, "share_code": shared, "spoken_code": spoken(shared)})


@router.get("/join", response_class=HTMLResponse)
async def join_class(request: Request, settings: SettingsDep, code: str = "") -> HTMLResponse:
    """Where a student joins the teacher's class with its code and a first name (js/join_class.js
    calls `POST /api/v1/join`). `/join?code=…`, the class page's join address, fills the code in."""
    return _page(request, settings, "join_class.html", {"code": code[:32]})


@router.get("/class", response_class=HTMLResponse)
async def class_page(request: Request, settings: SettingsDep, identity: IdentityDep) -> HTMLResponse:
    """The teacher's class page (js/class_page.js). A student gets a page that says it is the
    teacher's, 403: outside classroom mode the one local user is the teacher."""
    if not identity.is_teacher:
        return _page(request, settings, "class_forbidden.html", {}, status_code=403)
    return _page(request, settings, "class.html", {})


@router.get("/lessons", response_class=HTMLResponse)
async def lesson_list(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The guided lessons, in the source article's order (js/lessons/list.js adds each one's progress)."""
    return _page(request, settings, "lessons.html", {"lessons": lessons(static_dir(settings))})


@router.get("/lessons/{lesson_id}", response_class=HTMLResponse)
async def lesson_start(request: Request, settings: SettingsDep, lesson_id: str) -> Response:
    if lesson(static_dir(settings), lesson_id) is None:
        return _unknown_lesson(request, settings)
    return RedirectResponse(f"/lessons/{lesson_id}/1", status_code=303)


@router.get("/lessons/{lesson_id}/{step}", response_class=HTMLResponse)
async def lesson_step(request: Request, settings: SettingsDep, lesson_id: str, step: str) -> HTMLResponse:
    """The lab with a lesson step's panel: js/lessons/panel.js sets the step's network up on the
    student's own session. An unknown lesson or step gets the list again (404)."""
    entry = lesson(static_dir(settings), lesson_id)
    if entry is None or not step.isdigit() or not 1 <= int(step) <= entry.steps:
        return _unknown_lesson(request, settings)
    return _page(request, settings, "index.html", {"viewer": False, "lesson": entry, "lesson_step": int(step)})


def _unknown_lesson(request: Request, settings: Settings) -> HTMLResponse:
    context = {"lessons": lessons(static_dir(settings)), "unknown": True}
    return _page(request, settings, "lessons.html", context, status_code=404)


def _page(
    request: Request, settings: Settings, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    directory = templates_dir(settings)
    if not (directory / name).is_file():
        raise HTTPException(404, f"the page is not built yet (templates/{name} is missing)")
    context = {"protocol_version": PROTOCOL_VERSION, "version": __version__, **context}
    return _templates(directory).TemplateResponse(request, name, context, status_code=status_code)


def preparing_page(request: Request, settings: Settings, preparation: Preparation) -> HTMLResponse:
    """The page every page address shows while the engine is being prepared (served by
    `backprop_lab.server.routes.preparing`, 503): its progress as it was when asked, which
    js/preparing.js keeps up to date, reloading into the page asked for once the engine is ready."""
    params = preparation.problem()["params"]
    failed = preparation.stage is Stage.FAILED
    context = {
        "failed": failed,
        "failure": params["error"] if failed else "",
        "kernels_done": 0 if failed else params["kernels_done"],
        "kernels_total": preparation.kernels_total,
    }
    page = _page(request, settings, "preparing.html", context, status_code=503)
    page.headers["Cache-Control"] = "no-store"
    if not failed:
        page.headers["Retry-After"] = str(preparation.retry_after())
    return page


@router.get("/vendor/plotly.min.js")
async def plotly() -> FileResponse:
    path = plotly_js()
    if path is None:
        raise HTTPException(404, "the plotly package is not installed")
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})
