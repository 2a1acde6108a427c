"""The session state machine: allowed transitions pass, impossible ones name both states."""

from __future__ import annotations

import pytest

from backprop_lab.server.live.lifecycle import InvalidTransition, SessionState, check_transition

S = SessionState


@pytest.mark.parametrize(
    ("source", "target"),
    [(S.IDLE, S.RUNNING), (S.RUNNING, S.PAUSED), (S.PAUSED, S.RUNNING), (S.RUNNING, S.DIVERGED),
     (S.DIVERGED, S.RUNNING), (S.PAUSED, S.IDLE), (S.IDLE, S.PAUSED), (S.RUNNING, S.CLOSED), (S.PAUSED, S.PAUSED)],
)
def test_the_transitions_a_session_makes_are_allowed(source, target):
    check_transition(source, target)


@pytest.mark.parametrize("target", [S.IDLE, S.RUNNING, S.PAUSED, S.DIVERGED])
def test_a_closed_session_stays_closed(target):
    with pytest.raises(InvalidTransition, match="from closed to"):
        check_transition(S.CLOSED, target)


def test_every_open_state_can_close():
    for state in S:
        check_transition(state, S.CLOSED)
