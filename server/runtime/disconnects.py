"""Work done for an HTTP request stops when its client has gone.

A sweep, a range test or a loss surface may compute for seconds. A client that gives up
meanwhile (a closed tab, a script's timeout) will read no answer, and the work would only hold
a slot someone else is waiting for. `while_connected` awaits the work and, beside it, the
request's next ASGI message: once the body has been read, the only message that can come is
`http.disconnect`. If it comes first, the work's task is cancelled and awaited — each kind of
work stops at its next chance and frees its slot as it unwinds (`server.analyses.rate_experiments.until_ended`,
`backprop_lab.server.analyses.loss_surfaces.SurfaceWorkers.compute`) — and `ClientGone` ends the request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from fastapi import HTTPException, Request

T = TypeVar("T")
CLIENT_CLOSED_REQUEST = 499  # the client left before the answer (nginx's code; nobody receives it)


class ClientGone(HTTPException):
    def __init__(self) -> None:
        super().__init__(CLIENT_CLOSED_REQUEST, "the client closed the connection before the answer")


async def while_connected(request: Request, work: Awaitable[T]) -> T:
    """`work`'s result, or `ClientGone` once it has stopped because the client left first."""
    task = asyncio.ensure_future(work)
    gone = asyncio.create_task(_disconnected(request), name="client-watch")
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        task.cancel()
        await asyncio.wait({task})  # the work stops and frees its slot
        if not task.cancelled():
            task.exception()  # however it ended, nobody is left to hear it
        raise ClientGone()
    finally:
        gone.cancel()
        task.cancel()  # (done already, unless this request itself was cancelled: then it stops too)


async def _disconnected(request: Request) -> None:
    """Returns when the client has gone (the request's body has been read before)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
