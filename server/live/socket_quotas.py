"""How many WebSockets may be open: every cap on sockets, and the reservation one socket holds
from before its handshake is accepted until it ends (docs/protocol.md, "Caps").

A handshake first *reserves* its slots, synchronously on the event loop, before `accept` is
awaited: it checks every quota the socket falls under and, only if all have room, takes one
slot of each, all in one step. Nothing can run in between on the event loop, so parallel
handshakes never overrun a cap (counting after `accept` let 300 viewers past a cap of 200).
The `Reservation` gives its slots back when its `with` block ends, however it ends (refused,
dropped during the handshake, closed, failed), and exactly once.

The quotas: the server's socket cap and each student's and address's share of it are the
ledger's (`backprop_lab.server.classroom.quotas`, `Resource.SOCKETS`); each session's caps on its control sockets and
on its viewers are kept here, per session id.
"""

from __future__ import annotations

from collections import Counter
from types import TracebackType

from backprop_lab.server.classroom.identity import Identity
from backprop_lab.server.classroom.quotas import RETRY_AFTER, Claim, Ledger, Resource
from backprop_lab.server.runtime.fanout import Role
from backprop_lab.server.settings import Limits
from backprop_lab.server.wire.problems import CapReached


class SessionQuota:
    """At most `limit` open sockets of one role per session. Used on the event loop only."""

    def __init__(self, limit: int, refusal: str, code: str) -> None:
        self.limit = limit
        self.refusal = refusal  # the 429's sentence; `{limit}` is replaced by the cap
        self.code = code
        self._open: Counter[str] = Counter()

    def count(self, session_id: str) -> int:
        return self._open[session_id]

    def full(self, session_id: str) -> bool:
        return self._open[session_id] >= self.limit

    def take(self, session_id: str) -> None:
        self._open[session_id] += 1

    def give_back(self, session_id: str) -> None:
        self._open[session_id] -= 1
        if self._open[session_id] <= 0:
            del self._open[session_id]  # a session's key goes with its last socket


class Reservation:
    """One socket's slots: held from before its accept until the `with` block ends."""

    def __init__(self, quota: SessionQuota, session_id: str, claim: Claim) -> None:
        self._quota = quota
        self._session_id = session_id
        self.claim = claim
        self.held = True

    def release(self) -> None:
        """Give every slot back; a second call does nothing."""
        if not self.held:
            return
        self.held = False
        self._quota.give_back(self._session_id)
        self.claim.release()

    def __enter__(self) -> Reservation:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


class SocketQuotas:
    """Every cap on open WebSockets, and the count of each (`/api/v1/health` reads them)."""

    def __init__(self, limits: Limits, ledger: Ledger) -> None:
        self.ledger = ledger
        self.control = SessionQuota(limits.max_sockets_per_session, "this session already has {limit} control "
                                    "sockets, its cap; close another tab first", "too_many_sockets")
        self.viewers = SessionQuota(limits.max_viewers_per_session, "this session already has {limit} viewers, "
                                    "its cap", "too_many_viewers")

    @property
    def max_sockets(self) -> int:
        """The server-wide cap in force (see `Limits.sockets_within`)."""
        return self.ledger.totals[Resource.SOCKETS]

    @property
    def open(self) -> int:
        """Sockets holding a reservation: open, or being accepted."""
        return self.ledger.in_use(Resource.SOCKETS)

    def reserve(self, session_id: str, role: Role, identity: Identity) -> Reservation:
        """The slots of one more socket of `role` on session `session_id`, held by `identity`,
        or the `CapReached` of the first full quota (nothing is taken then). Synchronous: call it
        on the event loop, before `accept`."""
        per_session = self.control if role is Role.CONTROL else self.viewers
        if per_session.full(session_id):
            raise CapReached(per_session.refusal.format(limit=per_session.limit), per_session.code, "",
                             {"maximum": per_session.limit}, retry_after=RETRY_AFTER[Resource.SOCKETS])
        claim = self.ledger.claim(Resource.SOCKETS, identity)
        per_session.take(session_id)
        return Reservation(per_session, session_id, claim)

    async def admit(self, session_id: str, role: Role, identity: Identity) -> Reservation:
        """`reserve`, then counted on a cluster's other workers too (`Ledger.count_elsewhere`):
        the `CapReached` of a student's or an address's share full across the workers."""
        reservation = self.reserve(session_id, role, identity)
        try:
            await self.ledger.count_elsewhere(reservation.claim)
        except BaseException:
            reservation.release()
            raise
        return reservation
