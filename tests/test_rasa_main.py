"""The project's fix to Rasa (bot/rasa_main.py): action server responses are still validated."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_main
from bot.ops.services import rasa_server_command
from bot.settings import get_settings


@pytest.fixture()
def action() -> RemoteAction:
    rasa_main.install()
    return RemoteAction("action_test", None)


def test_valid_responses_pass(action: RemoteAction) -> None:
    response = {"events": [{"event": "slot", "name": "customer_code", "value": "100001", "timestamp": None}],
                "responses": [{"text": "Buongiorno"}]}
    assert action._validate_action_result(response) is True
    assert action._validate_action_result({}) is True


@pytest.mark.parametrize("response", [
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "customer_code"}]},
    {"responses": "Buongiorno"},
    {"events": "slot"},
])
def test_invalid_responses_are_rejected_with_rasas_message(action: RemoteAction, response) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(response)


def test_the_rasa_server_starts_with_the_fix(tmp_path) -> None:
    command = rasa_server_command(get_settings(), tmp_path / "model.tar.gz")
    assert command[1:4] == ["-m", "bot.rasa_main", "run"]
    assert "--auth-token" not in command  # bot.rasa_main takes it from RASA_API_TOKEN


def test_the_api_token_comes_from_the_environment_not_the_command_line() -> None:
    argv = ["run", "--enable-api", "--port", "5005"]
    assert rasa_main.with_api_token(argv, "s3cret-from-env") == argv + ["--auth-token", "s3cret-from-env"]
    assert rasa_main.with_api_token(["run", "--enable-api", "--auth-token", "x"], "y")[-1] == "x"
    assert rasa_main.with_api_token(["shell"], "") == ["shell"]


def test_the_api_is_never_enabled_without_a_token() -> None:
    # an empty RASA_API_TOKEN would serve every conversation to anyone: refuse to start
    with pytest.raises(SystemExit, match="RASA_API_TOKEN"):
        rasa_main.with_api_token(["run", "--enable-api"], "")


def test_cors_allows_only_the_configured_origins(tmp_path) -> None:
    from bot.settings import Settings

    settings = Settings(_env_file=None, cors_origins="https://www.example.it, https://area.example.it/")
    command = rasa_server_command(settings, tmp_path / "model.tar.gz")
    origins = command[command.index("--cors") + 1:]
    assert origins == ["https://www.example.it", "https://area.example.it"] and "*" not in command
    default = rasa_server_command(Settings(_env_file=None, web_port=8081), tmp_path / "model.tar.gz")
    assert "http://127.0.0.1:8081" in default[default.index("--cors") + 1:] and "*" not in default


def test_the_load_baseline_runs_rasa_as_shipped(tmp_path) -> None:
    from bot.settings import Settings

    settings = Settings(_env_file=None, rasa_stock=True, tracker_store_url=f"sqlite:///{tmp_path / 'tracker.db'}")
    command = rasa_server_command(settings, tmp_path / "model.tar.gz", stock_api_token="token")
    assert command[0].endswith("/rasa") and command[1] == "run"
    assert command[command.index("--auth-token") + 1] == "token"  # Rasa as shipped: only there
    assert command[command.index("--endpoints") + 1].endswith("eval/endpoints-stock.yml")
    assert settings.process_environment()["STOCK_TRACKER_DB"] == str(tmp_path / "tracker.db")


def test_the_projects_tracker_store_is_not_wrapped_in_rasas_fail_safe_store(tmp_path) -> None:
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
    from rasa.shared.core.domain import Domain

    from bot.rasa_stores import UrlSQLTrackerStore

    rasa_main.install()
    ours = UrlSQLTrackerStore(url=f"sqlite:///{tmp_path / 'tracker.db'}")
    domain = Domain.empty()
    assert Agent._create_tracker_store(ours, domain) is ours and ours.domain is domain
    assert isinstance(Agent._create_tracker_store(InMemoryTrackerStore(domain), domain), FailSafeTrackerStore)
