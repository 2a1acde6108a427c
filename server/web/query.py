"""Unknown query parameters are refused: `GET /api/v1/runs?tag=x` on a server that had no `tag`
filter once answered every run, and the script never knew its filter was ignored. A route (or a
router) that lists `Depends(known_query)` answers 422 naming the first parameter it does not
declare, and lists the ones it does, in FastAPI's error shape (`loc: ["query", name]`, code
`unknown_parameter`).

The names a route declares are read from the route FastAPI matched (`scope["route"]`): its query
parameters and its dependencies', a query model's fields (`Annotated[Model, Query()]`) by alias.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from backprop_lab.server.wire.problems import InvalidInput


def declared_query(dependant: Dependant) -> set[str]:
    """Every query parameter name `dependant` and its sub-dependencies declare."""
    names: set[str] = set()
    for param in dependant.query_params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= {field.alias or name for name, field in annotation.model_fields.items()}
        else:
            names.add(param.alias)
    for sub in dependant.dependencies:
        names |= declared_query(sub)
    return names


def known_query(request: Request) -> None:
    """422 for the first query parameter the matched route does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = declared_query(route.dependant)
    for name in request.query_params:
        if name not in known:
            shown = name[:60]
            allowed = ", ".join(sorted(known)) or "none"
            raise InvalidInput(("query", shown), f"{shown}: not a query parameter of this route (it takes: {allowed})",
                               "extra_forbidden", code="unknown_parameter",
                               params={"name": shown, "allowed": sorted(known)})
