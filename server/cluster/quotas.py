"""A student's and an address's shares counted across a cluster's workers, in Redis (docs/deploy.md).

Each worker keeps its own ledger (`backprop_lab.server.classroom.quotas.Ledger`: the server-wide
caps are per worker, as each worker is a server of its own); what a student and an address hold of
the resources in `SHARED` is also counted here, so a student at the session share on worker 1
is refused on worker 2 too. One hash per student and per address and resource,
`lab:quota:student:sessions:{id}` → `{worker: count}`: a field per worker, so a dead worker's
share can be dropped without knowing what it held. Every worker beats in `lab:quota:workers`
(a sorted set: name → the Redis clock's second of its last beat) every `BEAT_SECONDS`; a count
whose worker has not beaten for `STALE_SECONDS` is not counted and is deleted on the next take.
A worker starting under a name forgets what that name held before (a restarted worker holds
nothing yet).

A take is one Lua script, so two workers taking for the same student at the same moment cannot
both get the last place. A give-back is sent without waiting (it is called from synchronous code
on any thread); a take on the same worker waits for the give-backs sent before it, so a student
who closes a session and opens another at once is not refused for the one just closed (on
another worker the give-back may take a moment to be seen).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from backprop_lab.server.classroom.identity import Identity
from backprop_lab.server.classroom.quotas import Ledger, Resource, Share
from backprop_lab.server.cluster.link import ClusterLink, key

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

logger = logging.getLogger("server.cluster")

SHARED = frozenset({Resource.SESSIONS, Resource.SOCKETS})  # what a student holds for long, on any worker
BEAT_SECONDS = 2.0
STALE_SECONDS = 6  # three beats missed: the worker is gone, its counts no longer count
WORKERS = key("quota", "workers")

# KEYS: the student's hash, the address's hash, the workers' beats.
# ARGV: this worker, the student's share, the address's share, STALE_SECONDS.
# Returns {held by the student, held by the address}, before this one.
TAKE = """
local now = tonumber(redis.call('TIME')[1])
local function held(hash)
  local total = 0
  local fields = redis.call('HGETALL', hash)
  for i = 1, #fields, 2 do
    local beat = redis.call('ZSCORE', KEYS[3], fields[i])
    if fields[i] == ARGV[1] or (beat and now - tonumber(beat) <= tonumber(ARGV[4])) then
      total = total + tonumber(fields[i + 1])
    else
      redis.call('HDEL', hash, fields[i])
    end
  end
  return total
end
local student = held(KEYS[1])
local address = held(KEYS[2])
if student >= tonumber(ARGV[2]) or address >= tonumber(ARGV[3]) then
  return {student, address}
end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
return {student, address}
"""
# KEYS: the student's hash, the address's hash. ARGV: this worker.
GIVE_BACK = """
for i = 1, 2 do
  if redis.call('HINCRBY', KEYS[i], ARGV[1], -1) <= 0 then
    redis.call('HDEL', KEYS[i], ARGV[1])
  end
end
"""
# KEYS: the workers' beats. ARGV: this worker.
BEAT = "redis.call('ZADD', KEYS[1], tonumber(redis.call('TIME')[1]), ARGV[1])"


def hashes(resource: Resource, identity: Identity) -> list[str]:
    """The student's and the address's hash for `resource`."""
    return [key("quota", "student", resource.value, identity.id),
            key("quota", "address", resource.value, identity.address)]


class SharedShares:
    """The `Elsewhere` of a cluster worker's ledger: its counts in Redis beside the other workers'."""

    resources = SHARED

    def __init__(self, link: ClusterLink, loop: asyncio.AbstractEventLoop) -> None:
        self.link = link
        self.loop = loop
        self._take: AsyncScript = link.redis.register_script(TAKE)
        self._give_back: AsyncScript = link.redis.register_script(GIVE_BACK)
        self._beat: AsyncScript = link.redis.register_script(BEAT)
        self._sending: set[asyncio.Task[object]] = set()
        self.stopped = False  # the worker is leaving: what it still gives back no longer counts anywhere

    async def take(self, resource: Resource, identity: Identity, share: Share) -> tuple[int, int] | None:
        from redis import RedisError  # the cluster extra

        if self._sending:  # this worker's give-backs land first: a place just freed here is free for this take
            await asyncio.wait(set(self._sending))
        try:
            student, address = await self._take([*hashes(resource, identity), WORKERS],
                                                [self.link.worker, share.student, share.address, STALE_SECONDS])
        except (RedisError, OSError) as error:  # Redis away: this worker's own shares still hold
            logger.warning("shares not counted across workers, Redis is out of reach: %s", error)
            return None
        return int(student), int(address)

    def give_back(self, resource: Resource, identity: Identity) -> None:
        if self.stopped:
            return
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:  # a training thread's release
            on_loop = False
        if on_loop:  # sent now, so a take that follows waits for it
            self._send_give_back(resource, identity)
        else:
            self.loop.call_soon_threadsafe(self._send_give_back, resource, identity)

    def _send_give_back(self, resource: Resource, identity: Identity) -> None:
        task = self.loop.create_task(self._give_back(hashes(resource, identity), [self.link.worker]))
        self._sending.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[object]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("a share given back did not reach Redis: %s", task.exception())

    async def start(self) -> None:
        """Forget what this worker's name held before (a worker that restarted holds nothing), then beat."""
        redis = self.link.redis
        async for name in redis.scan_iter(match=key("quota", "*"), _type="HASH"):  # the hashes, not the beats
            await redis.hdel(name, self.link.worker)
        await self._beat([WORKERS], [self.link.worker])

    async def beat_forever(self) -> None:
        """Say this worker is alive every `BEAT_SECONDS`; a beat that fails is tried again at the next."""
        while True:
            await asyncio.sleep(BEAT_SECONDS)
            try:
                await self._beat([WORKERS], [self.link.worker])
            except Exception as error:  # Redis away for a moment: the counts stay, the next beat may reach it
                logger.warning("the quota beat did not reach Redis: %s", error)

    async def stop(self) -> None:
        """This worker leaves: its counts no longer count anywhere."""
        self.stopped = True
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=1.0)
        with contextlib.suppress(Exception):
            await self.link.redis.zrem(WORKERS, self.link.worker)


async def share_across(ledger: Ledger, link: ClusterLink, running: AsyncExitStack) -> None:
    """Count `ledger`'s shares across the cluster from now on, until `running` closes."""
    shares = SharedShares(link, asyncio.get_running_loop())
    await shares.start()
    ledger.elsewhere = shares
    beating = asyncio.create_task(shares.beat_forever(), name="quota-beat")
    running.push_async_callback(shares.stop)
    running.callback(beating.cancel)
