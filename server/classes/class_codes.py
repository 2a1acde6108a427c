"""A class's code in the directory every code lives in (`share_codes.CodeDirectory`): taken when
the class opens, so no other worker's class has it; freed when the class ends. In a cluster the
directory is Redis (`lab:classcode:{CODE}` → the name of the worker holding the class), so a
student whose join lands on another worker hears where the class is."""

from __future__ import annotations

from backprop_lab.server.classes.registry import ClassRegistry, SchoolClass
from backprop_lab.server.live.share_codes import CLASS, CodeDirectory, claim_new, normalise
from backprop_lab.server.wire.problems import Conflict, NotFound


async def open_class(classes: ClassRegistry, directory: CodeDirectory, worker: str | None) -> tuple[SchoolClass, bool]:
    """(the open class, whether it was opened now), its code taken in `directory` for `worker`
    (this process's name in a cluster)."""
    if classes.current is not None:
        return classes.current, False
    code = await claim_new(directory, CLASS, worker or "")
    school_class, opened = classes.open(code)
    if not opened:  # another request opened it while this one took a code
        directory.release(CLASS, code)
    return school_class, opened


def end_class(classes: ClassRegistry, directory: CodeDirectory, school_class: SchoolClass) -> None:
    classes.end(school_class)
    directory.release(CLASS, school_class.code)


async def where(directory: CodeDirectory, worker: str | None, text: str, unknown: NotFound) -> NotFound | Conflict:
    """Why `text` names no class on this worker (`worker`; None: a single process): `unknown`,
    or the 409 `class_elsewhere` naming the worker of the cluster that holds it."""
    code = normalise(text)
    holder = await directory.find(CLASS, code) if worker is not None and code is not None else None
    if not holder or holder == worker:
        return unknown
    return Conflict(f"class {text[:32]!r} is held by worker {holder} of this cluster, not this one",
                    "class_elsewhere")
