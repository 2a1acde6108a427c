"""The guided lessons as the pages need them: which lessons there are, in order, and how many
steps each has, read from the lesson files themselves (static/lessons/catalogue.json and one
`{lesson}.json` per lesson, docs/lessons.md), so adding a lesson is adding data and a deep link
`/lessons/{lesson}/{step}` is checked against the same files the page walks; so is a lesson step
the API is given (`lesson_step`: the teacher's class step, a student's progress, a presenter's
`lesson` message), an unknown lesson or a step past its last a 422 naming the field."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from backprop_lab.server.wire.problems import InvalidInput

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class LessonEntry:
    id: str  # the file's name and the address's `{lesson}`
    number: int  # its place in the source article's order (1 … 9), shown beside the title
    steps: int


@cache
def _catalogue(folder: Path, stamp: float) -> tuple[LessonEntry, ...]:
    """The lessons in `folder` (static/lessons), read once per change of catalogue.json."""
    del stamp  # only part of the cache key: an edited catalogue is read again
    order = json.loads((folder / "catalogue.json").read_text(encoding="utf-8"))["lessons"]
    entries = []
    for lesson_id in order:
        lesson = json.loads((folder / f"{lesson_id}.json").read_text(encoding="utf-8"))
        entries.append(LessonEntry(lesson_id, int(lesson["number"]), len(lesson["steps"])))
    return tuple(entries)


def lessons(static: Path) -> tuple[LessonEntry, ...]:
    folder = static / "lessons"
    return _catalogue(folder, (folder / "catalogue.json").stat().st_mtime)


def lesson(static: Path, lesson_id: str) -> LessonEntry | None:
    return next((entry for entry in lessons(static) if entry.id == lesson_id), None)


@dataclass(frozen=True)
class LessonStep:
    """A step of a guided lesson, checked against the lesson files (`lesson_step`)."""

    lesson: str
    step: int

    def view(self) -> dict[str, Any]:
        return {"id": self.lesson, "step": self.step}


def lesson_step(static: Path, lesson_id: str, step: int, lesson_at: Location, step_at: Location) -> LessonStep:
    """Step `step` of lesson `lesson_id`; `lesson_at` and `step_at` locate the two in the request."""
    entry = lesson(static, lesson_id)
    if entry is None:
        known = [other.id for other in lessons(static)]
        raise InvalidInput(lesson_at, f"no lesson {lesson_id[:64]!r}: one of {', '.join(known)}",
                           code="unknown_lesson", params={"lesson": lesson_id[:64]})
    if not 1 <= step <= entry.steps:
        raise InvalidInput(step_at, f"lesson {entry.id!r} has steps 1 to {entry.steps}",
                           code="unknown_step", params={"maximum": entry.steps})
    return LessonStep(entry.id, step)
