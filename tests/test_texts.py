"""One home each for what customers read and how their text is compared (issue 11):
accent folding in bot/folding.py, euro and date formatting in bot/formatters.py, the
static sentences as domain.yml responses, the intent list in domain.yml."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

from bot.domain import domain_intents, load_domain
from bot.folding import fold, fold_alnum
from bot.formatters import NBSP, euros, italian_date
from bot.intents import CONVERSATION_INTENTS, INTENT_LABELS, request_intents
from bot.settings import PROJECT_ROOT

SOURCES = sorted((PROJECT_ROOT / "bot").rglob("*.py")) + sorted((PROJECT_ROOT / "actions").glob("*.py"))


def string_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal of `path` but its docstrings, f-strings' parts included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def calls_to(attribute: str, path: Path) -> list[int]:
    """Lines of `path` that call something named `attribute` (`unicodedata.normalize(...)`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == attribute
    ]


@pytest.mark.parametrize(
    "text, folded",
    [("Lunedì", "lunedi"), ("PERCHÉ", "perche"), ("più tardi", "piu tardi"), ("Forlì-Cesena", "forli-cesena")],
)
def test_fold_drops_case_and_accents(text, folded):
    assert fold(text) == folded


def test_place_names_fold_to_letters_and_digits():
    assert fold_alnum("L'Aquila") == fold_alnum("laquila") == "laquila"
    assert fold_alnum("Reggio nell’Emilia") == "reggionellemilia"


def test_accents_are_folded_in_one_place():
    # The parsers, the stores search and the NLU checks each had their own copy.
    elsewhere = {
        str(path.relative_to(PROJECT_ROOT)): lines
        for path in SOURCES
        if path.name != "folding.py" and (lines := calls_to("combining", path) + calls_to("normalize", path))
    }
    assert elsewhere == {}


def test_euros_the_italian_way_with_a_non_breaking_space():
    assert euros(18_240) == f"182,40{NBSP}€"
    assert euros(125_000) == f"1.250,00{NBSP}€"
    assert euros(5) == f"0,05{NBSP}€" and euros(-5) == f"-0,05{NBSP}€"
    assert euros(123_456_789) == f"1.234.567,89{NBSP}€"


@pytest.mark.parametrize(
    "day, article, text",
    [
        (date(2026, 12, 1), "", "1º dicembre 2026"),
        (date(2026, 12, 3), "il", "il 3 dicembre 2026"),
        (date(2026, 12, 11), "il", "l'11 dicembre 2026"),
        (date(2026, 12, 8), "al", "all'8 dicembre 2026"),
        (date(2026, 12, 8), "fino al", "fino all'8 dicembre 2026"),
    ],
)
def test_italian_dates_with_articles(day, article, text):
    assert italian_date(day, article) == text


def test_amounts_are_formatted_in_one_place():
    # The euro sign and two-decimal formats belong to bot/formatters.py: a second formatter
    # drifted once already (floats, a different separator).
    elsewhere = {
        f"{path.relative_to(PROJECT_ROOT)}:{line}": text
        for path in SOURCES
        if path.name != "formatters.py"
        for line, text in string_literals(path)
        if "€" in text or ".2f" in text or "{:," in text
    }
    assert elsewhere == {}


def test_every_intent_of_the_domain_has_an_italian_label_and_no_label_is_stale():
    assert set(INTENT_LABELS) == set(domain_intents())
    assert CONVERSATION_INTENTS.issubset(domain_intents())
    assert set(request_intents()) == set(domain_intents()) - CONVERSATION_INTENTS


def test_the_form_answers_exclude_one_list_of_intents():
    # Written once in domain.yml (a YAML anchor); each name must be an intent of the domain.
    lists = [
        mapping["not_intent"]
        for slot in load_domain()["slots"].values()
        for mapping in slot.get("mappings", [])
        if mapping.get("type") == "from_text" and "not_intent" in mapping
    ]
    assert len(lists) > 1 and all(names == lists[0] for names in lists)
    assert set(lists[0]) < set(domain_intents())
    assert (PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8").count("not_intent: [deny,") == 0
