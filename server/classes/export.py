"""The teacher's export of the class: one CSV row per student, their name and their shown
session's config, metrics and badge, and whether they met the class's lesson step's task
(docs/api.md, "Classes").

The names are the only text a student typed, and a spreadsheet runs a cell that starts with
`=`, `+`, `-` or `@` as a formula: such a cell is written with a leading apostrophe, which
spreadsheets show as text (OWASP's advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from backprop_lab.server.classes.registry import SchoolClass

JSON = dict[str, Any]
COLUMNS = ("name", "step", "dataset", "hidden_layers", "activation", "learning_rate", "batch_size", "optimizer",
           "regularization", "regularization_rate", "train_loss", "test_loss", "test_accuracy", "badge",
           "reached_challenge", "task_done")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """A value as a CSV cell: text that a spreadsheet would run as a formula made inert."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def class_csv(school_class: SchoolClass, view: JSON) -> str:
    """The CSV of `view` (the class view), with every student's name (even while anonymous:
    the export is the teacher's)."""
    names = {member.key: member.name for member in school_class.members.values()}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for student in view["students"]:
        session = student["session"] or {}
        config, metrics = session.get("config", {}), session.get("metrics", {})
        hidden = config.get("hidden_layers")
        row = {
            "name": names.get(student["key"], ""), "step": session.get("step"),
            **{name: config.get(name) for name in ("dataset", "activation", "learning_rate", "batch_size",
                                                    "optimizer", "regularization", "regularization_rate")},
            "hidden_layers": None if hidden is None else " ".join(str(size) for size in hidden),
            **{name: metrics.get(name) for name in ("train_loss", "test_loss", "test_accuracy")},
            "badge": session.get("badge", "idle"), "reached_challenge": session.get("reached_challenge", False),
            "task_done": student["task_done"],
        }
        writer.writerow([cell(row[name]) for name in COLUMNS])
    return out.getvalue()
