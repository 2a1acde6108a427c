"""A worker's name starts every session id it makes, so a proxy can route by the id alone."""

import pytest

from backprop_lab.server.cli import parse_args, settings_from
from backprop_lab.server.live.manager import new_id
from backprop_lab.server.settings import Settings


def test_a_workers_session_ids_start_with_its_name_and_a_single_process_ids_do_not() -> None:
    ids = {new_id("w2") for _ in range(200)}
    assert len(ids) == 200
    assert all(id_.startswith("w2.") and id_.count(".") == 1 and len(id_) == 25 for id_ in ids)
    assert all("." not in new_id() for _ in range(200))


@pytest.mark.parametrize("name", ["", "W1", "1w", "w.1", "w-1", "worker-with-a-long-name"])
def test_a_bad_worker_name_is_refused_at_start_naming_the_flag(name: str) -> None:
    with pytest.raises(SystemExit, match="--worker"):
        settings_from(parse_args(["--worker", name, "--db", ":memory:"]))


def test_the_cluster_flags_reach_the_settings() -> None:
    settings = settings_from(parse_args(["--worker", "w3", "--redis", "redis://127.0.0.1:6390/0"]))
    assert (settings.worker, settings.redis_url) == ("w3", "redis://127.0.0.1:6390/0")
    assert (Settings().worker, Settings().redis_url) == (None, None)
