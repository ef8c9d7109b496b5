"""domain.yml, read where the project needs its lists: the intents (for the labels, the NLU
evaluation and the tests) and the responses (for `make validate` and the text tests), and the
responses the custom actions send.

domain.yml is the one place the intent list is written; the contract fixes its first names
(docs/contracts.md) and docs/intents.md says what each means.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
ACTIONS_DIR = PROJECT_ROOT / "actions"
_RESPONSE_NAME = re.compile(r"utter_[a-z0-9_]+")


@functools.lru_cache(maxsize=4)
def load_domain(path: Path = DOMAIN_FILE) -> dict[str, Any]:
    """domain.yml as YAML reads it (anchors resolved)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def domain_intents(path: Path = DOMAIN_FILE) -> list[str]:
    """The intents, in the order domain.yml lists them."""
    return [next(iter(i)) if isinstance(i, dict) else str(i) for i in load_domain(path)["intents"]]


def domain_responses(path: Path = DOMAIN_FILE) -> dict[str, list[dict[str, Any]]]:
    """The responses: name -> variations."""
    return dict(load_domain(path).get("responses") or {})


# Besides the custom actions, the console's routes have Rasa send a response (issue 14: the
# rating question after an agent closes, bot/console/routes/queue.py).
RESPONSE_SENDERS = (
    ACTIONS_DIR,
    PROJECT_ROOT / "bot" / "console" / "routes",
    PROJECT_ROOT / "bot" / "no_repeat.py",  # issue 16: the server's guard against a question asked thrice
)


def responses_named_in(folders: tuple[Path, ...] = RESPONSE_SENDERS) -> set[str]:
    """The response names the custom actions (and the console) send: every string of their
    source that is a response name ("utter_..."), whether passed as `response=` or kept in a
    table of codes."""
    names: set[str] = set()
    for path in sorted(p for folder in folders for p in (folder.glob("*.py") if folder.is_dir() else [folder])):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _RESPONSE_NAME.fullmatch(node.value):
                names.add(node.value)
    return names
