"""A fair share for every student (docs/reliability.md, "Quotas").

What a client holds at once — sessions, sockets, uploads, loss surfaces, sweeps, races, jobs — is
counted per student *and* per source address, against the shares of `Quotas`; the whole server
has its caps too (`Limits`). The two levels answer two different abuses: one student opening
tab after tab, and one machine minting student after student (a new identity is only a cookie
away). A class behind one school router shares an address, so an address's share is a class's,
and always smaller than the server's cap: one address can never take the whole server.

The last `reserve` of each server-wide cap is kept for first claims: once the server is that
full, only a student who holds none of the resource yet may take one, so the next student can
still start even while others hog. The teacher is exempt from the shares and the reserve, not
from the server's caps. Outside classroom mode everyone is the teacher, so only the caps apply.

Saved runs and their bytes are counted by the store itself (they outlive the process):
`check_storage` applies the same shares to them. Messages on sockets draw on a rate per student
and per address (`Ledger.allow_message`), across all their sockets.

Every refusal is a `CapReached` (429 with `Retry-After`) whose `code` says which limit and whose
message says what to do.
"""

from __future__ import annotations

import contextlib
import enum
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Protocol

from backprop_lab.server.classroom.identity import Identity
from backprop_lab.server.web.limits import TokenBucket
from backprop_lab.server.wire.problems import CapReached


class Resource(enum.Enum):
    SESSIONS = "sessions"  # live sessions: created, forked or opened from a run
    SOCKETS = "sockets"  # open WebSockets, a session's own and its viewers'
    UPLOADS = "uploads"  # uploaded tables kept in memory
    SURFACES = "surfaces"  # loss surfaces being computed or waiting their turn
    SWEEPS = "sweeps"  # REST learning-rate sweeps and range tests running
    RACES = "races"  # live learning-rate races running
    CHECKS = "checks"  # whole-network gradient checks computing (off the training threads)
    JOBS = "jobs"  # jobs queued or running (backprop_lab.server.jobs)


@dataclass(frozen=True)
class Share:
    student: int  # what one student may hold (or do per second) at once
    address: int  # what one source address may: a class behind one router shares it


@dataclass(frozen=True)
class Quotas:
    sessions: Share = Share(4, 80)
    sockets: Share = Share(16, 400)
    uploads: Share = Share(3, 30)
    surfaces: Share = Share(1, 4)
    sweeps: Share = Share(1, 2)
    races: Share = Share(1, 25)
    checks: Share = Share(1, 2)
    jobs: Share = Share(2, 20)
    saved_runs: Share = Share(50, 1500)
    stored_megabytes: Share = Share(200, 3000)
    messages_per_second: Share = Share(60, 1500)  # across all of a student's (an address's) sockets
    reserve: float = 0.1  # of each server-wide cap, kept for students who hold none yet

    def share(self, resource: Resource) -> Share:
        return getattr(self, resource.value)

    def with_share(self, setting: str) -> Quotas:
        """These quotas with one share changed, from `NAME=STUDENT,ADDRESS` (the command line's
        `--quota`), e.g. `sessions=6,120`; ValueError saying what is wrong."""
        name, _, numbers = setting.partition("=")
        names = [key for key, value in vars(self).items() if isinstance(value, Share)]
        if name.strip() not in names:
            raise ValueError(f"{name.strip()!r} is not a quota; choose one of {', '.join(names)}")
        try:
            student, address = (int(number) for number in numbers.split(","))
        except ValueError:
            raise ValueError(f"{setting!r}: write NAME=STUDENT,ADDRESS with two whole numbers, e.g. sessions=6,120") \
                from None
        if not 0 < student <= address:
            raise ValueError(f"{setting!r}: a student's share is at least 1 and at most an address's")
        changes: dict[str, Any] = {name.strip(): Share(student, address)}
        return replace(self, **changes)

    def reserved(self, total: int) -> int:
        return max(1, int(total * self.reserve)) if total > 1 else 0

    def document(self, enforced: bool) -> dict[str, object]:
        """For `/api/v1/options`: whether shares apply here (classroom mode), each share, the reserve."""
        shares = {name: {"student": share.student, "address": share.address}
                  for name, share in vars(self).items() if isinstance(share, Share)}
        return {"enforced": enforced, "reserve": self.reserve, "shares": shares}


