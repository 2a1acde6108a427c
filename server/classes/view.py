"""The class view: every student of the open class and their session, as the teacher's class
page draws it (docs/api.md, "Classes"; the REST answer and the `/ws/classes/{code}` message).

Built on the event loop from what the sessions already hold, without waiting for their lanes
and without any training-thread work: the step, state and config as of now, the metrics last
evaluated for a frame, the loss curve's points, and the last heatmaps the session computed for
its own page (its output layer, shrunk to at most `THUMBNAIL_SIZE`² bytes, is the thumbnail).
A thumbnail is recomputed only when the session has new heatmaps. A session the view shows draws
its heatmaps at least three times a second for a while (`FrameBuilder.watched_until`), even when so many
sessions play that it would otherwise draw them less often: the thumbnail stays live, and the
student's own page gets those heatmaps too.

A student's shown session is their most recently active one (used or trained last).
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from backprop_lab.server.analyses.heatmaps import Rendered
from backprop_lab.server.classes.badges import badge
from backprop_lab.server.classes.registry import Member, SchoolClass
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.live.session import Session

JSON = dict[str, Any]
THUMBNAIL_SIZE = 32  # at most this many cells a side
VIEW_SECONDS = 0.25  # the class page's period: every thumbnail at 4 Hz, twice the 2 Hz the page needs
WATCH_LEASE_SECONDS = 1.0  # a view keeps its sessions' heatmaps at the class page's rate this long
SPARKLINE_POINTS = 60  # the loss curve's points a student's card carries
CONFIG_FIELDS = ("dataset", "hidden_layers", "activation", "learning_rate", "batch_size", "optimizer", "loss",
                 "regularization", "regularization_rate")
METRIC_FIELDS = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")


def thumbnail(rendered: Rendered, classify: bool) -> JSON:
    """The output layer of `rendered` as at most 32×32 bytes, row 0 at the top (largest x2).

    Classification with two classes: 255 × the probability of class 1; with K > 2: the index of
    the class the network predicts (`classes` says K). Regression: the output scaled from its
    minimum (0) to its maximum (255) over the grid."""
    size = rendered.resolution
    output = rendered.ranges[-1]
    outputs = len(output["min"])
    levels = np.frombuffer(rendered.data, np.uint8)[-outputs * size * size:].reshape(outputs, size, size)
    low = np.asarray(output["min"])[:, None, None]  # (n_out, 1, 1)
    high = np.asarray(output["max"])[:, None, None]
    values = low + levels / 255.0 * (high - low)  # (n_out, G, G): the outputs themselves
    factor = math.ceil(size / THUMBNAIL_SIZE)
    kept = size // factor * factor
    out: JSON = {"kind": "classification" if classify else "regression"}
    if classify and outputs > 2:
        cells = values.argmax(axis=0)[:kept:factor, :kept:factor]  # (g, g): the predicted class
        out["classes"] = outputs
    else:
        channel = values[1] if classify else levels[0] / 255.0  # (G, G) in [0, 1]
        blocks = channel[:kept, :kept].reshape(kept // factor, factor, kept // factor, factor)
        cells = np.rint(blocks.mean(axis=(1, 3)) * 255)  # (g, g)
    cells = np.ascontiguousarray(cells[::-1], dtype=np.uint8)  # row 0 at the top
    out |= {"size": int(cells.shape[0]), "values": base64.b64encode(cells.tobytes()).decode()}
    return out


def sessions_of(manager: SessionManager, school_class: SchoolClass) -> dict[str, list[Session]]:
    """Each member's live sessions (created, forked or opened, before or after joining), by
    identity id."""
    out: dict[str, list[Session]] = {identity_id: [] for identity_id in school_class.members}
    for session in manager.sessions():
        mine = out.get(session.owner)
        if mine is not None and not session.closed:
            mine.append(session)
    return out


class ClassViewer:
    """Builds class views; keeps each session's last thumbnail until it has new heatmaps."""

    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager
        self._thumbnails: dict[str, tuple[Rendered, JSON]] = {}  # session id → (its heatmaps, the thumbnail)

    def view(self, school_class: SchoolClass, join_url: str, elsewhere: Mapping[str, list[JSON]] | None = None) -> JSON:
        """The class view; `elsewhere`: the cards other workers of a cluster hold, by member key
        (`cards`), each student's shown session the most recently active of theirs anywhere."""
        now = time.monotonic()
        sessions = sessions_of(self.manager, school_class)
        others = elsewhere or {}
        students = [self._student(school_class, member, sessions[identity_id], now, others.get(member.key, []))
                    for identity_id, member in school_class.members.items()]
        live = {session.id for mine in sessions.values() for session in mine}
        for gone in set(self._thumbnails) - live:
            del self._thumbnails[gone]
        return {
            "type": "class", "code": school_class.code, "spoken": school_class.spoken, "join_url": join_url,
            "paused": school_class.paused, "anonymous": school_class.anonymous,
            "challenge": school_class.challenge.view() if school_class.challenge is not None else None,
            "lesson": school_class.lesson.view() if school_class.lesson is not None else None,
            "students": sorted(students, key=lambda student: student["number"]),
        }

    def cards(self, school_class: SchoolClass) -> dict[str, JSON]:
        """By member key, the card of each member with a live session here: `{"online": whether a
        page of theirs is connected here, "active": when their shown session was last used or trained
        (Unix seconds, comparable between workers), "session": that session as the view shows it}`."""
        now = time.monotonic()
        members = school_class.members
        return {members[identity_id].key: self._card(school_class, sessions, now)
                for identity_id, sessions in sessions_of(self.manager, school_class).items() if sessions}

    def _card(self, school_class: SchoolClass, sessions: list[Session], now: float) -> JSON:
        shown = max(sessions, key=lambda s: max(s.last_active, s.last_trained))
        active = time.time() - (now - max(shown.last_active, shown.last_trained))
        return {"online": any(session.hub.control_count for session in sessions), "active": active,
                "session": self._session(school_class, shown, now)}

    def _student(self, school_class: SchoolClass, member: Member, sessions: list[Session], now: float,
                 elsewhere: list[JSON]) -> JSON:
        cards = [self._card(school_class, sessions, now), *elsewhere] if sessions else elsewhere
        shown = max(cards, key=lambda card: card["active"], default=None)
        return {
            "key": member.key, "number": member.number, "name": school_class.shown_name(member),
            "online": any(card["online"] for card in cards),
            "session": None if shown is None else shown["session"],
            "task_done": school_class.task_done(member),
        }

    def _session(self, school_class: SchoolClass, session: Session, now: float) -> JSON:
        trainer = session.trainer
        config = trainer.config.as_dict()
        history = session.history.thinned(SPARKLINE_POINTS)
        latest = session.frames.latest_metrics or (history[-1] if history else {})
        metrics = {name: latest.get(name) for name in METRIC_FIELDS}
        losses = [point.get("train_loss") for point in history]
        state = session.state.value
        running = state == "running"
        challenge = school_class.challenge
        return {
            "id": session.id, "state": state, "step": trainer.step_count, "epoch": trainer.epoch,
            "steps_per_second": round(session.frames.measured_speed, 1) if running else 0.0,
            "config": {"problem": "classification" if trainer.network.classify else "regression",
                       **{name: config[name] for name in CONFIG_FIELDS}},
            "metrics": metrics,
            "badge": badge(state, [(point["step"], point.get("train_loss")) for point in history],
                           0.0 if running else now - session.last_trained),
            "losses": losses,
            "thumbnail": self._thumbnail(session),
            "reached_challenge": challenge is not None and challenge.reached(
                config["dataset"], list(config["hidden_layers"]), metrics),
        }

    def _thumbnail(self, session: Session) -> JSON | None:
        session.frames.watched_until = time.monotonic() + WATCH_LEASE_SECONDS
        rendered = session.frames.last_heatmaps
        if rendered is None:
            return None
        known = self._thumbnails.get(session.id)
        if known is not None and known[0] is rendered:
            return known[1]
        made = thumbnail(rendered, session.trainer.network.classify)
        self._thumbnails[session.id] = (rendered, made)
        return made
