"""Hypothesis's settings for every property test (tests/*/test_*properties.py), and the one
PostgreSQL cluster of a test process (`postgres`: the cluster's tests and the runs tests).

CI must give the same verdict on every run and stay fast on two shared cores, so the profile
loaded here is deterministic and bounded:

- `derandomize=True`: the examples follow from each test's own code, not from a random seed, so
  a failure comes back when the same test runs again, on any machine;
- `database=None`: no `.hypothesis/` folder of remembered failures that would make one
  machine's runs differ from another's (a failure prints its example instead);
- `deadline=None`: one example's time depends on what else the two cores run (a numba compile,
  another developer's tests), which is not what the properties are about;
- `max_examples=25`: a bound for a test that sets none; each test sets its own beside its cost.
"""

from collections.abc import Iterator

import pytest
from hypothesis import settings

from backprop_lab.server.cluster.services import Postgres, start_postgres

settings.register_profile("ci", derandomize=True, database=None, deadline=None, max_examples=25)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One PostgreSQL cluster of our own per test process (so one per xdist worker), started
    from Debian's binaries on 127.0.0.1 the first time a test asks for it; tests take a fresh
    database each (`Postgres.create_database`), the runs tests one per module."""
    service = start_postgres(fast=True)
    yield service
    service.stop()
