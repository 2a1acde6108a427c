"""The client's tests run against the server tests' live server: the fixtures of tests/server/conftest.py
(a real uvicorn on 127.0.0.1, shared by a module's tests), imported here under a name of their own."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backprop_lab.client import Client

SERVER_TESTS = Path(__file__).resolve().parent.parent / "server"
sys.path.insert(0, str(SERVER_TESTS))  # its conftest imports server_helpers from there
_spec = importlib.util.spec_from_file_location("server_conftest", SERVER_TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
server_conftest = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = server_conftest  # its dataclasses look their module up there
_spec.loader.exec_module(server_conftest)

live = server_conftest.live
classroom = server_conftest.classroom
http = server_conftest.http


@pytest.fixture(scope="module")
def lab(live) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    """The client on the module's live server."""
    with Client(live.base) as client:
        yield client
