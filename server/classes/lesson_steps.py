"""A lesson step the class API names (the teacher's `lesson`, a student's progress report),
checked against the lesson files the pages walk (`server.web.lessons`): an unknown lesson or a
step past its last is a 422 naming the field."""

from __future__ import annotations

from pathlib import Path

from backprop_lab.server.classes.registry import LessonStep
from backprop_lab.server.web.lessons import lesson, lessons
from backprop_lab.server.wire.problems import InvalidInput

Location = tuple[str | int, ...]


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
