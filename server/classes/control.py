"""The teacher's controls over the whole class (docs/api.md, "Classes"): pause and resume
every student's training, push a config to every student's sessions.

Each acts on every live session of every member, through the same paths the student's own
page uses (`Session.pause`, `SessionManager.configure`), so the students' pages hear it through
their usual messages (`state`, `config`) and their `class` message.
"""

from __future__ import annotations

import asyncio
from typing import Any

from backprop_lab.server.classes.registry import ClassRegistry, SchoolClass
from backprop_lab.server.classes.view import sessions_of
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.live.session import Session
from backprop_lab.server.wire.config_models import ConfigIn
from backprop_lab.server.wire.problems import CapReached, InvalidInput, NotFound

JSON = dict[str, Any]


async def set_paused(manager: SessionManager, registry: ClassRegistry, school_class: SchoolClass,
                     paused: bool) -> None:
    """Pause (every student's training stops, and none may start again until resumed) or resume
    (training may start again; nothing plays by itself)."""
    registry.set_paused(school_class, paused)  # from now on, play and step are refused
    if paused:
        await _pause([session for mine in sessions_of(manager, school_class).values() for session in mine])


async def joined(manager: SessionManager, school_class: SchoolClass, identity_id: str) -> None:
    """A student who joins a paused class stops training too."""
    if school_class.paused:
        await _pause(sessions_of(manager, school_class)[identity_id])


async def _pause(sessions: list[Session]) -> None:
    """Pause every session (one that ended meanwhile is left as it is)."""
    await asyncio.gather(*(session.run(session.pause) for session in sessions), return_exceptions=True)


async def push_config(manager: SessionManager, school_class: SchoolClass, changes: ConfigIn) -> JSON:
    """Configure every student's sessions as if each student had changed it: `{"applied": n,
    "refused": [{"student": key, "detail", "code", "field", "params"}]}` (a session whose config
    cannot take the change: why, in English and as the words a page translates)."""
    refused: list[JSON] = []

    async def configure(key: str, session: Session) -> int:
        try:
            await manager.configure(session, changes)
        except (InvalidInput, CapReached) as problem:
            refused.append({"student": key, "detail": problem.message, "code": problem.code, "field": problem.field,
                            "params": problem.params})
            return 0
        except NotFound:  # it ended meanwhile
            return 0
        return 1

    members = school_class.members
    applied = await asyncio.gather(*(configure(members[owner].key, session)
                                     for owner, mine in sessions_of(manager, school_class).items()
                                     for session in mine))
    return {"applied": sum(applied), "refused": refused}

