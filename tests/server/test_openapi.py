"""The OpenAPI document tells the truth: every status a route can answer is declared, with
the shape it has (FastAPI's validation shape for 422, `{"detail"}` for the others)."""

from __future__ import annotations

import pytest

from backprop_lab.server.app import create_app

SPEC = create_app().openapi()
OPERATIONS = [(path, method, op) for path, item in SPEC["paths"].items() for method, op in item.items()]


def test_the_rest_paths_of_the_design_are_all_there():
    paths = set(SPEC["paths"])
    for path in ("/api/v1/health", "/api/v1/options", "/api/v1/sessions", "/api/v1/sessions/{session_id}",
                 "/api/v1/sessions/{session_id}/config", "/api/v1/sessions/{session_id}/step",
                 "/api/v1/sessions/{session_id}/reset", "/api/v1/sessions/{session_id}/params",
                 "/api/v1/sessions/{session_id}/dataset", "/api/v1/sessions/{session_id}/gradients",
                 "/api/v1/sessions/{session_id}/trace", "/api/v1/sessions/{session_id}/gradient-check",
                 "/api/v1/datasets"):
        assert path in paths
    assert not any(path.startswith(("/static", "/vendor", "/ws")) or path == "/" for path in paths)


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_each_route_declares_the_refusals_it_can_answer(path, method, operation):
    codes = set(operation["responses"])
    success = {"200", "201", "204"} & codes
    assert len(success) == 1
    if "{session_id}" in path:
        assert "404" in codes
    if operation.get("parameters") or "requestBody" in operation:
        assert "422" in codes
    if "requestBody" in operation:
        assert "413" in codes
    if (method, path) in {("post", "/api/v1/sessions"), ("post", "/api/v1/sessions/{session_id}/step"),
                          ("patch", "/api/v1/sessions/{session_id}/config"), ("post", "/api/v1/datasets"),
                          ("post", "/api/v1/sessions/{session_id}/gradient-check")}:
        assert "429" in codes
    for code in codes - success - {"422"}:
        schema = operation["responses"][code]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorOut"}
    if success != {"204"}:
        ((media, body),) = operation["responses"][success.pop()]["content"].items()
        if media.startswith("text/csv"):  # a run's metrics: a text document
            assert body["schema"] == {"type": "string"}
        elif media == "application/octet-stream":  # weights as .npz or .safetensors
            assert body["schema"] == {"type": "string", "format": "binary"}
        else:
            assert "$ref" in body["schema"]
