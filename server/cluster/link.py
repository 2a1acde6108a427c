"""A worker's link to Redis, the one place the workers of a cluster share what is not a saved run.

Every key the lab writes starts with `PREFIX`, so a Redis that serves other programs too keeps
them apart; `key("codes", code)` spells one. The client is redis-py's asyncio client (the
`cluster` extra), created once per worker and closed with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

PREFIX = "lab"


def key(*parts: str) -> str:
    """'lab:codes:KXM47P': a Redis key of the lab's."""
    return ":".join((PREFIX, *parts))


@dataclass
class ClusterLink:
    worker: str  # this worker's name, the prefix of the session ids it makes
    redis: Redis

    @classmethod
    def connect(cls, worker: str, url: str) -> ClusterLink:
        from redis.asyncio import Redis  # the cluster extra: a single process never imports it

        return cls(worker, Redis.from_url(url))

    async def close(self) -> None:
        await self.redis.aclose()
