"""A session's lifecycle as an explicit state machine.

    idle ──play──▶ running ──pause──▶ paused ──play──▶ running
     │  └─step──▶ paused               │
     │             divergence ─────────┴──▶ diverged ──play/step/reset──▶ …
     └◀──────── reset, or a config change that re-initialises ◀──── any open state
    any state ──close (delete, expiry, failure)──▶ closed (final)

Each transition is checked: an impossible one raises `InvalidTransition` naming both states,
so a bug shows where it happens instead of as a session in a state nobody planned for.
"""

from __future__ import annotations

import enum


class SessionState(enum.Enum):
    IDLE = "idle"  # at the initial weights of its config and seed
    RUNNING = "running"  # the play loop trains and streams frames
    PAUSED = "paused"
    DIVERGED = "diverged"  # the last step would have made the loss or a weight non-finite
    CLOSED = "closed"  # deleted, expired or failed; final


_IDLE, _RUNNING, _PAUSED, _DIVERGED, _CLOSED = SessionState
_TRANSITIONS: dict[SessionState, frozenset[SessionState]] = {
    _IDLE: frozenset({_RUNNING, _PAUSED, _DIVERGED, _CLOSED}),
    _RUNNING: frozenset({_PAUSED, _DIVERGED, _IDLE, _CLOSED}),
    _PAUSED: frozenset({_RUNNING, _DIVERGED, _IDLE, _CLOSED}),
    _DIVERGED: frozenset({_RUNNING, _PAUSED, _IDLE, _CLOSED}),
    _CLOSED: frozenset(),  # final
}


class InvalidTransition(RuntimeError):
    pass


def check_transition(source: SessionState, target: SessionState) -> None:
    """Raise `InvalidTransition` unless `source → target` is allowed (staying put always is)."""
    if target is not source and target not in _TRANSITIONS[source]:
        raise InvalidTransition(f"a session cannot go from {source.value} to {target.value}")
