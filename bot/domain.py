"""domain.yml, read where the project needs its lists: the intents (for the labels, the NLU
evaluation and the tests) and the responses (for `make validate` and the text tests).

domain.yml is the one place the intent list is written; the contract fixes its first names
(docs/contracts.md) and docs/intents.md says what each means.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"


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
