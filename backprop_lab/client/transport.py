"""The one place the client speaks HTTP: a base URL, an optional bearer token, and every refusal
turned into an `ApiError` carrying the server's `code`, `field`, `params` and `Retry-After`
(docs/api.md, "Errors")."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx


class ApiError(Exception):
    """A refusal from the server: its HTTP status, the stable `code` (e.g. `too_many_neurons`,
    `greater_than`, `engine_preparing`), the request `field` it names (dotted, without "body":
    `hidden_layers`, `layers.0.weights`), its `params` (the numbers and names of the problem:
    `maximum`, `value`, …) and, for 429 and 503, the seconds after which trying again has a
    chance. A 422 may name several problems: `problems` has each one's `{"loc", "msg", "code",
    "field", "params"}`, the first of them is the error's own (docs/api.md, "Errors")."""

    def __init__(
        self,
        status: int,
        detail: str,
        code: str | None = None,
        field: str | None = None,
        params: dict[str, Any] | None = None,
        retry_after: float | None = None,
        problems: list[dict[str, Any]] | None = None,
    ):
        super().__init__(f"{status} {code or ''}: {detail}".replace(" :", ":"))
        self.status = status
        self.detail = detail
        self.code = code
        self.field = field
        self.params = dict(params or {})
        self.retry_after = retry_after
        self.problems = list(problems or [])


def _error_of(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text}
    if not isinstance(body, dict):
        body = {"detail": body}
    detail = body.get("detail")
    retry_after = response.headers.get("Retry-After")
    seconds = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None
    if isinstance(detail, list):  # a 422: [{loc, msg, type, code, field, params}, …]
        first = detail[0] if detail and isinstance(detail[0], dict) else {}
        location = [str(part) for part in first.get("loc", [])[1:]]  # without "body", "query", "path"
        return ApiError(
            response.status_code,
            str(first.get("msg", detail)),
            code=first.get("code") or first.get("type"),
            field=first.get("field") or ".".join(location) or None,
            params=first.get("params") or first.get("ctx"),
            retry_after=seconds,
            problems=[item for item in detail if isinstance(item, dict)],
        )
    return ApiError(
        response.status_code,
        str(detail if detail is not None else body),
        code=body.get("code"),
        field=body.get("field") or None,
        params=body.get("params"),
        retry_after=seconds,
    )


class Transport:
    """httpx underneath, one connection pool per client. `request` returns the response of a 2xx
    answer and raises `ApiError` for anything else; `json` returns the decoded body.

    Without a token, the httpx client keeps the cookies the server sets: in classroom mode a
    script is then one student from request to request, as a browser is (docs/api.md,
    "Classroom mode"); with the teacher key as `token` it is the teacher."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0,
                 http: httpx.Client | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self.http = http or httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                content: bytes | None = None, files: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
        response = self.http.request(method, path, json=json, params=params, content=content, files=files,
                                     headers=headers)
        if response.is_error:
            raise _error_of(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        return response.json() if response.content else None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