# What a refused client can do about it, by resource (the message's second half).
REMEDY = {
    Resource.SESSIONS: "close a tab or delete a session you no longer need",
    Resource.SOCKETS: "close another tab or connection",
    Resource.UPLOADS: "delete a session that uses one of your uploads, or reuse an upload",
    Resource.SURFACES: "wait for your loss surface to finish",
    Resource.SWEEPS: "wait for your sweep or range test to finish",
    Resource.RACES: "stop your race first",
    Resource.CHECKS: "wait for your gradient check to finish",
    Resource.JOBS: "wait for one of your jobs to finish, or cancel one",
}
# Seconds after which trying again has a chance (the Retry-After header).
RETRY_AFTER = {
    Resource.SESSIONS: 30,
    Resource.SOCKETS: 10,
    Resource.UPLOADS: 30,
    Resource.SURFACES: 5,
    Resource.SWEEPS: 10,
    Resource.RACES: 10,
    Resource.CHECKS: 5,
    Resource.JOBS: 10,
}
WORDS = {  # singular, for messages
    Resource.SESSIONS: "session",
    Resource.SOCKETS: "socket",
    Resource.UPLOADS: "uploaded data set",
    Resource.SURFACES: "loss surface",
    Resource.SWEEPS: "sweep",
    Resource.RACES: "race",
    Resource.CHECKS: "gradient check",
    Resource.JOBS: "job",
}


def _plural(resource: Resource, count: int) -> str:
    return f"{count} {WORDS[resource]}{'' if count == 1 else 's'}"


class Elsewhere(Protocol):
    """The shares a student and an address hold on a cluster's other workers
    (backprop_lab.server.cluster.quotas); a single process has none."""

    resources: frozenset[Resource]  # those counted across workers

    async def take(self, resource: Resource, identity: Identity, share: Share) -> tuple[int, int] | None:
        """What the student and the address hold across the workers; one more is counted for
        `identity` on this worker's books unless either is at its `share` already. None: the other
        workers are out of reach, nothing was counted there."""
        ...

    def give_back(self, resource: Resource, identity: Identity) -> None:
        """One fewer; from any thread."""
        ...


class Claim:
    """One unit of a resource held by one identity; `release` gives it back (once, however
    often it is called)."""

    def __init__(self, ledger: Ledger, resource: Resource, identity: Identity) -> None:
        self._ledger = ledger
        self.resource = resource
        self.identity = identity
        self.released = False
        self.counted_elsewhere = False  # on the other workers' books too (`Ledger.count_elsewhere`)

    def release(self) -> None:
        self._ledger._give_back(self)


