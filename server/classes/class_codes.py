"""A class's code in the directory every code lives in (`share_codes.CodeDirectory`): taken when
the class opens, so no share code or other worker's class has it; freed when the class ends. In
a cluster the directory is Redis (`lab:classcode:{CODE}` → the worker holding the class), so a
student whose join lands on another worker hears where the class is."""

from __future__ import annotations

from backprop_lab.server.classes.registry import SchoolClass
from backprop_lab.server.deps import Services
from backprop_lab.server.live.share_codes import CLASS, claim_new, normalise
from backprop_lab.server.wire.problems import Conflict, NotFound


async def open_class(services: Services) -> tuple[SchoolClass, bool]:
    """(the open class, whether it was opened now), its code taken in the directory."""
    classes, directory = services.classes, services.manager.shares.directory
    if classes.current is not None:
        return classes.current, False
    code = await claim_new(directory, CLASS, services.settings.worker or "")
    school_class, opened = classes.open(code)
    if not opened:  # another request opened it while this one took a code
        directory.release(CLASS, code)
    return school_class, opened


def end_class(services: Services, school_class: SchoolClass) -> None:
    services.classes.end(school_class)
    services.manager.shares.directory.release(CLASS, school_class.code)


async def where(services: Services, text: str, unknown: NotFound) -> NotFound | Conflict:
    """Why `text` names no class here: `unknown`, or (a cluster) the 409 `class_elsewhere` naming
    the worker that holds it."""
    code = normalise(text)
    worker = await services.manager.shares.directory.find(CLASS, code) if code is not None else None
    if services.relay is None or not worker or worker == services.settings.worker:
        return unknown
    return Conflict(f"class {text[:32]!r} is held by worker {worker} of this cluster, not this one",
                    "class_elsewhere")
