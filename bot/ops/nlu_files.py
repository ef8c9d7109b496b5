"""Reading Rasa NLU YAML files: for the data-quality tests, the evaluation and the benchmarks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from bot.folding import fold
from bot.settings import PROJECT_ROOT as ROOT

TRAINING_DIR = ROOT / "data" / "nlu"
HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"

# [text](entity) and [text]{"entity": ...}
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def plain_text(example: str) -> str:
    """The message as the customer typed it, without entity annotations."""
    return _ANNOTATION.sub(r"\1", example).strip()


def normalised(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces: for duplicate checks."""
    text = re.sub(r"[^\w\s]", " ", fold(plain_text(text)))
    return " ".join(text.split())


def intent_examples(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(intent, example) pairs from Rasa NLU YAML files."""
    pairs: list[tuple[str, str]] = []
    for path in paths:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    pairs.append((block["intent"], line[2:].strip()))
    return pairs


def training_examples() -> list[tuple[str, str]]:
    return intent_examples(sorted(TRAINING_DIR.glob("*.yml")))


def holdout_examples() -> list[tuple[str, str]]:
    return intent_examples([HOLDOUT])


def by_intent(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for intent, example in pairs:
        grouped.setdefault(intent, []).append(example)
    return grouped