class Ledger:
    """Who holds what. Thread-safe: most claims come and go on the event loop, but a race ends
    on a training thread."""

    def __init__(self, quotas: Quotas, totals: dict[Resource, int], enforce_shares: bool) -> None:
        self.quotas = quotas
        self.totals = totals
        self.enforce_shares = enforce_shares  # classroom mode: students and addresses have shares
        self._used: Counter[Resource] = Counter()
        self._by_student: Counter[tuple[Resource, str]] = Counter()
        self._by_address: Counter[tuple[Resource, str]] = Counter()
        self._student_rates: dict[str, TokenBucket] = {}
        self._address_rates: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()
        self.elsewhere: Elsewhere | None = None  # a cluster worker's: the shares held on the other workers

    def in_use(self, resource: Resource) -> int:
        return self._used[resource]

    def refusal(self, resource: Resource, identity: Identity) -> CapReached | None:
        """Why `identity` may not take one more `resource` now, or None when it may."""
        total = self.totals[resource]
        used = self._used[resource]
        name = resource.value
        if used >= total:
            return self._refuse(resource, f"this server already holds {_plural(resource, used)}, its cap",
                                f"too_many_{name}", {"maximum": total})
        if not self.enforce_shares or identity.is_teacher:
            return None
        mine = self._by_student[resource, identity.id]
        share_refusal = self.share_refusal(resource, mine, self._by_address[resource, identity.address])
        if share_refusal is not None:
            return share_refusal
        if total - used <= self.quotas.reserved(total) and mine > 0:
            return self._refuse(resource, f"this server keeps its last {_plural(resource, total - used)} for students "
                                "who have none yet", "server_reserve", {"maximum": total})
        return None

    def share_refusal(self, resource: Resource, mine: int, from_address: int) -> CapReached | None:
        """Why a student holding `mine` of `resource`, from an address holding `from_address`, may
        not take one more, or None when both are under their shares."""
        share = self.quotas.share(resource)
        if mine >= share.student:
            return self._refuse(resource, f"you already hold {_plural(resource, mine)}, a student's share",
                                "student_quota", {"maximum": share.student})
        if from_address >= share.address:
            return self._refuse(resource, f"your network address already holds {_plural(resource, from_address)}, "
                                "an address's share", "address_quota", {"maximum": share.address})
        return None

    @staticmethod
    def _refuse(resource: Resource, why: str, code: str, params: dict[str, int]) -> CapReached:
        return CapReached(f"{why}; {REMEDY[resource]}", code, "", {"resource": resource.value, **params},
                          retry_after=RETRY_AFTER[resource])

    def claim(self, resource: Resource, identity: Identity) -> Claim:
        """Take one `resource` for `identity`, or raise its `CapReached`."""
        with self._lock:
            refused = self.refusal(resource, identity)
            if refused is not None:
                raise refused
            self._used[resource] += 1
            self._by_student[resource, identity.id] += 1
            self._by_address[resource, identity.address] += 1
        return Claim(self, resource, identity)

    async def count_elsewhere(self, claim: Claim) -> None:
        """A cluster worker's claim, counted against its student's and address's shares on every
        worker (`Elsewhere`): released, and its `CapReached` raised, when they are full there.
        A single process has no elsewhere: nothing to do."""
        identity = claim.identity
        if self.elsewhere is None or claim.resource not in self.elsewhere.resources or not self.enforce_shares \
                or identity.is_teacher:
            return
        held = await self.elsewhere.take(claim.resource, identity, self.quotas.share(claim.resource))
        if held is None:  # only this worker's own shares apply
            return
        refused = self.share_refusal(claim.resource, *held)
        if refused is not None:
            claim.release()
            raise refused
        with self._lock:
            claim.counted_elsewhere = True
            released = claim.released
        if released:  # given back while it was being counted
            self.elsewhere.give_back(claim.resource, identity)

    @contextlib.contextmanager
    def holding(self, resource: Resource, identity: Identity) -> Iterator[Claim]:
        """A claim for the duration of the block, released however it ends."""
        claim = self.claim(resource, identity)
        try:
            yield claim
        finally:
            claim.release()

    def _give_back(self, claim: Claim) -> None:
        with self._lock:
            if not claim.released:
                claim.released = True
                self._count_out(claim)
                if claim.counted_elsewhere and self.elsewhere is not None:
                    self.elsewhere.give_back(claim.resource, claim.identity)

    def _count_out(self, claim: Claim) -> None:
        resource, identity = claim.resource, claim.identity
        self._used[resource] -= 1
        for counter, key in ((self._by_student, identity.id), (self._by_address, identity.address)):
            counter[resource, key] -= 1
            if counter[resource, key] <= 0:
                del counter[resource, key]
        if resource is Resource.SOCKETS:  # the rates of clients with no socket left are forgotten
            if (resource, identity.id) not in self._by_student:
                self._student_rates.pop(identity.id, None)
            if (resource, identity.address) not in self._by_address:
                self._address_rates.pop(identity.address, None)

    def allow_message(self, identity: Identity, cost: float = 1.0) -> bool:
        """An inbound socket message that weighs `cost` messages, against its student's and its
        address's rate."""
        if not self.enforce_shares or identity.is_teacher:
            return True
        rate = self.quotas.messages_per_second
        with self._lock:
            student = self._student_rates.get(identity.id)
            if student is None:
                student = self._student_rates[identity.id] = TokenBucket(rate.student)
            address = self._address_rates.get(identity.address)
            if address is None:
                address = self._address_rates[identity.address] = TokenBucket(rate.address)
            return student.allow(cost) and address.allow(cost)


STORAGE_RETRY_AFTER = 60  # a full share of the store frees only when its owner deletes runs
SCOPES = {"student": "you have", "address": "your network address has"}  # whose share, as a message says it


def check_storage(quotas: Quotas, identity: Identity, enforce_shares: bool, usage: tuple[int, int],
                  address_usage: tuple[int, int], new_bytes: int) -> None:
    """Refuse a save that would take `identity` (or its address) past its share of saved runs or
    bytes stored; `usage` and `address_usage` are (runs, bytes) already stored."""
    if not enforce_shares or identity.is_teacher:
        return
    for (runs, stored), scope in ((usage, "student"), (address_usage, "address")):
        most_runs: int = getattr(quotas.saved_runs, scope)
        most_megabytes: int = getattr(quotas.stored_megabytes, scope)
        if runs >= most_runs:
            why, resource, maximum = f"{SCOPES[scope]} {runs} saved runs, the {scope}'s share", "saved_runs", most_runs
        elif stored + new_bytes > most_megabytes * 1_000_000:
            why = (f"{SCOPES[scope]} {stored / 1e6:,.1f} MB of saved runs and this one needs {new_bytes / 1e6:,.1f} MB "
                   f"more, past the {scope}'s share of {most_megabytes:,} MB")
            resource, maximum = "stored_megabytes", most_megabytes
        else:
            continue
        raise CapReached(f"{why}; delete runs you no longer need", f"{scope}_quota", "",
                         {"resource": resource, "maximum": maximum}, retry_after=STORAGE_RETRY_AFTER)
