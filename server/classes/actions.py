"""What the class's routes ask of the class: open, join, change, pause, push a config, report,
end, and the view (docs/api.md, "Classes").

`ClassActions` is the single process: the registry and this server's live sessions. A worker of
a cluster uses `backprop_lab.server.cluster.classes.SharedClasses`, the same interface, which
also keeps the class in Redis and reaches the students on every worker (docs/classroom.md).
"""

from __future__ import annotations

from typing import Any

from backprop_lab.server.classes import class_codes, control
from backprop_lab.server.classes.registry import ClassRegistry, Member, SchoolClass
from backprop_lab.server.classes.view import ClassViewer
from backprop_lab.server.classroom.identity import Identity
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.web.lessons import LessonStep
from backprop_lab.server.wire.config_models import ConfigIn

JSON = dict[str, Any]


class ClassActions:
    """The class of a single process (`SharedClasses` overrides each for a cluster's worker)."""

    def __init__(self, registry: ClassRegistry, manager: SessionManager, viewer: ClassViewer) -> None:
        self.registry = registry
        self.manager = manager
        self.viewer = viewer

    async def open(self) -> tuple[SchoolClass, bool]:
        """(the open class, whether it was opened now)."""
        return await class_codes.open_class(self.registry, self.manager.shares.directory, self.manager.settings.worker)

    async def join(self, code: str, identity: Identity, name: str) -> tuple[SchoolClass, Member]:
        school_class, member = self.registry.join(code, identity, name)
        await control.joined(self.manager, school_class, identity.id)
        return school_class, member

    async def changed(self, school_class: SchoolClass) -> None:
        """The teacher changed the class's settings (anonymity, challenge, lesson step) here."""

    async def set_paused(self, school_class: SchoolClass, paused: bool) -> None:
        await control.set_paused(self.manager, self.registry, school_class, paused)

    async def push_config(self, school_class: SchoolClass, changes: ConfigIn) -> JSON:
        return await control.push_config(self.manager, school_class, changes)

    async def report(self, identity_id: str, step: LessonStep, done: bool) -> None:
        self.registry.report(identity_id, step, done)

    async def end(self, school_class: SchoolClass) -> None:
        class_codes.end_class(self.registry, self.manager.shares.directory, school_class)

    async def view(self, school_class: SchoolClass, join_url: str, *, refresh: bool = True) -> JSON:
        """The class view. `refresh` false: the class socket's periodic view, which may use cards
        other workers published a moment ago instead of asking them now."""
        return self.viewer.view(school_class, join_url)
