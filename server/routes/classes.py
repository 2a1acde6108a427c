"""REST and WebSocket of the class (docs/api.md, "Classes"; docs/protocol.md, `/ws/classes/{code}`):
the teacher opens, watches, pauses, configures, exports and ends the class; a student joins it.

Routes stay thin: what they ask of the class is `backprop_lab.server.classes.actions` (the
registry `…registry`, the view `…view`, the controls `…control`; on a cluster's worker, the same
shared through Redis), the export `…export`.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Body, Path, Response, WebSocket, WebSocketDisconnect

from backprop_lab.server.classes.export import class_csv
from backprop_lab.server.classes.registry import Challenge, SchoolClass, teacher_only
from backprop_lab.server.classes.view import VIEW_SECONDS
from backprop_lab.server.classroom.identity import identity_of
from backprop_lab.server.deps import IdentityDep, Services, ServicesDep
from backprop_lab.server.routes.runs import CsvResponse
from backprop_lab.server.routes.websockets import deny
from backprop_lab.server.runtime.fanout import ClientChannel, Role, finish
from backprop_lab.server.web.assets import static_dir
from backprop_lab.server.web.errors import JSONBody
from backprop_lab.server.web.lessons import lesson_step
from backprop_lab.server.wire.class_models import (
    ClassOut,
    ClassPatchIn,
    JoinIn,
    JoinOut,
    JoinStatusOut,
    ProgressIn,
    PushedConfigOut,
)
from backprop_lab.server.wire.config_models import ConfigIn
from backprop_lab.server.wire.error_models import error_responses, json_refusals
from backprop_lab.server.wire.problems import CapReached, Forbidden, NotFound
from backprop_lab.server.wire.protocol import encode

router = APIRouter(tags=["classes"])
ClassCodePath = Annotated[str, Path(min_length=1, max_length=32, description="The code POST /api/v1/classes "
                                    "returned, typed loosely (any case, spaces, dashes).")]
TEACHER_ROUTE = error_responses(403, 404)


async def view_of(services: Services, school_class: SchoolClass, *, refresh: bool = True) -> dict:
    return await services.class_actions.view(school_class, join_url(services, school_class), refresh=refresh)


def join_url(services: Services, school_class: SchoolClass) -> str:
    """The join page with the code filled in, at the address students use."""
    return f"{services.settings.public_url()}join?code={school_class.code}"


def teachers_class(services: Services, identity: IdentityDep, code: str) -> SchoolClass:
    """The open class `code` names, for the teacher (403 `teacher_only` for a student)."""
    teacher_only(identity)
    return services.classes.get(code)


@router.post(
    "/api/v1/classes",
    operation_id="open_class",
    status_code=201,
    response_model=ClassOut,
    responses=error_responses(403),
    summary="Open the class (teacher): a code students join with",
    description="One class is open at a time: opening again answers 200 (not 201) with the open one. Its code is a "
    "share code's kind (six characters, read aloud in two groups); students join at `join_url`.",
)
async def open_class(services: ServicesDep, identity: IdentityDep) -> Response:
    teacher_only(identity)
    school_class, opened = await services.class_actions.open()
    return JSONBody(await view_of(services, school_class), status_code=201 if opened else 200)


@router.get(
    "/api/v1/classes/{code}",
    operation_id="read_class",
    response_model=ClassOut,
    responses=TEACHER_ROUTE,
    summary="The class view (teacher): every student, their session, badge and thumbnail",
    description="What `/ws/classes/{code}` sends four times a second: the settings, and per student the shown "
    "name (null while anonymous), whether a page of theirs is connected, and their most recently active session.",
)
async def read_class(code: ClassCodePath, services: ServicesDep, identity: IdentityDep) -> Response:
    return JSONBody(await view_of(services, teachers_class(services, identity, code)))


@router.patch(
    "/api/v1/classes/{code}",
    operation_id="change_class",
    response_model=ClassOut,
    responses=error_responses(403, 404, 413),
    summary="Anonymise the class, set its challenge, or move it to a lesson step (teacher)",
    description="Only the fields given change: `anonymous` hides the names in the class view; `challenge` sets the "
    "goal every student's page shows (null ends it), and the view says who reached it; `lesson` (`{id, step}`, "
    "checked against the lessons: 422 `unknown_lesson` at `lesson.id`, `unknown_step` at `lesson.step`) moves "
    "every student's page to that lesson step (null: no step), and the view says who reported its task met.",
)
async def change_class(code: ClassCodePath, services: ServicesDep, identity: IdentityDep,
                       changes: ClassPatchIn) -> Response:
    school_class = teachers_class(services, identity, code)
    if changes.anonymous is not None:
        school_class.anonymous = changes.anonymous
    if "challenge" in changes.model_fields_set:
        challenge = Challenge.of(changes.challenge) if changes.challenge is not None else None
        services.classes.set_challenge(school_class, challenge)
    if "lesson" in changes.model_fields_set:
        wanted = changes.lesson
        step = None if wanted is None else lesson_step(static_dir(services.settings), wanted.id, wanted.step,
                                                       ("body", "lesson", "id"), ("body", "lesson", "step"))
        services.classes.set_lesson(school_class, step)
    await services.class_actions.changed(school_class)
    return JSONBody(await view_of(services, school_class))


@router.post(
    "/api/v1/classes/{code}/pause",
    operation_id="pause_class",
    response_model=ClassOut,
    responses=TEACHER_ROUTE,
    summary="Pause the whole class (teacher): every student's training stops",
    description="Every student's session pauses, and until the class resumes a student's `play`, `step` or "
    "`phase` is refused (WebSocket `error` `class_paused`; REST 409 `class_paused`). Their pages show it.",
)
async def pause_class(code: ClassCodePath, services: ServicesDep, identity: IdentityDep) -> Response:
    school_class = teachers_class(services, identity, code)
    await services.class_actions.set_paused(school_class, True)
    return JSONBody(await view_of(services, school_class))


@router.post(
    "/api/v1/classes/{code}/resume",
    operation_id="resume_class",
    response_model=ClassOut,
    responses=TEACHER_ROUTE,
    summary="Resume the class (teacher): students may train again",
    description="Lifts the pause: the students' pages say so and they may play again; nothing plays by itself.",
)
async def resume_class(code: ClassCodePath, services: ServicesDep, identity: IdentityDep) -> Response:
    school_class = teachers_class(services, identity, code)
    await services.class_actions.set_paused(school_class, False)
    return JSONBody(await view_of(services, school_class))


@router.post(
    "/api/v1/classes/{code}/config",
    operation_id="push_class_config",
    response_model=PushedConfigOut,
    responses=error_responses(403, 404, 413),
    summary="Push a config to every student (teacher): \"set the learning rate to 3 and watch\"",
    description="Every student's live sessions take the partial config as if each student had changed it "
    "(`PATCH /api/v1/sessions/{id}/config`): their pages update. `refused` lists the students whose session "
    "could not take it, and why.",
)
async def push_class_config(code: ClassCodePath, services: ServicesDep, identity: IdentityDep,
                            changes: ConfigIn) -> Response:
    school_class = teachers_class(services, identity, code)
    return JSONBody(await services.class_actions.push_config(school_class, changes))


@router.delete(
    "/api/v1/classes/{code}",
    operation_id="end_class",
    status_code=204,
    responses=TEACHER_ROUTE,
    summary="End the class (teacher): names forgotten, students told",
    description="The students' pages hear that the class ended; their sessions go on as their own. Every name "
    "the class held is forgotten (export the class first to keep them).",
)
async def end_class(code: ClassCodePath, services: ServicesDep, identity: IdentityDep) -> Response:
    await services.class_actions.end(teachers_class(services, identity, code))
    return Response(status_code=204)


@router.get(
    "/api/v1/classes/{code}/export.csv",
    operation_id="export_class_csv",
    response_class=CsvResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                     "description": "One row per student: name, config, metrics, badge."},
               **json_refusals(TEACHER_ROUTE)},
    summary="The class as CSV (teacher): each student's name, config and metrics",
    description="One row per student (their shown session's step, config, losses, test accuracy, badge and "
    "whether it reached the challenge), with names even while anonymous. A name a spreadsheet would run as a "
    "formula starts with an apostrophe.",
)
async def export_class_csv(code: ClassCodePath, services: ServicesDep, identity: IdentityDep) -> Response:
    school_class = teachers_class(services, identity, code)
    disposition = f'attachment; filename="class-{school_class.code}.csv"'
    return CsvResponse(class_csv(school_class, await view_of(services, school_class)),
                       headers={"Content-Disposition": disposition})


@router.post(
    "/api/v1/join",
    operation_id="join_class",
    response_model=JoinOut,
    responses=error_responses(404, 409, 413, 429),
    summary="Join the open class (student) with its code and a first name",
    description="Every session the student holds or then creates or forks belongs to the class until it ends. "
    "Joining again keeps the student's place (the same number) and takes the new name. 404 `unknown_class`; 409 "
    "`teacher_cannot_join`; 422 naming `name` (1 to 24 printable characters); 429 `class_full`.",
)
async def join_class(services: ServicesDep, identity: IdentityDep, body: Annotated[JoinIn, Body()]) -> Response:
    school_class, member = await services.class_actions.join(body.code, identity, body.name)
    return JSONBody({"code": school_class.code, "spoken": school_class.spoken, "name": member.name,
                     "number": member.number})


@router.get(
    "/api/v1/join",
    operation_id="read_my_class",
    response_model=JoinStatusOut,
    responses=error_responses(404),
    summary="The open class the caller is in (student): code, name, number, pause, challenge",
    description="What a student's page shows of their class after a reload; 404 `not_in_class` when the caller "
    "is in no open class (never joined, or the class ended).",
)
async def read_my_class(services: ServicesDep, identity: IdentityDep) -> Response:
    school_class = services.classes.class_of(identity.id)
    member = school_class.member(identity.id) if school_class is not None else None
    if school_class is None or member is None:
        raise NotFound("you are in no open class: join one with its code", "not_in_class")
    challenge, lesson = school_class.challenge, school_class.lesson
    return JSONBody({"code": school_class.code, "spoken": school_class.spoken, "name": member.name,
                     "number": member.number, "paused": school_class.paused,
                     "challenge": challenge.view() if challenge is not None else None,
                     "lesson": lesson.view() if lesson is not None else None})


@router.post(
    "/api/v1/join/progress",
    operation_id="report_lesson_progress",
    status_code=204,
    responses=error_responses(404, 413),
    summary="Report a lesson step's task met (student)",
    description="The student's page says so once the task of a lesson step is met (`done: false` takes it back); "
    "the class view's `task_done` shows it for the class's step. 404 `not_in_class`; 422 `unknown_lesson` at "
    "`lesson`, `unknown_step` at `step`.",
)
async def report_progress(services: ServicesDep, identity: IdentityDep,
                          body: Annotated[ProgressIn, Body()]) -> Response:
    step = lesson_step(static_dir(services.settings), body.lesson, body.step, ("body", "lesson"), ("body", "step"))
    await services.class_actions.report(identity.id, step, body.done)
    return Response(status_code=204)


@router.websocket("/ws/classes/{code}")
async def class_stream(websocket: WebSocket, code: str) -> None:
    """The teacher's class view, at once and then every `CLASS_VIEW_SECONDS`; controls go over REST."""
    services: Services = websocket.app.state.services
    identity = identity_of(websocket)
    try:
        school_class = teachers_class(services, identity, code)
    except Forbidden as refused:
        await deny(websocket, 403, refused.message, refused.code)
        return
    except NotFound as problem:
        await deny(websocket, 404, problem.message, problem.code or "")
        return
    try:  # a socket like any other: the server's cap and the teacher's count (`server.live.socket_quotas`)
        reservation = services.manager.sockets.reserve(f"class {school_class.code}", Role.CONTROL, identity)
    except CapReached as refused:
        await deny(websocket, 429, refused.message, refused.code, refused.retry_after, refused)
        return
    with reservation:
        try:
            await websocket.accept()
        except (OSError, WebSocketDisconnect):
            return
        channel = ClientChannel(websocket, Role.VIEWER, services.settings.timing.send_timeout_seconds)
        writer = asyncio.create_task(channel.run(), name="class-writer")
        reader = asyncio.create_task(_drain(websocket), name="class-reader")
        try:
            refresh = True  # the first view asks every worker; later ones read what they publish meanwhile
            due = time.monotonic()
            while not (writer.done() or reader.done() or school_class.ended):
                channel.push((encode(await view_of(services, school_class, refresh=refresh)),), "class")
                refresh = False
                now = time.monotonic()
                channel.check(now)
                # every VIEW_SECONDS from the first, however long a view took to build (a busy
                # server's views otherwise came a build's time late, each)
                due = max(due + VIEW_SECONDS, now)
                await asyncio.wait({writer, reader}, timeout=due - now)
            if school_class.ended:
                channel.push((encode({**await view_of(services, school_class), "ended": True}),))
                channel.close(1000, "the class ended")
        finally:
            reader.cancel()
            await finish(channel, writer)


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it leaves: the class socket only talks."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass
