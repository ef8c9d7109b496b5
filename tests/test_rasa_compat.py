"""The Rasa version guard (bot/rasa_compat.py): the modules that patch or subclass Rasa's and
rasa-sdk's private parts refuse, at import, a version they were not written for (issue 11)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

# Loaded once here, as the services load them: Rasa's import starts a process (git), and a module
# run again below finds the guarded modules it imports already checked.
import bot.action_server
import bot.channels.rest
import bot.channels.socketio
import bot.rasa_main
import bot.rasa_stores  # noqa: F401
from bot import rasa_compat
from bot.ops.services import service_environment
from bot.rasa_compat import UnsupportedRasaVersion, require
from bot.settings import PROJECT_ROOT
from tests.harness.processes import free_port

GUARDED = {
    "bot.rasa_main": "rasa",
    "bot.rasa_stores": "rasa",
    "bot.channels.rest": "rasa",
    "bot.channels.socketio": "rasa",
    "bot.action_server": "rasa-sdk",
}


def execute_fresh(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Import a module again, as a service's start does: its code runs in a new module object,
    registered for the test only (the loaded one is back afterwards)."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, module, fresh)  # dataclasses look their module up there
    spec.loader.exec_module(fresh)


def test_the_installed_versions_are_the_ones_the_patches_were_written_for(monkeypatch):
    for module in sorted(GUARDED):
        execute_fresh(module, monkeypatch)  # raises if not


@pytest.mark.parametrize("module, distribution", sorted(GUARDED.items()))
def test_another_version_stops_the_module_at_import_naming_it_and_both_versions(module, distribution, monkeypatch):
    real = rasa_compat.installed_version
    monkeypatch.setattr(rasa_compat, "installed_version", lambda name: "3.7.0" if name == distribution else real(name))
    with pytest.raises(UnsupportedRasaVersion) as refused:
        execute_fresh(module, monkeypatch)
    message = str(refused.value)
    assert module in message and distribution in message and "3.7.0" in message
    assert str(rasa_compat.PATCHED_FOR[distribution]) in message  # the version it was written for


@pytest.mark.parametrize(
    "distribution, version, accepted",
    [
        ("rasa", "3.6.21", True),
        ("rasa", "3.6.20", False),
        ("rasa", "3.7.0", False),
        ("rasa", "none", False),  # not installed
        ("rasa-sdk", "3.6.2", True),
        ("rasa-sdk", "3.6.9", True),
        ("rasa-sdk", "3.7.0", False),
        ("rasa-sdk", "3.5.1", False),
    ],
)
def test_which_versions_are_accepted(distribution, version, accepted, monkeypatch):
    monkeypatch.setattr(rasa_compat, "installed_version", lambda name: version)
    if accepted:
        require(distribution, "some.module")
    else:
        with pytest.raises(UnsupportedRasaVersion, match=r"some\.module"):
            require(distribution, "some.module")


def fake_distribution(folder: Path, name: str, version: str) -> Path:
    """A dist-info directory that importlib.metadata finds before the installed one."""
    info = folder / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return folder


@pytest.mark.parametrize(
    "entry_point, distribution",
    [("bot.rasa_main", "rasa"), ("bot.action_server", "rasa-sdk")],
)
def test_a_service_started_on_another_version_fails_at_start(entry_point, distribution, tmp_path):
    """The whole start, as `make run` starts the service (`python -m ...`), on an upgraded Rasa."""
    upgraded = fake_distribution(tmp_path / "site", distribution, "3.7.0")
    env = service_environment(
        base={"PATH": "/usr/bin:/bin"},
        PYTHONPATH=str(upgraded),
        ACTION_SERVER_TOKEN="token-for-the-guard-test",
        RASA_API_TOKEN="token-for-the-guard-test",
    )
    # on a free port: without the guard the service would start and serve
    port = ["--port", str(free_port())]
    arguments = ["run", "--enable-api", "--interface", "127.0.0.1", *port] if entry_point == "bot.rasa_main" else port
    started = subprocess.run(
        [sys.executable, "-m", entry_point, *arguments],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert started.returncode != 0
    assert "UnsupportedRasaVersion" in started.stderr
    # the first guarded module imported names itself (bot.rasa_main imports bot.rasa_stores first);
    # a module run with -m is named, not "__main__"
    assert re.search(rf"bot\.[a-z_.]+ uses private APIs of {distribution}, written for", started.stderr)
    assert "__main__ uses" not in started.stderr
    assert "3.7.0 is installed" in started.stderr
