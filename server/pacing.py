"""The play loop's clock: how long to train before the next frame, how many steps a speed
limit allows, and when frames and heatmaps are due. Pure timing, no engine, so it can be
tested on its own; `Session` asks it at every turn of its play loop.

Two regimes:
- full speed (`steps_per_second == 0`, the default): train until just before the next frame is
  due (minus what building that frame costs), never longer than a slice, then send the frame.
  Training is decoupled from the frame rate: a frame carries however many steps fit.
- a speed limit: steps are *owed* at that rate and trained as they come due; below the frame
  rate every step gets its own frame, above it frames go out at the frame rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.scheduler import Scheduler

FRAME_EARLY = 0.0005  # a frame may go out this much before its time rather than wait a turn


@dataclass
class Plan:
    max_steps: int
    deadline: float  # time.perf_counter() value


class Pacer:
    def __init__(self, scheduler: Scheduler, max_steps: int) -> None:
        self._scheduler = scheduler
        self._max_steps = max_steps
        self.next_frame_at = 0.0
        self.next_heatmap_at = 0.0
        self._owed = 0.0  # steps owed under a speed limit
        self._owed_at = 0.0

    def start(self, now: float) -> None:
        """Playing starts (or the speed changed): a frame is due at once, nothing is owed."""
        self.next_frame_at = now
        self.next_heatmap_at = now
        self._owed, self._owed_at = 0.0, now

    def plan(self, now: float, speed: float, frame_cost: float) -> Plan:
        """What to train this turn. `frame_cost` is what the coming frame will take to build."""
        scheduler = self._scheduler
        period = scheduler.frame_interval()
        if self.next_frame_at < now - period:
            self.next_frame_at = now  # fell far behind (many sessions): no burst of catch-up frames
        slice_end = now + scheduler.slice_seconds()
        if speed == 0:
            return Plan(self._max_steps, max(now, min(slice_end, self.next_frame_at - frame_cost)))
        # Owed steps accrue at `speed`, capped so a stall does not turn into a burst.
        self._owed = min(self._owed + (now - self._owed_at) * speed, max(1.0, speed * 0.1))
        self._owed_at = now
        return Plan(int(self._owed), slice_end)

    def trained(self, steps: int, speed: float) -> None:
        if speed:
            self._owed -= steps

    def frame_due(self, now: float) -> bool:
        return now >= self.next_frame_at - FRAME_EARLY

    def frame_sent(self, now: float) -> None:
        """Keep the cadence (60 a second on average); after a long stall, start afresh."""
        period = self._scheduler.frame_interval()
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
            return now  # at once, behind every other session waiting for the thread
        next_step = now + max(0.0, 1.0 - self._owed) / speed
        if speed >= 1.0 / self._scheduler.frame_interval():
            return max(next_step, self.next_frame_at - self._scheduler.slice_seconds())
        return next_step
