"""Shares counted across workers (backprop_lab.server.cluster.quotas), two workers' ledgers on one
real Redis: a student full on one worker is full on the other, a share given back on one frees
a place on the other, and a dead worker's (or a restarted one's) counts stop counting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from backprop_lab.server.classroom.identity import Identity, Role
from backprop_lab.server.classroom.quotas import Ledger, Quotas, Resource, Share
from backprop_lab.server.cluster.link import ClusterLink
from backprop_lab.server.cluster.quotas import STALE_SECONDS, WORKERS, SharedShares
from backprop_lab.server.wire.problems import CapReached

pytestmark = pytest.mark.anyio
QUOTAS = Quotas(sessions=Share(2, 3), sockets=Share(3, 5))
TOTALS = dict.fromkeys(Resource, 100)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def student(name: str, address: str = "10.1.1.1") -> Identity:
    return Identity(f"s_{name}", Role.STUDENT, address)


async def worker(name: str, redis_url: str) -> tuple[Ledger, SharedShares]:
    ledger = Ledger(QUOTAS, TOTALS, enforce_shares=True)
    shares = SharedShares(ClusterLink(name, Redis.from_url(redis_url)), asyncio.get_running_loop())
    ledger.elsewhere = shares
    return ledger, shares


@pytest.fixture
async def pair(redis_url: str) -> AsyncIterator[tuple[Ledger, Ledger, SharedShares, SharedShares]]:
    first, second = await worker("w1", redis_url), await worker("w2", redis_url)
    await first[1].link.redis.flushdb()  # the module's Redis: what another test left
    await first[1].start()
    await second[1].start()
    yield first[0], second[0], first[1], second[1]
    for _, shares in (first, second):
        await shares.stop()
        await shares.link.close()


async def claim(ledger: Ledger, resource: Resource, identity: Identity):  # type: ignore[no-untyped-def]
    held = ledger.claim(resource, identity)
    await ledger.count_elsewhere(held)
    return held


async def refused(ledger: Ledger, resource: Resource, identity: Identity) -> CapReached:
    with pytest.raises(CapReached) as caught:
        await claim(ledger, resource, identity)
    return caught.value


async def until_free(ledger: Ledger, resource: Resource, identity: Identity, seconds: float = 5.0):  # type: ignore[no-untyped-def]
    """A give-back reaches Redis a moment after it is made: try until it has."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return await claim(ledger, resource, identity)
        except CapReached:
            assert time.monotonic() < deadline, "the place given back never came free"
            await asyncio.sleep(0.02)


async def test_a_student_full_on_one_worker_is_refused_on_the_other_and_the_refusal_holds_nothing(pair):
    w1, w2, _, _ = pair
    alice = student("alice")
    held = [await claim(w1, Resource.SESSIONS, alice) for _ in range(2)]
    problem = await refused(w2, Resource.SESSIONS, alice)
    assert (problem.code, problem.retry_after) == ("student_quota", 30)
    assert "you already hold 2 sessions" in problem.message
    assert w2.in_use(Resource.SESSIONS) == 0  # the local claim went back with the refusal
    assert (await claim(w2, Resource.SESSIONS, student("bob"))).resource is Resource.SESSIONS  # another student may
    held[0].release()
    await until_free(w2, Resource.SESSIONS, alice)


async def test_an_address_s_share_spans_the_workers_and_the_teacher_has_none(pair):
    w1, w2, _, _ = pair
    for ledger, name in ((w1, "a"), (w2, "a"), (w2, "b"), (w1, "c"), (w2, "c")):  # 5, the address's share
        await claim(ledger, Resource.SOCKETS, student(name, "10.2.2.2"))
    assert w1.in_use(Resource.SOCKETS) == 2  # w1 alone would have room
    assert (await refused(w1, Resource.SOCKETS, student("d", "10.2.2.2"))).code == "address_quota"
    assert await claim(w1, Resource.SOCKETS, student("d", "10.3.3.3"))
    teacher = Identity("teacher", Role.TEACHER, "10.2.2.2")
    assert [await claim(w2, Resource.SOCKETS, teacher) for _ in range(6)]


async def test_a_dead_worker_s_counts_stop_counting_and_a_restarted_one_holds_nothing(pair, redis_url):
    w1, w2, shares1, _ = pair
    alice, bob = student("alice"), student("bob", "10.4.4.4")
    for _ in range(2):
        await claim(w1, Resource.SESSIONS, alice)
    await refused(w2, Resource.SESSIONS, alice)
    redis = shares1.link.redis
    server_now = int((await redis.time())[0])
    await redis.zadd(WORKERS, {"w1": server_now - STALE_SECONDS - 1})  # w1's last beat: long ago
    assert await claim(w2, Resource.SESSIONS, alice)
    for _ in range(2):
        await claim(w1, Resource.SESSIONS, bob)
    restarted, restarted_shares = await worker("w1", redis_url)  # w1 again, a fresh process
    await restarted_shares.start()
    try:
        assert await claim(w2, Resource.SESSIONS, bob)
        assert await claim(restarted, Resource.SESSIONS, bob)
    finally:
        await restarted_shares.link.close()


async def test_a_claim_given_back_while_it_was_being_counted_is_given_back_everywhere(pair):
    w1, w2, _, _ = pair
    alice = student("alice")
    held = w1.claim(Resource.SESSIONS, alice)
    counting = asyncio.create_task(w1.count_elsewhere(held))
    held.release()  # the client left during the count
    await counting
    assert held.counted_elsewhere
    await claim(w2, Resource.SESSIONS, alice)
    await until_free(w2, Resource.SESSIONS, alice)  # the second place: the first was given back


async def test_a_place_given_back_on_a_worker_is_free_there_at_once(pair):
    w1, _, _, _ = pair
    alice = student("alice")
    for _ in range(20):  # close a session and open another straight away, over and over
        held = [await claim(w1, Resource.SESSIONS, alice) for _ in range(2)]
        held[0].release()
        held[1].release()
