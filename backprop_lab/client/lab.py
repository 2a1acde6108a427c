"""`Client`: one connection to a Backprop Lab server and its resources.

Each resource (`sessions`, `analyses`, `datasets`, `runs`, `weights`, `jobs`) is a small class that
takes the client's `Transport` in its constructor and knows its own paths; the client owns the transport and closes it.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

import httpx

from backprop_lab.client.analyses import Analyses
from backprop_lab.client.datasets import Datasets
from backprop_lab.client.jobs import Jobs
from backprop_lab.client.runs import Runs
from backprop_lab.client.sessions import Sessions
from backprop_lab.client.transport import ApiError, Transport
from backprop_lab.client.weights import Weights

DEFAULT_BASE = "http://127.0.0.1:8000"  # where `backprop-lab` listens unless told otherwise


class Client:
    """A Backprop Lab server, as a script or a notebook uses it.

        with Client("http://127.0.0.1:8000") as lab:
            session = lab.sessions.create(dataset="xor", hidden_layers=[4])
            lab.sessions.train(session.id, 2_000)

    `token`: in classroom mode, the teacher key (you are the teacher) or a student's token;
    without one, the client keeps the cookie the server hands out and stays one student.
    `timeout` is per request, in seconds. Refusals raise `ApiError` (`status`, `code`,
    `field`, `params`, `retry_after`)."""

    def __init__(self, base_url: str = DEFAULT_BASE, token: str | None = None, timeout: float = 60.0,
                 transport: Transport | None = None):
        self.transport = transport or Transport(base_url, token=token, timeout=timeout)
        self.sessions = Sessions(self.transport)
        self.analyses = Analyses(self.transport)
        self.datasets = Datasets(self.transport)
        self.jobs = Jobs(self.transport)
        self.runs = Runs(self.transport)
        self.weights = Weights(self.transport)

    def health(self) -> dict[str, Any]:
        """`GET /api/v1/health`: `status`, `version`, `protocol_version` and what runs now."""
        return self.transport.json("GET", "/api/v1/health")

    def options(self) -> dict[str, Any]:
        """`GET /api/v1/options`: every name, range, default and cap a config may use."""
        return self.transport.json("GET", "/api/v1/options")

    def identity(self) -> dict[str, Any]:
        """`GET /api/v1/identity`: `{"classroom", "role", "id"}`, who this client is to the server."""
        return self.transport.json("GET", "/api/v1/identity")

    def wait_until_ready(self, timeout: float = 300.0, interval: float = 0.5) -> dict[str, Any]:
        """Poll health until the server answers 200 (a first start compiles the engine for most
        of a minute and answers 503 `engine_preparing` meanwhile; a server still starting does
        not accept connections yet). Answers the health document; raises `TimeoutError` past
        `timeout` seconds, and `ApiError` for a refusal that waiting cannot cure
        (`engine_failed`)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.health()
            except ApiError as error:
                if error.code != "engine_preparing":
                    raise
                wait = error.retry_after or interval
            except httpx.TransportError:
                wait = interval
            if time.monotonic() + wait > deadline:
                raise TimeoutError(f"the server at {self.transport.base_url} was not ready within {timeout:g} s")
            time.sleep(wait)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
