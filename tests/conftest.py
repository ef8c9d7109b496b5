"""Shared fixtures. The process plumbing they use is in tests/harness/."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.channels.fake_graph import FakeGraph
from tests.harness.assistant import RunningAssistant, running_assistant

# Importing jax (TensorFlow imports it in this process) sets TF_CPP_MIN_LOG_LEVEL=1 here when it is
# unset, and every service a later test starts would inherit it instead of the launchers' default
# (2): TensorFlow's TensorRT notice then showed in the production profile's log in the full suite
# only. The services must start as from a shell where it is unset, so it is unset here first.
os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Drop the value jax's import sets again, before the test's fixtures (module-scoped ones
    included) start their services."""
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "1":
        del os.environ["TF_CPP_MIN_LOG_LEVEL"]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAssistant]:
    """The real assistant, started the way `make run` starts it (`python -m bot.ops.run`)."""
    with running_assistant(tmp_path_factory.mktemp("assistant")) as running:
        yield running


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraph]:
    """Meta's Graph API faked on loopback (tests/channels/fake_graph.py), one per test module:
    the WhatsApp tests point the channel at it with `channel_env`."""
    fake = FakeGraph()
    yield fake
    fake.close()
