"""Saved runs from a script (docs/api.md, "Saved runs"): save a session, list and search,
read, tag and annotate, delete, export and import, resume, compare, and download weights.

    runs = Runs(transport)
    run = runs.save(session_id, "xor, lr 0.1", tags=["sweep"])
    good = runs.search(tags=["sweep"], dataset="xor", learning_rate=(0.01, 0.3), test_loss=(None, 0.2))
    curves = runs.compare(good[0]["id"], good[1]["id"])

Searching: `tags` must all be on a run; a text field (`dataset`, `activation`, `loss`,
`optimizer`, `regularization`, `init`) takes a value or a list (any of them); a number field
(any hyperparameter, `hidden_layers`, `neurons`, `step`, `epoch`, `parameters`, and the metrics
at the saved step such as `test_loss`) takes a `(low, high)` range, either end None (open).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from backprop_lab.client.transport import Transport
from backprop_lab.client.weights import Tensors, WeightFormat, Weights

JSON = dict[str, Any]
Range = tuple[float | None, float | None]
PAGE = 200  # runs asked for per page when `search` walks every page (the server's most)


def query(offset: int | None = None, limit: int | None = None, tags: Iterable[str] = (),
          **filters: str | Iterable[str] | Range) -> dict[str, Any]:
    """The query parameters of `GET /api/v1/runs` for these filters: a range `(low, high)` becomes
    `<field>_min` and `<field>_max`, a list a repeated parameter. The server refuses (422) a field
    it does not know, so a misspelt filter is an `ApiError`, never a filter silently ignored."""
    params: dict[str, Any] = {}
    if offset is not None:
        params["offset"] = offset
    if limit is not None:
        params["limit"] = limit
    if tags:
        params["tag"] = list(tags)
    for name, value in filters.items():
        if isinstance(value, tuple):
            low, high = value
            if low is not None:
                params[f"{name}_min"] = low
            if high is not None:
                params[f"{name}_max"] = high
        elif isinstance(value, str):
            params[name] = value
        else:
            params[name] = list(value)
    return params


class Runs:
    """The saved-runs resource. Every method raises `ApiError` for a refusal (404 an unknown or
    another student's run, 422 naming the field, 429 a share of the store)."""

    def __init__(self, transport: Transport):
        self._transport = transport
        self._weights = Weights(transport)

    def save(self, session_id: str, name: str, tags: Iterable[str] = (), note: str = "") -> JSON:
        """Save a session as a run (config, history, snapshots, the state to resume): its summary."""
        body = {"session_id": session_id, "name": name, "tags": list(tags), "note": note}
        return self._transport.json("POST", "/api/v1/runs", json=body)

    def list(self, offset: int = 0, limit: int = 50, tags: Iterable[str] = (),
             **filters: str | Iterable[str] | Range) -> JSON:
        """One page, newest first: `{"runs", "total", "offset", "limit"}`."""
        return self._transport.json("GET", "/api/v1/runs", params=query(offset, limit, tags, **filters))

    def search(self, tags: Iterable[str] = (), **filters: str | Iterable[str] | Range) -> builtins.list[JSON]:
        """Every matching run (all pages), newest first."""
        return list(self.iterate(tags, **filters))

    def iterate(self, tags: Iterable[str] = (), **filters: str | Iterable[str] | Range) -> Iterator[JSON]:
        tags = list(tags)
        offset = 0
        while True:
            page = self.list(offset, PAGE, tags, **filters)
            yield from page["runs"]
            offset += len(page["runs"])
            if not page["runs"] or offset >= page["total"]:
                return

    def get(self, run_id: str) -> JSON:
        """The run with its history (`[{"step", "train_loss", …}]`) and snapshots."""
        return self._transport.json("GET", f"/api/v1/runs/{run_id}")

    def update(self, run_id: str, *, name: str | None = None, tags: Iterable[str] | None = None,
               note: str | None = None, published: bool | None = None) -> JSON:
        """Change only what is given: `tags` replaces the run's tags; `published` is the teacher's."""
        body: JSON = {}
        if name is not None:
            body["name"] = name
        if tags is not None:
            body["tags"] = list(tags)
        if note is not None:
            body["note"] = note
        if published is not None:
            body["published"] = published
        return self._transport.json("PATCH", f"/api/v1/runs/{run_id}", json=body)

    def delete(self, run_id: str) -> None:
        self._transport.request("DELETE", f"/api/v1/runs/{run_id}")

    def export(self, run_id: str, path: str | Path | None = None) -> JSON:
        """The export document (format 2); written to `path` as well when given."""
        response = self._transport.request("GET", f"/api/v1/runs/{run_id}/export")
        if path is not None:
            Path(path).write_bytes(response.content)
        return response.json()

    def import_document(self, document: JSON | str | Path) -> JSON:
        """Import an export document (a dict, or the path of a file an export wrote): a new run."""
        if isinstance(document, str | Path):
            document = json.loads(Path(document).read_text(encoding="utf-8"))
        return self._transport.json("POST", "/api/v1/runs/import", json=document)

    def resume(self, run_id: str) -> JSON:
        """Open a live session at the run's step, with its weights, optimiser state and data
        order (training on gives the same weights the original would have): the session."""
        return self._transport.json("POST", f"/api/v1/runs/{run_id}/session")

    def compare(self, *run_ids: str) -> JSON:
        """2 to 8 runs: `{"runs", "steps", "curves", "differences", "same"}`, each curve's values
        aligned to `steps` (None where that run recorded nothing)."""
        return self._transport.json("GET", "/api/v1/runs/compare", params={"ids": list(run_ids)})

    def metrics_csv(self, run_id: str) -> str:
        return self._transport.request("GET", f"/api/v1/runs/{run_id}/metrics.csv").text

    def weights(self, run_id: str, fmt: WeightFormat = "npz") -> Tensors:
        """The weights at the run's step, PyTorch's layout (`backprop_lab.client.weights`)."""
        return self._weights.run(run_id, fmt)
