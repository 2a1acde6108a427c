"""A class's code in the directory every code lives in (`share_codes.CodeDirectory`): taken when
the class opens, so no share code or other class has it; freed when the class ends. In a cluster
the directory is Redis (`lab:classcode:{CODE}` → the worker the class was opened on)."""

from __future__ import annotations

from backprop_lab.server.classes.registry import ClassRegistry, SchoolClass
from backprop_lab.server.live.share_codes import CLASS, CodeDirectory, claim_new


async def open_class(registry: ClassRegistry, directory: CodeDirectory, worker: str) -> tuple[SchoolClass, bool]:
    """(the open class, whether it was opened now), its code taken in the directory."""
    if registry.current is not None:
        return registry.current, False
    code = await claim_new(directory, CLASS, worker)
    school_class, opened = registry.open(code)
    if not opened:  # another request opened it while this one took a code
        directory.release(CLASS, code)
    return school_class, opened


def end_class(registry: ClassRegistry, directory: CodeDirectory, school_class: SchoolClass) -> None:
    registry.end(school_class)
    directory.release(CLASS, school_class.code)
