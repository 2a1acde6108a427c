"""Socket quotas: a reservation takes a slot of every quota a socket falls under or none, and
gives them back exactly once."""

from __future__ import annotations

import pytest

from server.settings import DESCRIPTOR_RESERVE, Limits
from server.socket_quotas import SocketQuotas, SocketsFull
from server.stream import Role


def quotas(max_sockets: int = 3, per_session: int = 2, viewers: int = 2) -> SocketQuotas:
    limits = Limits(max_sockets=max_sockets, max_sockets_per_session=per_session, max_viewers_per_session=viewers)
    return SocketQuotas(limits, limits.max_sockets)


def test_a_session_s_control_sockets_and_viewers_each_have_their_own_cap():
    sockets = quotas(max_sockets=10)
    held = [sockets.reserve("a", Role.CONTROL), sockets.reserve("a", Role.CONTROL)]
    with pytest.raises(SocketsFull, match="already has 2 open sockets"):
        sockets.reserve("a", Role.CONTROL)
    held += [sockets.reserve("a", Role.VIEWER), sockets.reserve("b", Role.CONTROL)]
    assert (sockets.open, sockets.control.count("a"), sockets.viewers.count("a")) == (4, 2, 1)


def test_a_refused_reservation_takes_nothing_and_the_server_cap_counts_every_session():
    sockets = quotas(max_sockets=3)
    held = [sockets.reserve(session, Role.CONTROL) for session in ("a", "b", "c")]
    with pytest.raises(SocketsFull, match="this server already has 3 open sockets"):
        sockets.reserve("d", Role.CONTROL)
    assert sockets.open == 3 and sockets.control.count("d") == 0
    held[0].release()
    sockets.reserve("d", Role.CONTROL)
    assert sockets.open == 3


def test_a_reservation_is_given_back_once_however_its_block_ends():
    sockets = quotas()
    with pytest.raises(RuntimeError), sockets.reserve("a", Role.VIEWER) as reservation:
        raise RuntimeError("the handshake failed")
    reservation.release()  # a second release gives nothing back twice
    assert (sockets.open, sockets.viewers.count("a"), reservation.held) == (0, 0, False)
    with sockets.reserve("a", Role.VIEWER), sockets.reserve("a", Role.VIEWER):
        assert sockets.viewers.count("a") == 2
    assert sockets.open == 0


def test_the_cap_in_force_is_what_the_open_files_allow_after_the_reserve_or_the_configured_one():
    limits = Limits(max_sockets=1000)
    assert limits.sockets_within(1024) == 1024 - DESCRIPTOR_RESERVE < 1000
    assert limits.sockets_within(1_048_576) == 1000
    assert limits.sockets_within(None) == 1000
    assert limits.sockets_within(100) == 0
