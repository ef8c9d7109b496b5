"""Shared fixtures of the console tests; the in-process harness is tests/console/inprocess.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.console.inprocess import STAFF, Console, login


@pytest.fixture(scope="module")
def clients(console: Console) -> Iterator[dict[str, TestClient]]:
    """Every staff account of the module's `console`, logged in (by name)."""
    logged = {name: login(console.app, name) for name, _ in STAFF}
    yield logged
    for client in logged.values():
        client.close()
