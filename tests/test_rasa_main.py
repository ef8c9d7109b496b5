"""The project's fixes to Rasa (bot/rasa_main.py): action server responses are still validated."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

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


# Issue 15: responses are checked by jsonschema-rs first; jsonschema decides only what it rejects.
# The two must agree, or a response Rasa would refuse could pass: compared on generated responses
# made of Rasa's event names and properties with values of every JSON type.
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_EVENT_NAMES = sorted(cls.type_name for cls in all_subclasses(Event) if hasattr(cls, "type_name")) + ["nope", ""]
_KEYS = ["event", "name", "value", "timestamp", "text", "parse_data", "entities", "intent", "metadata",
         "policy", "confidence", "data", "input_channel", "message_id", "buttons", "response"]
_event = st.dictionaries(st.sampled_from(_KEYS), _json, max_size=4).flatmap(
    lambda body: st.sampled_from(_EVENT_NAMES).map(lambda name: {**body, "event": name})
) | st.dictionaries(st.sampled_from(_KEYS), _json, max_size=4)
_response = st.fixed_dictionaries(
    {},
    optional={
        "events": st.lists(_event, max_size=3) | _json,
        "responses": st.lists(st.dictionaries(st.sampled_from(_KEYS), _json, max_size=3) | _json, max_size=2) | _json,
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_response)
def test_the_compiled_check_agrees_with_jsonschema(response) -> None:
    schema = RemoteAction.action_response_format_spec()
    assert rasa_main._action_response_is_valid()(response) == Draft202012Validator(schema).is_valid(response)


def test_the_compiled_check_is_used_and_jsonschema_only_for_rejections(action: RemoteAction, monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(rasa_main, "best_match", lambda errors: calls.append(1) or None)
    assert action._validate_action_result({"events": [{"event": "slot", "name": "x", "value": 1}]}) is True
    assert calls == []  # a valid response never reaches jsonschema
    assert action._validate_action_result({"events": [{"event": "no_such_event"}]}) is True  # jsonschema decides
    assert calls == [1]


def test_training_validates_the_model_graph_with_every_fix_installed() -> None:
    """`make train` runs `python -m bot.rasa_main train`: with the fixes installed, Rasa's graph
    validation must still accept the components whose methods they replace (it reads their
    signatures: an annotated `self` once made it refuse the model)."""
    import rasa.engine.validation
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.data import TrainingType
    from rasa.shared.importers.importer import TrainingDataImporter

    from bot.settings import PROJECT_ROOT

    rasa_main.install()
    importer = TrainingDataImporter.load_from_config(
        str(PROJECT_ROOT / "config.yml"), str(PROJECT_ROOT / "domain.yml"), [str(PROJECT_ROOT / "data")]
    )
    config = importer.get_config()
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    config, _, _ = recipe.auto_configure(importer.get_config_file_for_auto_config(), config, TrainingType.BOTH)
    rasa.engine.validation.validate(recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.BOTH))
