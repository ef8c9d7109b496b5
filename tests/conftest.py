"""Shared fixtures. The process plumbing they use is in tests/harness/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.assistant import RunningAssistant, running_assistant


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAssistant]:
    """The real assistant, started the way `make run` starts it (`python -m bot.ops.run`)."""
    with running_assistant(tmp_path_factory.mktemp("assistant")) as running:
        yield running
