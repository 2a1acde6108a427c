"""Uploading a CSV as a data set (docs/api.md, "Uploading a CSV"): its id then works as
`dataset` in a config, for a session or an analysis."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backprop_lab.client.transport import Transport


@dataclass(frozen=True)
class Upload:
    """An uploaded table: `id` (use it as `dataset`), the input columns (`features`), the
    `target` column, and the engine's decision, classification (`classes`, `class_names`) or
    `regression`. `raw` keeps the whole answer."""

    id: str
    name: str
    features: list[str]
    target: str
    regression: bool
    classes: int | None
    class_names: list[str] | None
    rows: int
    raw: dict[str, Any]


class Datasets:
    """The `/api/v1/datasets` resource. A bad file is an `ApiError` 422 at `file` whose `code`
    (`not_a_number`, `too_many_rows`, …) and `params` (`row`, `column`, …) say where."""

    def __init__(self, transport: Transport):
        self.transport = transport

    def upload(self, csv: str | bytes | Path, name: str | None = None) -> Upload:
        """Upload a CSV: a header line, numeric input columns, the target in the last column.
        `csv` is the file's text or bytes, or a path to read (its name is the upload's, unless
        `name` gives one)."""
        if isinstance(csv, Path):
            name = name or csv.name
            csv = csv.read_bytes()
        data = csv.encode() if isinstance(csv, str) else csv
        files = {"file": (name or "upload.csv", data, "text/csv")}
        body = self.transport.json("POST", "/api/v1/datasets", files=files)
        return Upload(body["id"], body["name"], body["features"], body["target"], body["regression"], body["classes"],
                      body.get("class_names"), body["rows"], body)
