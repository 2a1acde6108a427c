"""What a student's own pages hear of their class: the `class` message on their sessions' control
sockets (docs/protocol.md, "The class"), after `hello` and whenever it changes. Viewers of a
student's shared session never hear it (it carries the student's name)."""

from __future__ import annotations

from typing import Any

from backprop_lab.server.classes.registry import ClassRegistry, SchoolClass
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.live.session import Session
from backprop_lab.server.runtime.fanout import ClientChannel
from backprop_lab.server.wire.protocol import encode

JSON = dict[str, Any]


def student_message(school_class: SchoolClass, identity_id: str) -> JSON:
    """The `class` message a student's own session socket gets."""
    member = school_class.member(identity_id)
    return {"type": "class", "code": school_class.code, "spoken": school_class.spoken,
            "name": member.name if member is not None else None,
            "paused": school_class.paused,
            "challenge": school_class.challenge.view() if school_class.challenge is not None else None,
            "lesson": school_class.lesson.view() if school_class.lesson is not None else None,
            "ended": school_class.ended}


def greet(registry: ClassRegistry, session: Session, channel: ClientChannel) -> None:
    """A control socket just greeted hears its owner's class, if the owner is in one (a channel
    that closed meanwhile drops it)."""
    school_class = registry.class_of(session.owner)
    if school_class is not None:
        channel.push((encode(student_message(school_class, session.owner)),))


def tell(manager: SessionManager, school_class: SchoolClass, identity_ids: list[str]) -> None:
    """What the students' pages show of the class changed: each of their control sockets hears it
    (`ClassRegistry.on_change`)."""
    concerned = set(identity_ids)
    for session in manager.sessions():
        if session.owner in concerned:
            session.hub.tell_controls((encode(student_message(school_class, session.owner)),))
