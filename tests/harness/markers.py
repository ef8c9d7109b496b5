"""Splits the suite in two without anyone remembering to mark a test.

A test is marked `services` when it, or any fixture it uses, starts processes: the project's
services (billing backend, action server, Rasa, web), a profile, a browser, or any subprocess.
It is found by reading the code each one references, following the helpers defined under
`tests/` and `bench/` (a production test reuses the load runner), so `start_backend()` counts
because it calls `start_logged()`. Everything else is in-process and runs with `make test-fast`
(`pytest -m "not services"`).

The reading can miss a launch hidden behind a project function; `--forbid-processes` (which
`make test-fast` passes) makes any process started by a test not marked `services` fail that
test with a message saying to mark it, so the fast set never quietly starts services.
Loaded from pytest.ini with `-p tests.harness.markers`.
"""

from __future__ import annotations

import inspect
import subprocess
import types
from collections.abc import Iterator
from typing import Any

import pytest

MARKER = "services"
# Where the helpers are read: the tests' own, and the measurement runners some tests reuse.
HELPER_PACKAGES = ("tests.", "bench.")
# Names whose use means "a process starts": the harness's launchers, subprocess itself,
# asyncio's subprocess API, Playwright's browser launch.
LAUNCHERS = frozenset(
    {
        "subprocess",
        "Popen",
        "start_logged",
        "launch",
        "launch_profile",
        "running_stack",
        "create_subprocess_exec",
        "create_subprocess_shell",
        "sync_playwright",
        "async_playwright",
    }
)


def _code_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # nested functions, lambdas, comprehensions
            yield from _code_names(const)


def _functions(obj: Any) -> Iterator[types.FunctionType]:
    obj = inspect.unwrap(obj) if callable(obj) else obj
    if isinstance(obj, types.FunctionType):
        yield obj
    elif inspect.isclass(obj):
        for member in vars(obj).values():
            member = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            if isinstance(member, property):
                member = member.fget
            if isinstance(member, types.FunctionType):
                yield member


def starts_processes(obj: Any, seen: set[int]) -> bool:
    """Whether `obj` (a function or class) or a helper it references under tests/ launches."""
    for function in _functions(obj):
        if id(function) in seen:
            continue
        seen.add(id(function))
        names = set(_code_names(function.__code__))
        if names & LAUNCHERS:
            return True
        for name in names:
            target = function.__globals__.get(name)
            if (
                target is not None
                and (inspect.isfunction(target) or inspect.isclass(target))
                and (getattr(target, "__module__", "") or "").startswith(HELPER_PACKAGES)
                and starts_processes(target, seen)
            ):
                return True
    return False


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--forbid-processes",
        action="store_true",
        help=f"fail a test not marked '{MARKER}' that starts a process (make test-fast)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: starts processes (services, profiles, a browser); set automatically by tests/harness/markers.py",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    for item in items:
        if item.get_closest_marker(MARKER) or not isinstance(item, pytest.Function):
            continue
        seen: set[int] = set()
        fixtures = [
            fixture.func
            for name in item.fixturenames
            for fixture in item._fixtureinfo.name2fixturedefs.get(name, ())
            if fixture.func.__module__ != __name__
        ]  # the guard below names subprocess
        if any(starts_processes(candidate, seen) for candidate in [item.function, *fixtures]):
            item.add_marker(MARKER)


@pytest.fixture(autouse=True)
def _forbid_processes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if not request.config.getoption("--forbid-processes") or request.node.get_closest_marker(MARKER):
        return
    original = subprocess.Popen.__init__

    def refuse(self: subprocess.Popen, args: Any, *rest: Any, **kwargs: Any) -> None:
        pytest.fail(
            f"{request.node.nodeid} starts a process ({args!r:.80}) but is not marked "
            f"'{MARKER}': mark it, or teach tests/harness/markers.py the launcher",
            pytrace=False,
        )
        original(self, args, *rest, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
