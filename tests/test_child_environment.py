"""Child processes get their environment from one function, bot.ops.services.service_environment:
the launchers, the tests that start services or launchers, and the tooling (issue 11)."""

from __future__ import annotations

import os
import re

from bot.ops.services import service_environment
from bot.settings import PROJECT_ROOT, Settings


def test_overrides_win_and_unset_names_are_gone():
    base = {"PATH": "/bin", "BILLING_URL": "http://old", "RASA_PORT": "1", "PYTHONPATH": "/elsewhere"}
    env = service_environment(base=base, unset=("BILLING_URL",), RASA_PORT="2")
    assert env["RASA_PORT"] == "2" and "BILLING_URL" not in env and env["PATH"] == "/bin"
    assert env["PYTHONPATH"].split(os.pathsep) == [str(PROJECT_ROOT), "/elsewhere"]
    assert env["SQLALCHEMY_SILENCE_UBER_WARNING"] == "1"
    assert base["BILLING_URL"] == "http://old"  # the caller's mapping is not touched


def test_settings_fill_only_what_the_caller_left_out():
    settings = Settings(_env_file=None, rasa_port=5999, action_port=5998)
    env = service_environment(settings, base={"RASA_PORT": "6000"})
    assert env["RASA_PORT"] == "6000"  # the caller's value wins
    assert env["ACTION_PORT"] == "5998" and env["ACTION_SERVER_URL"] == settings.action_server_url


def test_a_launcher_started_by_a_test_derives_its_own_urls():
    # Without settings nothing is derived: the launcher computes the URLs from the ports it is given.
    env = service_environment(base={}, RASA_PORT="7000")
    assert "ACTION_SERVER_URL" not in env and "BILLING_URL" not in env


def test_no_other_module_copies_the_environment_by_hand():
    copying = re.compile(r"dict\(os\.environ|\{\*\*os\.environ|os\.environ\.copy\(\)")
    found = {
        str(path.relative_to(PROJECT_ROOT)): number
        for folder in ("bot", "tests", "actions")
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py"))
        if path.name != "services.py" or path.parent.name != "ops"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if copying.search(line) and path.name != "test_child_environment.py"
    }
    assert found == {}
