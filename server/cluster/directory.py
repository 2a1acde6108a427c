"""The codes of a cluster, in Redis: share codes and class codes that every worker sees.

A code is a key, `lab:{kind}:{CODE}` (`link.key`), taken with `SET NX`: of two workers drawing
the same code at the same moment exactly one gets it, the other draws again
(`share_codes.claim_new`). A share code's value is JSON, `{"session": id, "worker": name}`
(`share_value`); a class code's is the worker's name. A code is deleted when its session or
class ends; the delete runs as a task of its own, so ending a session never waits on Redis.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from backprop_lab.server.cluster.link import ClusterLink, key

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Elsewhere:
    """A shared session another worker holds: its id and that worker's name."""

    session_id: str
    worker: str


def share_value(session_id: str, worker: str) -> str:
    return json.dumps({"session": session_id, "worker": worker})


def shared_at(value: str) -> Elsewhere:
    entry = json.loads(value)
    return Elsewhere(entry["session"], entry["worker"])


class RedisDirectory:
    """`share_codes.CodeDirectory` in the cluster's Redis."""

    def __init__(self, link: ClusterLink) -> None:
        self._redis = link.redis
        self._deletes: set[asyncio.Task[None]] = set()

    async def claim(self, kind: str, code: str, value: str) -> bool:
        return bool(await self._redis.set(key(kind, code), value, nx=True))

    async def find(self, kind: str, code: str) -> str | None:
        value = await self._redis.get(key(kind, code))
        return None if value is None else value.decode() if isinstance(value, bytes) else value

    def release(self, kind: str, code: str) -> None:
        task = asyncio.get_running_loop().create_task(self._delete(key(kind, code)))
        self._deletes.add(task)
        task.add_done_callback(self._deletes.discard)

    async def _delete(self, name: str) -> None:
        try:
            await self._redis.delete(name)
        except Exception:  # Redis went away: the code stays taken, which costs one draw of 47 million
            logger.warning("could not free the code %s in Redis", name, exc_info=True)
