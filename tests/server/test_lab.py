"""server.lab: the sweep's default history spacing. (How many sweeps run at once is the
ledger's: tests/server/test_quotas.py.)"""

from __future__ import annotations

from server.lab import default_record_every


def test_the_history_has_every_step_up_to_500_steps_and_about_500_points_beyond():
    assert default_record_every(400) == 1 and default_record_every(500) == 1
    assert default_record_every(1000) == 2 and default_record_every(1_000_000) == 2000
