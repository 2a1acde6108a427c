"""A class's code in the directory every code lives in (`share_codes.CodeDirectory`): taken when
the class opens, so no share code or other class has it; freed when the class ends. In a cluster
the directory is Redis (`lab:classcode:{CODE}` → the name of the worker the class was opened on);
every worker holds the class itself (`backprop_lab.server.cluster.classes`)."""

from __future__ import annotations

from backprop_lab.server.classes.registry import ClassRegistry, SchoolClass
from backprop_lab.server.live.share_codes import CLASS, CodeDirectory, claim_new


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
