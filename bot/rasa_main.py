"""Rasa's command line (`python -m bot.rasa_main run ...`) with the project's fixes to Rasa 3.6
installed first. `make run`, `make run-prod` and the tests start the Rasa server this way.

1. Rasa checks every action server response with `jsonschema.validate(result, schema)`, which
   first validates the (constant) schema against the JSON Schema meta-schema and then builds a
   new validator — on every custom action call. Profiled under `make load` (py-spy, 16
   customers), that was 40% of the Rasa server's CPU. Here the schema is checked once, and a
   response is checked against it by jsonschema-rs's compiled validator (the same schema, the
   same draft; 3 µs instead of 1.5 ms for a form's answer, which was still 5% of the Rasa
   server's CPU under `make load` at 48 customers). Only a response it rejects goes through
   jsonschema, whose verdict decides and whose error gets Rasa's message, as before.
2. Rasa wraps the tracker store in a `FailSafeTrackerStore`: when the database is unreachable,
   a conversation is read as a new one and its events are saved in the replica's memory — the
   customer talks to an assistant that forgot the conversation, and what is said meanwhile never
   reaches PostgreSQL. The project's store (bot/rasa_stores.py) is not wrapped: the turn fails,
   the REST channel answers 503 with an apology and the client resends the message once the
   database is back (bot/channels/rest.py).
"""

from __future__ import annotations

# First, before Rasa and Sanic: other libraries' deprecation notices stay out of the log
import bot.quiet  # noqa: F401

# isort: split

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import jsonschema_rs
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.core.agent import Agent
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain

from bot import action_client, action_window, tracker_copy, tracker_history
from bot.rasa_compat import require
from bot.rasa_stores import UrlSQLTrackerStore
from bot.settings import get_settings

require("rasa", __name__)


@functools.cache
def _action_response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@functools.cache
def _action_response_is_valid() -> Callable[[Any], bool]:
    return jsonschema_rs.validator_for(RemoteAction.action_response_format_spec()).is_valid


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    if _action_response_is_valid()(result):
        return True
    error = best_match(_action_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from "
        "the Action endpoint is valid. For more information about the format visit "
        "https://rasa.com/docs/rasa/custom-actions"
    )
    raise error


_wrapped_tracker_store = Agent._create_tracker_store


def _create_tracker_store(store: TrackerStore | None, domain: Domain) -> TrackerStore:
    if isinstance(store, UrlSQLTrackerStore):
        store.domain = domain
        return store
    return _wrapped_tracker_store(store, domain)


def _cap_request_size() -> None:
    # Sanic reads SANIC_* variables when Rasa creates its app: bodies over MAX_REQUEST_BYTES get
    # 413 before any handler runs (Sanic's default is 100 MB; issue 10, finding 5).
    limit = str(get_settings().max_request_bytes)
    os.environ["SANIC_REQUEST_MAX_SIZE"] = limit
    os.environ["SANIC_WEBSOCKET_MAX_SIZE"] = limit


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result
    Agent._create_tracker_store = staticmethod(_create_tracker_store)
    tracker_history.install()
    tracker_copy.install()
    action_client.install()
    action_window.install()
    # issue 13: typed button titles; emergencies answered while a conversation is paused
    from bot import conversation_guards

    conversation_guards.install()
    # issue 16: no question three times in a row
    from bot import no_repeat

    no_repeat.install()
    # issue 15: the response selector only where its answer is read; the intent classifier's
    # coefficients in the layout a one-message product reads in place
    from bot import graph_runner, intent_classifier, rule_policy, selector_gate

    selector_gate.install()
    intent_classifier.install()
    rule_policy.install()
    graph_runner.install()


def with_api_token(argv: list[str], token: str) -> list[str]:
    """`rasa run --enable-api` arguments with the API token added from RASA_API_TOKEN. Only this
    process's copy of its arguments changes: /proc/PID/cmdline, which `ps` shows to every local
    user, keeps the command line the token was never on."""
    if argv[:1] != ["run"] or "--enable-api" not in argv or {"--auth-token", "-t"} & set(argv):
        return argv
    if not token:
        # Rasa would serve its whole HTTP API (every conversation, /model/parse...) to anyone
        raise SystemExit("bot.rasa_main: --enable-api without RASA_API_TOKEN; set it in the environment")
    return [*argv, "--auth-token", token]


def main() -> None:
    install()
    sys.argv[1:] = with_api_token(sys.argv[1:], get_settings().rasa_api_token)
    _cap_request_size()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
