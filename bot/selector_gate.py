"""The response selector runs only for the messages it can answer (issue 15), installed by
bot/rasa_main.py.

Rasa's ResponseSelector (config.yml: retrieval intent `faq`, the information questions of issue
13) runs its TensorFlow model on every message, whatever the intent classifier said before it:
about 4 ms of every turn, 14% of the Rasa server's CPU under `make load` at 48 customers. Its
answer is read only when the message's intent is `faq`: the `faq` rules run `action_faq`, which
reads it (actions/faq.py); the two-stage fallback never offers `faq` as a choice
(actions/fallback.py NOT_SUGGESTED), so a message the FallbackClassifier turns into
`nlu_fallback` never comes back to its selection; no combined intent contains `faq`.

So the selector runs, exactly as Rasa runs it, on the messages whose intent (the classifier's,
which is before it in the pipeline) is its retrieval intent, alone or in a combination; the
others get no `response_selector` in their parse data instead of a selection nobody reads.
`rasa test nlu` (make eval) does not start the server this way and still measures the selector
on every held-out question.
"""

from __future__ import annotations

from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message

_process = ResponseSelector.process

# config.yml's WhitespaceTokenizer splits combined intents at "+" (issue 16)
INTENT_SPLIT_SYMBOL = "+"


def needs_selection(message: Message, retrieval_intent: str | None) -> bool:
    """Whether the selector's answer can be read for this message."""
    if not retrieval_intent:  # a selector for every retrieval intent: Rasa's behaviour
        return True
    name = (message.get(INTENT) or {}).get(INTENT_NAME_KEY) or ""
    return retrieval_intent in name.split(INTENT_SPLIT_SYMBOL)


# `self` unannotated: Rasa's graph validation (at training) takes every annotated parameter of a
# component's `process` for an input the graph must provide
def process(self, messages: list[Message]) -> list[Message]:
    needed = [message for message in messages if needs_selection(message, self.retrieval_intent)]
    if needed:
        _process(self, needed)
    return messages


def install() -> None:
    ResponseSelector.process = process
