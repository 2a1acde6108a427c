"""Socket quotas: a reservation takes a slot of every quota a socket falls under (the session's,
and the ledger's server cap and the student's share) or none, and gives them back exactly once."""

from __future__ import annotations

import pytest

from backprop_lab.server.classroom.identity import TEACHER_ID, Identity
from backprop_lab.server.classroom.identity import Role as Who
from backprop_lab.server.classroom.quotas import Ledger, Quotas, Share
from backprop_lab.server.live.manager import server_caps
from backprop_lab.server.live.socket_quotas import SocketQuotas
from backprop_lab.server.runtime.fanout import Role
from backprop_lab.server.settings import DESCRIPTOR_RESERVE, Limits
from backprop_lab.server.wire.problems import CapReached

TEACHER = Identity(TEACHER_ID, Who.TEACHER, "127.0.0.1")


def quotas(max_sockets: int = 3, per_session: int = 2, viewers: int = 2, classroom: bool = False) -> SocketQuotas:
    limits = Limits(max_sockets=max_sockets, max_sockets_per_session=per_session, max_viewers_per_session=viewers)
    ledger = Ledger(Quotas(sockets=Share(2, 3)), server_caps(limits, max_sockets), enforce_shares=classroom)
    return SocketQuotas(limits, ledger)


def test_a_session_s_control_sockets_and_viewers_each_have_their_own_cap():
    sockets = quotas(max_sockets=10)
    held = [sockets.reserve("a", Role.CONTROL, TEACHER), sockets.reserve("a", Role.CONTROL, TEACHER)]
    with pytest.raises(CapReached, match="already has 2 control sockets"):
        sockets.reserve("a", Role.CONTROL, TEACHER)
    held += [sockets.reserve("a", Role.VIEWER, TEACHER), sockets.reserve("b", Role.CONTROL, TEACHER)]
    assert (sockets.open, sockets.control.count("a"), sockets.viewers.count("a")) == (4, 2, 1)


def test_a_refused_reservation_takes_nothing_and_the_server_cap_counts_every_session():
    sockets = quotas(max_sockets=3)
    held = [sockets.reserve(session, Role.CONTROL, TEACHER) for session in ("a", "b", "c")]
    with pytest.raises(CapReached, match="this server already holds 3 sockets"):
        sockets.reserve("d", Role.CONTROL, TEACHER)
    assert sockets.open == 3 and sockets.control.count("d") == 0
    held[0].release()
    sockets.reserve("d", Role.CONTROL, TEACHER)
    assert sockets.open == 3


def test_a_reservation_is_given_back_once_however_its_block_ends():
    sockets = quotas()
    with pytest.raises(RuntimeError), sockets.reserve("a", Role.VIEWER, TEACHER) as reservation:
        raise RuntimeError("the handshake failed")
    reservation.release()  # a second release gives nothing back twice
    assert (sockets.open, sockets.viewers.count("a"), reservation.held) == (0, 0, False)
    with sockets.reserve("a", Role.VIEWER, TEACHER), sockets.reserve("a", Role.VIEWER, TEACHER):
        assert sockets.viewers.count("a") == 2
    assert sockets.open == 0


def test_the_cap_in_force_is_what_the_open_files_allow_after_the_reserve_or_the_configured_one():
    limits = Limits(max_sockets=1000)
    assert limits.sockets_within(1024) == 1024 - DESCRIPTOR_RESERVE < 1000
    assert limits.sockets_within(1_048_576) == 1000
    assert limits.sockets_within(None) == 1000
    assert limits.sockets_within(100) == 0


def test_a_student_s_sockets_count_against_their_share_across_sessions():
    sockets = quotas(max_sockets=10, per_session=5, classroom=True)
    student = Identity("s_ann", Who.STUDENT, "10.0.0.7")
    held = [sockets.reserve(session, Role.VIEWER, student) for session in ("a", "b")]
    with pytest.raises(CapReached) as refused:
        sockets.reserve("c", Role.CONTROL, student)
    assert refused.value.code == "student_quota" and sockets.control.count("c") == 0  # nothing taken
    held[0].release()
    sockets.reserve("c", Role.CONTROL, student)
