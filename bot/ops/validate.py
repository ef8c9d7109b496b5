"""`make validate`: `rasa data validate --fail-on-warnings`, without the warnings about the
responses the custom actions send.

The actions send the assistant's sentences as domain.yml responses
(`dispatcher.utter_message(response=...)`, docs/conversation-design.md). Rasa counts a response
as used only when a story or a rule utters it, so it warns "The utterance '...' is not used in
any story or rule" for each of them: some fifty lines that would hide a real warning. Those
responses (bot.domain.responses_named_in, read from the actions' source) are declared expected,
in Rasa's own list of expected warnings; the validation itself is Rasa's, unchanged. (Rasa 3.6
does not fail on an unused response even with --fail-on-warnings: tests/test_texts.py checks
that every response is uttered by the data or by an action.)

    python -m bot.ops.validate [options of rasa data validate]
"""

from __future__ import annotations

import re
import sys

from rasa.utils.common import EXPECTED_WARNINGS

from bot.domain import responses_named_in


def main(argv: list[str]) -> None:
    for name in sorted(responses_named_in()):
        EXPECTED_WARNINGS.append((UserWarning, re.escape(f"The utterance '{name}' is not used in any story or rule.")))
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", "data", "validate", "--fail-on-warnings", *argv]
    rasa_main()  # exits non-zero when the validation fails


if __name__ == "__main__":
    main(sys.argv[1:])
