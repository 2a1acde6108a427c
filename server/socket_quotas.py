"""How many WebSockets may be open: every cap on sockets, and the reservation one socket holds
from before its handshake is accepted until it ends (docs/protocol.md, "Caps").

A handshake first *reserves* its slots, synchronously on the event loop, before `accept` is
awaited: it checks every quota the socket falls under and, only if all have room, takes one
slot of each, all in one step. Nothing can run in between on the event loop, so parallel
handshakes never overrun a cap (counting after `accept` let 300 viewers past a cap of 200).
The `Reservation` gives its slots back when its `with` block ends, however it ends (refused,
dropped during the handshake, closed, failed), and exactly once.

A quota is a cap per key: one key for the server-wide cap, the session's id for the caps of
one session. A new kind of quota (per student, per address) is one more `Quota` in
`SocketQuotas` and one more claim in `SocketQuotas.reserve`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from types import TracebackType

from server.settings import Limits
from server.stream import Role

SERVER = "server"  # the key of a server-wide quota


class SocketsFull(Exception):
    """A handshake refused (429) because a quota it falls under is full."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Quota:
    """At most `limit` open sockets per key. Used on the event loop only."""

    def __init__(self, limit: int, refusal: str) -> None:
        self.limit = limit
        self.refusal = refusal  # the 429's sentence; `{limit}` is replaced by the cap
        self._open: Counter[Hashable] = Counter()

    def count(self, key: Hashable = SERVER) -> int:
        return self._open[key]

    def full(self, key: Hashable) -> bool:
        return self._open[key] >= self.limit

    def take(self, key: Hashable) -> None:
        self._open[key] += 1

    def give_back(self, key: Hashable) -> None:
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]  # a session's key goes with its last socket


Claim = tuple[Quota, Hashable]


class Reservation:
    """One socket's slots: held from before its accept until the `with` block ends."""

    def __init__(self, claims: list[Claim]) -> None:
        self._claims = claims
        self.held = True

    def release(self) -> None:
        """Give every slot back; a second call does nothing."""
        if not self.held:
            return
        self.held = False
        for quota, key in self._claims:
            quota.give_back(key)

    def __enter__(self) -> Reservation:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()


class SocketQuotas:
    """Every cap on open WebSockets, and the count of each (`/api/v1/health` reads them)."""

    def __init__(self, limits: Limits, max_sockets: int) -> None:
        self.max_sockets = max_sockets  # the server-wide cap in force (see `Limits.sockets_within`)
        self.sockets = Quota(max_sockets, "this server already has {limit} open sockets; close another tab first")
        self.control = Quota(
            limits.max_sockets_per_session, "this session already has {limit} open sockets; close another tab first"
        )
        self.viewers = Quota(limits.max_viewers_per_session, "this session already has {limit} viewers, its cap")

    @property
    def open(self) -> int:
        """Sockets holding a reservation: open, or being accepted."""
        return self.sockets.count()

    def reserve(self, session_id: str, role: Role) -> Reservation:
        """The slots of one more socket of `role` on session `session_id`, or `SocketsFull`
        naming the first full quota (nothing is taken then). Synchronous: call it on the event
        loop, before `accept`."""
        per_session = self.control if role is Role.CONTROL else self.viewers
        claims: list[Claim] = [(self.sockets, SERVER), (per_session, session_id)]
        for quota, key in claims:
            if quota.full(key):
                raise SocketsFull(quota.refusal.format(limit=quota.limit))
        for quota, key in claims:
            quota.take(key)
        return Reservation(claims)
