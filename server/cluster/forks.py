"""A fork across workers: "try it yourself" on worker B of a presenter whose session A holds.

The fork is made where the request lands (B), from a snapshot A sends through Redis
(`relay.Relay.fork`): the session captured as a saved run is (`saved.capture.capture`: the
config, the trainer's state — weights, optimiser memory, data order, step —, the loss curves,
the trajectory and an uploaded table), with the probe choice and the speed setting. B builds
the trainer from it as opening a saved run does, so the fork carries on bit for bit from the
presenter's step, and it belongs to B from then on (its id names B). A diverged presenter's
fork starts paused at the diverged step, like a resumed run, not marked diverged.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict

import anyio.to_thread
import numpy as np

from backprop_lab.engine.config import Config
from backprop_lab.server.classroom.identity import Identity
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.live.session import ProbeChoice, Session
from backprop_lab.server.saved import capture
from backprop_lab.server.saved.run_store import RunSummary, StoredRun
from backprop_lab.server.wire.problems import InvalidInput

GONE = b"gone"  # the answer when the session ended before its snapshot was taken


def snapshot(session: Session) -> bytes:
    """The presenter's state for a fork elsewhere: call in the session's lane."""
    run = capture.capture(session, "fork", "fork", owner=session.owner, address="")
    return json.dumps({
        "summary": asdict(run.summary), "history": run.history, "resume": run.resume, "steps": run.snapshot_steps,
        "snapshots": base64.b64encode(np.ascontiguousarray(run.snapshots, dtype=np.float64).tobytes()).decode(),
        "data": run.data, "probe": asdict(session.probe), "steps_per_second": session.steps_per_second,
    }).encode()


async def open_fork(manager: SessionManager, data: bytes | str, identity: Identity) -> Session:
    """A new session of `identity`'s here, in the state `snapshot` captured, paused."""
    document = json.loads(data)
    summary = RunSummary(**{**document["summary"], "tags": tuple(document["summary"]["tags"])})
    steps = document["steps"]
    snapshots = np.frombuffer(base64.b64decode(document["snapshots"]), dtype=np.float64).reshape(len(steps), -1)
    run = StoredRun(summary, document["history"], document["resume"], steps, snapshots, document["data"])
    async with manager.session_slot(identity) as claim:
        config = Config().replace(**summary.config)
        table = await anyio.to_thread.run_sync(capture.run_table, run, manager.settings.limits)
        if table is not None:  # its data set becomes an upload here, under a new id
            config = config.replace(dataset=manager.add_table(table, identity))
        manager.check_caps(config, table)
        try:
            trainer = await anyio.to_thread.run_sync(capture.resumed_trainer, run, config, table)
        except ValueError as problem:  # another version's engine on the presenter's worker
            raise InvalidInput(("path", "code"), f"code: this session cannot be forked here: {problem}") from None
        session = manager.adopt(trainer, trainer.config, table, claim)
    probe = ProbeChoice(**document["probe"])

    def restore() -> None:
        session.restore(run.history, run.snapshot_steps, run.snapshots)
        session.probe, session.steps_per_second = probe, document["steps_per_second"]

    await session.run(restore)
    return session
