"""When work happens: how long a playing session trains before the next one gets a thread,
when its frames, metrics and heatmaps are due, and what that work costs. The scheduler
(`backprop_lab.server.runtime.scheduler`) only runs jobs; every decision about *when* is made here.

`Cadence` is one per server and shared by every session, so by every training thread: the
number of sessions playing, the smoothed costs of a frame and of a metrics refresh, and the
seconds spent by kind of work are written under a lock (reads of one number need none).
`Pacer` is one per session: its play loop's clock, asked at every turn. `ByteBudget` is one per
session too: how often its frames may carry their arrays (`backprop_lab.server.live.frames`).

N training threads serve the players together: each thread serves about players / N of them
in turn, so the per-thread share of a frame period is what a session may train for. A session
never runs on two threads at once, so when fewer sessions play than there are threads, each
still gets only one thread, and at most one slice per turn.

Pacer's two regimes:
- full speed (`steps_per_second == 0`, the default): train until just before the next frame is
  due (minus what building that frame costs), never longer than a slice, then send the frame.
  Training is decoupled from the frame rate: a frame carries however many steps fit.
- a speed limit: steps are *owed* at that rate and trained as they come due; below the frame
  rate every step gets its own frame, above it frames go out at the frame rate.

How many frames a second the server can send is measured, not set (`capacity`, all playing
sessions together). Every frame costs the event loop its sends (one per client and message)
and a training thread its building (or the loop, for a paced session's turn: `turns_on_loop`),
and all of it holds the one GIL; what a machine affords
depends on the machine, the sessions' networks and audiences, and whatever else runs there. So
`adjust`, called a few times a second from the event loop (`backprop_lab.server.runtime.headroom`),
reads two signs of a server that is really busy, both measured in CPU time and both growing with
the frames sent: the event loop's own CPU share (its sends), and the share of the GIL that the
loop and the play turns' Python on the training threads (their frames, metrics, heatmaps and
bookkeeping: all but the compiled training call, which releases the GIL) hold together. While
neither shows, frames go at `frame_rate` (60 a second); when one does, `capacity` drops to a
little under the frames the players are asking for now, and every client's frame interval
stretches alike (`frame_interval`: the players share the capacity); when the signs are gone it
climbs back by a tenth a step. It steps down from what is asked, not from what was sent: when
many sessions start playing at once, their greetings and first frames make the server busy
while it has sent few frames yet, and a step down from those few (tried first) left a hall of
200 at 2 frames a second each for the 10 s the climb back took. How late the loop wakes (its
lag) is not a sign: on a machine that others load it is late whatever the server sends, and
fewer frames would not make it less so; nor is wall time, for the same reason (a thread the
machine leaves waiting takes longer, not more).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

FRAME_EARLY = 0.0005  # a frame may go out this much before its time rather than wait a turn
MIN_SLICE_SHARE = 0.5  # at full speed a turn trains at least this share of a slice …
MIN_FRAME_SHARE = 0.1  # … and at most this share of a frame interval late because of it
HEATMAP_SECONDS_PER_PLAYER = 0.02  # heatmap spacing per playing session (50 play: one a second)
BYTES_BURST_SECONDS = 0.05  # frames that come bunched (a busy machine) keep their arrays
# At full speed a turn trains at least this long when the frames allow: a round of n sessions
# per thread then takes n times this plus their frames, and their frames are spaced so, but never
# below FULL_SPEED_FRAME_RATE. Each turn costs Python work and a GIL hand-over or two beside its
# compiled call, so the shorter the slice, the less of the cores the engine gets: 60 frames a
# second each would leave 50 sessions on two threads 0.5 ms slices; 20 sessions now train 2 ms a
# turn at ~45 frames a second, 50 sessions 1.4 ms at 25.
FULL_SPEED_SLICE = 0.002
FULL_SPEED_FRAME_RATE = 25.0
# When the machine gives the training threads less than their cores (a browser or other work on
# the same machine), a round of full-speed turns takes longer than the frame interval it was sized
# for, and every client's frames come late: the slices then shrink by the ratio measured (never
# below SLICE_SCALE_FLOOR of their size, never faster than LATE_STEP an adjustment), and grow back
# by SLICE_RECOVER an adjustment while the frames come on time.
SLICE_SCALE_FLOOR = 0.25
LATE_STEP = 0.7
SLICE_RECOVER = 1.03
ON_TIME = 1.05  # a mean gap between a session's frames within this multiple of its interval is on time
# The signs of a really busy server (see the module docstring), and how `capacity` follows them.
LOOP_SHARE = 0.6  # of a core: the event loop's CPU above this is busy (it answers controls too)
GIL_SHARE = 0.85  # of the one GIL: the loop's CPU and the play turns' Python together above this are busy
DEGRADE = 0.85  # of the frames asked for, when busy
# A playing session whose training takes at most this share of a core has its turns run by the
# event loop (`Cadence.turns_on_loop`): 100 steps a second of the default network (2 µs a step
# measured here) take 0.02 %, 10,000 of a network of three layers of 8 (5 µs) 5 %.
LOOP_TRAINING_SHARE = 0.02
RECOVER = 1.1  # per adjustment, when not
MIN_FRAME_RATE = 2.0  # frames a second per player, however busy


class Cadence:
    def __init__(
        self,
        workers: int = 1,
        frame_rate: float = 60.0,
        max_slice: float = 0.008,
        min_slice: float = 0.0001,
        refresh_share: float = 0.04,
        refresh_rate: float = 20.0,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers: at least 1 training thread, got {workers}")
        self.workers = workers  # training threads sharing the players
        self.frame_period = 1.0 / frame_rate
        self.max_slice = max_slice
        self.min_slice = min_slice
        # frames a second all playing sessions together can have: measured (`adjust`); no cap
        # until the machine is first found busy
        self.capacity = float("inf")
        # of the training threads, at most, for metrics and probes: 4 % since a refresh evaluates the
        # training split once for both the metrics and the neurons' health (5 % when it took two passes)
        self.refresh_share = refresh_share
        self.refresh_period = 1.0 / refresh_rate  # a playing session's metrics and probe, at most this often
        self._lock = threading.Lock()
        self.players = 0  # sessions playing now (written by `playing`, under the lock)
        self.full_speed_players = 0  # of them, those at full speed
        self.frame_cost = 0.0002  # seconds to build a frame from cached metrics, smoothed
        self.refresh_cost = 0.0005  # seconds to evaluate metrics and the probe, smoothed
        # Seconds spent on the training threads by kind of work, all threads together, for
        # /api/v1/health and bench/stream.py.
        self._spent: dict[str, float] = {"training": 0.0, "frames": 0.0, "metrics": 0.0, "heatmaps": 0.0,
                                         "requests": 0.0}
        self._python_work = 0.0  # CPU seconds of the play turns' Python since then
        self._loop_turns = 0.0  # CPU seconds of the turns the event loop ran since then (`LoopTurns`)
        self.slice_scale = 1.0  # of every slice: below 1 while full-speed frames come late (`adjust`)
        self._full_speed_gaps: list[float] = []  # seconds between a full-speed session's frames since then

    # --- shared counters ---------------------------------------------------------------------
    def playing(self, change: int, full_speed: bool = False) -> None:
        """A session started (+1) or stopped (−1) playing, at full speed or not.

        A capacity found while fewer played grows with the players who join, so each keeps the
        rate it had until the next busy sign: a step down when one session had started (the
        loop busy with 50 handshakes, 51 frames a second asked) left the 49 that joined a
        fraction of it, one frame a second each at first, while it climbed back 10 % a quarter
        second (bench/hall.py, 50 at full speed: 5.7 frames a second each over the window)."""
        with self._lock:
            before = self.players
            self.players += change
            if change > 0 and self.capacity < float("inf"):
                self.capacity = self.capacity * self.players / before if before > 0 else float("inf")
            if full_speed:
                self.full_speed_players += change

    def note_frame_cost(self, seconds: float) -> None:
        with self._lock:
            self.frame_cost += 0.1 * (seconds - self.frame_cost)
            self._spent["frames"] += seconds

    def note_python_work(self, cpu_seconds: float) -> None:
        """A play turn's CPU time but its compiled training call's: its frame, metrics and
        heatmaps, its plan and bookkeeping, all holding the GIL."""
        with self._lock:
            self._python_work += cpu_seconds

    def note_loop_turns(self, cpu_seconds: float) -> None:
        """The event loop ran play turns for `cpu_seconds` (`turns_on_loop`): not its own work."""
        with self._lock:
            self._loop_turns += cpu_seconds

    def turns_on_loop(self, speed: float, step_seconds: float) -> bool:
        """Whether a session playing at `speed` steps a second (0: full speed), whose step takes
        `step_seconds`, has its turns run by the event loop (`Scheduler.run_on_loop`): when its
        training takes at most `LOOP_TRAINING_SHARE` of a core, so its turns are nearly all
        Python, which a training thread would run no sooner, only with GIL hand-overs."""
        return 0 < speed * step_seconds <= LOOP_TRAINING_SHARE

    def note_full_speed_frame(self, gap: float) -> None:
        """A full-speed session sent a frame `gap` seconds after its last one."""
        with self._lock:
            self._full_speed_gaps.append(gap)

    def adjust(self, seconds: float, loop_seconds: float) -> None:
        """The event loop's report on the last `seconds`: its own CPU time, `loop_seconds`. Sets
        `capacity` and `slice_scale` (see the module docstring and `FULL_SPEED_SLICE`)."""
        with self._lock:
            python_work, self._python_work = self._python_work, 0.0
            loop_turns, self._loop_turns = self._loop_turns, 0.0
            gaps, self._full_speed_gaps = self._full_speed_gaps, []
            players = self.players
        self._rescale_slices(gaps)
        if players == 0 or seconds <= 0:
            self.capacity = float("inf")
            return
        # the turns the loop ran are its CPU but not its own work; their Python is in python_work
        own = max(0.0, loop_seconds - loop_turns)
        busy = own / seconds > LOOP_SHARE or (own + python_work) / seconds > GIL_SHARE
        if busy:
            asked = players / self.frame_interval()
            self.capacity = max(players * MIN_FRAME_RATE, asked * DEGRADE)
        elif self.capacity < float("inf"):
            self.capacity *= RECOVER
            if self.capacity > players / self.frame_period:
                self.capacity = float("inf")  # every player at the full frame rate: no cap

    def _rescale_slices(self, gaps: list[float]) -> None:
        if not gaps:
            if self.full_speed_players == 0:
                self.slice_scale = 1.0
            return
        wanted = self.frame_interval()
        late = sum(gaps) / len(gaps) / wanted
        if late > ON_TIME:
            self.slice_scale = max(SLICE_SCALE_FLOOR, self.slice_scale * max(LATE_STEP, 1 / late))
        else:
            self.slice_scale = min(1.0, self.slice_scale * SLICE_RECOVER)

    def note_refresh_cost(self, seconds: float) -> None:
        with self._lock:
            self.refresh_cost += 0.1 * (seconds - self.refresh_cost)
            self._spent["metrics"] += seconds

    def spend(self, kind: str, seconds: float) -> None:
        """Count `seconds` of work of `kind` ("training", "heatmaps", "requests")."""
        with self._lock:
            self._spent[kind] += seconds

    def spent(self) -> dict[str, float]:
        """Seconds spent by kind of work since the server started, all threads together."""
        with self._lock:
            return dict(self._spent)

    # --- intervals ---------------------------------------------------------------------------
    def players_per_worker(self) -> float:
        """How many playing sessions one training thread serves in turn (at least one)."""
        return max(1.0, self.players / self.workers)

    def slice_seconds(self) -> float:
        """How long a playing session may train before the next one gets its thread.

        Alone on a thread, a session trains most of each frame period; when each thread serves
        n sessions, each gets about period/n minus the cost of its frame, but never less than
        `min_slice`, so with many sessions the round (and the frame interval) stretches instead
        of training stopping.
        """
        share = self.frame_interval() / self.players_per_worker() - self.frame_cost
        return min(self.max_slice, max(self.min_slice, share * self.slice_scale))

    def frame_interval(self) -> float:
        """Seconds between a playing session's frames: 1/60 s, stretched alike for every session
        when their frames together would pass what the server can send (`capacity`, measured),
        and when so many play at full speed that each thread's round of them, at
        `FULL_SPEED_SLICE` a turn, takes longer (up to 1/`FULL_SPEED_FRAME_RATE`)."""
        full_speed_round = self.full_speed_players / self.workers * (FULL_SPEED_SLICE + self.frame_cost)
        return max(self.frame_period, self.players / self.capacity, min(full_speed_round, 1 / FULL_SPEED_FRAME_RATE))

    def refresh_interval(self) -> float:
        """Seconds between re-evaluations of a playing session's whole-split metrics and probe:
        `refresh_period` (20 a second) when few sessions play; spaced out so that all sessions'
        evaluations together stay within `refresh_share` of the training threads, and training
        keeps the rest."""
        evaluations = self.players * self.refresh_cost / (self.refresh_share * self.workers)
        return max(self.refresh_period, self.frame_interval(), evaluations)

    def heatmap_interval(self, heatmap_rate: float) -> float:
        """Seconds between a playing session's heatmaps: at most `heatmap_rate` a second, fewer
        when many sessions play (they are the bulk of the bytes the one event loop sends, and
        change slowly to the eye)."""
        return max(1.0 / heatmap_rate, HEATMAP_SECONDS_PER_PLAYER * self.players)


@dataclass
class Plan:
    max_steps: int
    deadline: float  # time.perf_counter() value


class Pacer:
    """One session's play-loop clock: what to train this turn, when a frame or a heatmap is
    due, when to run again. Pure timing, no engine, so it can be tested on its own."""

    def __init__(self, cadence: Cadence, max_steps: int) -> None:
        self._cadence = cadence
        self._max_steps = max_steps
        self.next_frame_at = 0.0
        self.next_heatmap_at = 0.0
        self._owed = 0.0  # steps owed under a speed limit
        self._owed_at = 0.0
        self._last_frame_sent: float | None = None  # since playing started

    def start(self, now: float) -> None:
        """Playing starts (or the speed changed): a frame is due at once, nothing is owed."""
        self.next_frame_at = now
        self.next_heatmap_at = now
        self._owed, self._owed_at = 0.0, now
        self._last_frame_sent = None

    def plan(self, now: float, speed: float, frame_cost: float) -> Plan:
        """What to train this turn. `frame_cost` is what the coming frame will take to build."""
        cadence = self._cadence
        period = cadence.frame_interval()
        if self.next_frame_at < now - period:
            self.next_frame_at = now  # fell far behind (many sessions): no burst of catch-up frames
        slice_seconds = cadence.slice_seconds()
        slice_end = now + slice_seconds
        if speed == 0:
            # Train until just before the frame is due, but at least a fraction of a slice even
            # when it is due already: a session whose turns keep coming late would otherwise train
            # one step a turn while the others train whole slices.
            least = now + min(MIN_SLICE_SHARE * slice_seconds, MIN_FRAME_SHARE * period)
            return Plan(self._max_steps, max(least, min(slice_end, self.next_frame_at - frame_cost)))
        # Owed steps accrue at `speed`, capped so a stall does not turn into a burst.
        self._owed = min(self._owed + (now - self._owed_at) * speed, max(1.0, speed * 0.1))
        self._owed_at = now
        return Plan(int(self._owed), slice_end)

    def trained(self, steps: int, speed: float) -> None:
        if speed:
            self._owed -= steps

    def frame_due(self, now: float) -> bool:
        return now >= self.next_frame_at - FRAME_EARLY

    def frame_sent(self, now: float, full_speed: bool = False) -> None:
        """Keep the cadence (60 a second on average); after a long stall, start afresh. A
        full-speed session's gap since its last frame is told to the cadence."""
        if full_speed and self._last_frame_sent is not None:
            self._cadence.note_full_speed_frame(now - self._last_frame_sent)
        self._last_frame_sent = now
        period = self._cadence.frame_interval()
        self.next_frame_at += period
        if self.next_frame_at < now:
            self.next_frame_at = now + 0.5 * period

    def heatmap_due(self, now: float) -> bool:
        return now >= self.next_heatmap_at

    def heatmap_sent(self, now: float, interval: float) -> None:
        self.next_heatmap_at = now + interval

    def next_turn(self, now: float, speed: float) -> float:
        """When the play loop should run again."""
        if speed == 0:
            return now  # at once, behind every other session waiting for a thread
        next_step = now + max(0.0, 1.0 - self._owed) / speed
        if speed >= 1.0 / self._cadence.frame_interval():
            return max(next_step, self.next_frame_at - self._cadence.slice_seconds())
        return next_step


class ByteBudget:
    """A session's frame bytes within `bytes_per_second` on average, as a leaky bucket: frames
    that come bunched (a busy machine) may still carry their arrays, a sustained rate may not.
    Every frame's bytes are spent; only whether the next one may carry arrays is asked."""

    def __init__(self, bytes_per_second: float, burst: float = BYTES_BURST_SECONDS) -> None:
        self.bytes_per_second = bytes_per_second
        self.burst = burst
        self._spent_until = -float("inf")  # when the bytes sent so far have used up the budget

    def allows(self, now: float) -> bool:
        return now >= self._spent_until - self.burst

    def spend(self, now: float, size: int) -> None:
        self._spent_until = max(self._spent_until, now) + size / self.bytes_per_second
