"""Every regular expression the bot and the actions apply to text is linear by its shape
(tests/backtracking.py reads it as `re` parses it): no repetition whose iterations can split the
text in several ways, no overlapping neighbours; customer_data's patterns also have bounded
repetitions (masking's: tests/test_masking.py). The checker
itself is tested first: it must refuse the known catastrophic shapes."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import actions
import bot.nlu
from bot.settings import PROJECT_ROOT
from tests.backtracking import Found, literal_patterns, module_patterns, problems

CATASTROPHIC = [
    r"(a+)+$",  # the textbook case: 2^n ways to split a run of a's
    r"(a*)*b",
    r"(a|aa)+$",
    r"(a|a)*$",
    r"(a{1,2})+$",
    r"(a+b?)+$",
    r"^(\w+\s?)*$",
    r"(.*a){12}",
    r"\d+\d+x",  # overlapping neighbours: n^2 ways
    r"\w* ?\w*!",
    r"(?:a?)*",
]
SAFE = [
    r"[a-z]+",
    r"(?:\.\d{3})+",
    r"\d{1,3}(?:\.\d{3})+|\d+",
    r"(a+b)+",
    r"(?:ab|cd)+",
    r"(?:[ ]?[A-Z0-9]){11,30}",
    r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}",
]
# Modules whose compiled patterns read what customers write (their f-strings and patterns built
# at import are read from the objects): masking, the checks of customer data, the NLU helpers,
# places, ratings, dates, the channels' and the console's text handling, every action.
CUSTOMER_TEXT_MODULES = [
    "bot.masking",
    "bot.customer_data",
    "bot.places",
    "bot.csat",
    "bot.dates",
    "bot.folding",
    "bot.channels.rest",
    "bot.console.conversations",
    "bot.console.canned",
    *(f"bot.nlu.{m.name}" for m in pkgutil.iter_modules(bot.nlu.__path__)),
    *(f"actions.{m.name}" for m in pkgutil.iter_modules(actions.__path__)),
]


def source_files() -> list[Path]:
    return sorted(
        path
        for folder in ("bot", "actions")
        for path in (PROJECT_ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
    )


def unsafe(found: list[Found], bounded: bool = False) -> dict[str, list[str]]:
    return {f"{f.where}: {f.pattern}": p for f in found if (p := problems(f.pattern, f.flags, bounded))}


# ---------------------------------------------------------------------------- the checker
@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_the_checker_refuses_a_catastrophic_pattern(pattern):
    assert problems(pattern), pattern


@pytest.mark.parametrize("pattern", SAFE)
def test_the_checker_accepts_a_repetition_that_splits_one_way(pattern):
    assert problems(pattern) == []


def test_bounded_refuses_any_unbounded_repetition():
    assert problems(r"[a-z]+@", bounded=True) and problems(r"[a-z]+@") == []
    assert problems(r"[a-z]{1,64}@", bounded=True) == []


def test_flags_are_read_with_the_pattern(tmp_path):
    # with IGNORECASE 'a' and 'A' are the same character: [A-Z]+ and a+ overlap
    assert problems(r"[A-Z]+a+!", 0) == [] and problems(r"[A-Z]+a+!", 2)
    module = tmp_path / "m.py"
    module.write_text('import re\nX = re.compile(r"[A-Z]+a+!", re.I)\ny = re.search(rf"\\b{x}+\\b", t)\n')
    found = list(literal_patterns(module))
    assert [(f.pattern, f.flags) for f in found] == [("[A-Z]+a+!", 2), (r"\bword+\b", 0)]
    assert unsafe(found)  # the first one


# ---------------------------------------------------------------------------- the project
def test_every_pattern_written_in_bot_and_actions_is_linear():
    found = [f for path in source_files() for f in literal_patterns(path)]
    assert any(f.where.startswith(str(PROJECT_ROOT / "bot" / "dates.py")) for f in found)  # the scan reads them
    assert unsafe(found) == {}


def test_every_pattern_held_by_a_module_reading_customer_text_is_linear():
    found = [f for name in CUSTOMER_TEXT_MODULES for f in module_patterns(importlib.import_module(name))]
    assert {f.where for f in found} >= {"bot.masking.EMAIL", "actions.bonus._CHILDREN", "bot.nlu.emergency._WORD"}
    assert unsafe(found) == {}


def test_customer_data_repeats_only_within_bounds():
    """Its own rule (bot/customer_data.py), as masking's (tests/test_masking.py)."""
    import bot.customer_data

    found = list(module_patterns(bot.customer_data))
    assert {f.where for f in found} >= {"bot.customer_data._NAME", "bot.customer_data.IBAN"}
    assert unsafe(found, bounded=True) == {}
