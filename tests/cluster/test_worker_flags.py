"""A worker behind a proxy: its links name the proxy's address, it accepts the proxy's Host and
Origin, and it believes X-Forwarded-For from the proxy only; a single process believes no one."""

from __future__ import annotations

import pytest

from backprop_lab.server.cli import build_server, parse_args, settings_from


def settings(*flags: str):  # type: ignore[no-untyped-def]
    return settings_from(parse_args([*flags, "--db", ":memory:"]))


def test_a_worker_behind_a_proxy_builds_links_on_the_proxy_s_address_and_accepts_its_host_and_origin():
    worker = settings("--worker", "w1", "--port", "8101", "--public-url", "https://lab.school.example")
    assert worker.public_url() == "https://lab.school.example/"
    assert "lab.school.example" in worker.allowed_hosts()
    assert "https://lab.school.example" in worker.allowed_origins()
    assert "http://127.0.0.1:8101" in worker.allowed_origins()  # its own address still works


@pytest.mark.parametrize("url", ["lab.school:8000", "ftp://lab.school/", "http://"])
def test_a_public_url_that_is_not_an_address_is_refused_at_start_naming_the_flag(url):
    with pytest.raises(SystemExit, match="--public-url"):
        settings("--public-url", url)


def test_only_a_worker_believes_x_forwarded_for_and_only_from_its_proxy():
    single = build_server(settings()).config
    assert single.proxy_headers is False
    worker = build_server(settings("--worker", "w1")).config
    assert (worker.proxy_headers, worker.forwarded_allow_ips) == (True, "127.0.0.1")
    remote = build_server(settings("--worker", "w2", "--proxy-address", "10.0.0.10")).config
    assert remote.forwarded_allow_ips == "10.0.0.10"
