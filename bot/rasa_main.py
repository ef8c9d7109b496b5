"""Rasa's command line (`python -m bot.rasa_main run ...`) with the project's fixes to Rasa 3.6
installed first. `make run`, `make run-prod` and the tests start the Rasa server this way.

The one fix: Rasa checks every action server response with `jsonschema.validate(result,
schema)`, which first validates the (constant) schema against the JSON Schema meta-schema and
then builds a new validator — on every custom action call. Profiled under `make load`
(py-spy, 16 customers), that was 40% of the Rasa server's CPU. Here the schema is checked
once and the validator is kept; responses are validated exactly as before, with Rasa's
error message when one is invalid.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Dict, Text

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction


@functools.lru_cache(maxsize=None)
def _action_response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    error = best_match(_action_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (". Failed to validate Action server response from API, make sure your response from "
                      "the Action endpoint is valid. For more information about the format visit "
                      "https://rasa.com/docs/rasa/custom-actions")
    raise error


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]


def main() -> None:
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
