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


# --- the document reads well for generated clients: names, words, examples -----------------------------------------
FASTAPI_SCHEMAS = {"HTTPValidationError", "ValidationError"}  # FastAPI's own, the same in every app


def _schema(reference: dict) -> dict:
    return SPEC["components"]["schemas"][reference["$ref"].rsplit("/", 1)[-1]]


def _has_example(media: dict) -> bool:
    """An example on the media type, or on the model its schema names (also through `anyOf`, a body
    that may be left out)."""
    if "example" in media or "examples" in media:
        return True
    schema = media.get("schema", {})
    references = [schema] if "$ref" in schema else [part for part in schema.get("anyOf", []) if "$ref" in part]
    return any("examples" in _schema(reference) or "example" in _schema(reference) for reference in references)


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS])
def test_each_operation_has_a_readable_id_a_summary_and_a_description(path, method, operation):
    operation_id = operation.get("operationId", "")
    assert operation_id.isidentifier() and operation_id == operation_id.lower(), operation_id
    assert "api_v1" not in operation_id and not operation_id.endswith(f"_{method}"), "FastAPI's default id"
    assert len(operation_id) <= 32, operation_id
    # FastAPI's default summary is the function's name in title case: one written for readers has more to say
    assert operation["summary"] != operation_id.replace("_", " ").title()
    assert len(operation.get("description", "")) >= 40, "a description that says more than the summary"


def test_operation_ids_are_unique():
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]
    assert sorted(ids) == sorted(set(ids))


BODIES = [(path, method, op) for path, method, op in OPERATIONS if "requestBody" in op]


@pytest.mark.parametrize(("path", "method", "operation"), BODIES, ids=[f"{m} {p}" for p, m, _ in BODIES])
def test_every_request_body_has_an_example(path, method, operation):
    for media in operation["requestBody"]["content"].values():
        assert _has_example(media)


def test_the_models_examples_are_bodies_the_api_accepts():
    from backprop_lab.server.wire import analysis_models, config_models, session_models

    checked = 0
    for module in (config_models, session_models, analysis_models):
        for model in vars(module).values():
            ours = isinstance(model, type) and model.__module__ == module.__name__
            if ours and issubclass(model, config_models._Input):
                extra = model.model_config.get("json_schema_extra")
                for example in extra.get("examples", []) if isinstance(extra, dict) else []:
                    model.model_validate(example)  # raises on an example that would be a 422
                    checked += 1
    assert checked >= 8


def test_every_schema_of_the_wire_says_what_it_is():
    from backprop_lab.server.wire import analysis_models, config_models, error_models, meta_models, session_models

    wire = {name for module in (analysis_models, config_models, error_models, meta_models, session_models)
            for name, value in vars(module).items() if isinstance(value, type) and value.__module__ == module.__name__}
    undescribed = {name for name, schema in SPEC["components"]["schemas"].items()
                   if name in wire and not schema.get("description")}
    assert not undescribed
    assert wire & set(SPEC["components"]["schemas"]) >= {"ConfigIn", "SessionOut", "SurfaceOut", "HealthOut"}


def test_the_examples_routes_give_their_bodies_are_bodies_the_api_accepts():
    """The examples a decorator writes into the document (`openapi_extra`) validate against the
    route's own body model, so a script copying one from /docs gets no 422 from its shape."""
    import importlib
    import pkgutil

    from fastapi.routing import APIRoute
    from pydantic import TypeAdapter

    from backprop_lab.server import routes

    checked = 0
    for module_info in pkgutil.iter_modules(routes.__path__):
        router = getattr(importlib.import_module(f"{routes.__name__}.{module_info.name}"), "router", None)
        for route in getattr(router, "routes", []):
            content = (getattr(route, "openapi_extra", None) or {}).get("requestBody", {}).get("content", {})
            if isinstance(route, APIRoute) and "application/json" in content:
                assert route.body_field is not None
                body = TypeAdapter(route.body_field.field_info.annotation)
                body.validate_python(content["application/json"]["example"])
                checked += 1
    assert checked >= 1  # PUT …/params writes its example on the route; the other bodies' examples are their models'
