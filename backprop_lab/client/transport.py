"""The one place the client speaks HTTP: a base URL, an optional bearer token, and every refusal
turned into an `ApiError` carrying the server's `code`, `field`, `params` and `Retry-After`
(docs/api.md, "Errors")."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx


class ApiError(Exception):
    """A refusal from the server: its HTTP status, the stable `code` (e.g. `too_many_neurons`),
    the request `field` it names, its `params` (what would fit) and, for 429 and 503, the seconds
    after which trying again has a chance."""

    def __init__(
        self,
        status: int,
        detail: str,
        code: str | None = None,
        field: str | None = None,
        params: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(f"{status} {code or ''}: {detail}".replace(" :", ":"))
        self.status = status
        self.detail = detail
        self.code = code
        self.field = field
        self.params = dict(params or {})
        self.retry_after = retry_after


def _error_of(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text}
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # a 422 from validation: [{loc, msg, type, …}, …]
        first = detail[0] if detail else {}
        location = [part for part in first.get("loc", []) if part not in ("body", "query", "path")]
        return ApiError(response.status_code, str(first.get("msg", detail)), code=first.get("type"),
                        field=".".join(str(part) for part in location) or None, params=first.get("ctx"))
    retry_after = response.headers.get("Retry-After")
    return ApiError(
        response.status_code,
        str(detail if detail is not None else body),
        code=body.get("code") if isinstance(body, dict) else None,
        field=body.get("field") if isinstance(body, dict) else None,
        params=body.get("params") if isinstance(body, dict) else None,
        retry_after=float(retry_after) if retry_after else None,
    )


class Transport:
    """httpx underneath, one connection pool per client. `request` returns the response of a 2xx
    answer and raises `ApiError` for anything else; `json` returns the decoded body."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0,
                 http: httpx.Client | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self.http = http or httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                content: bytes | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        response = self.http.request(method, path, json=json, params=params, content=content, headers=headers)
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
