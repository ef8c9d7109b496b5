"""One home each for what customers read and how their text is compared (issue 11):
accent folding in bot/folding.py, euro and date formatting in bot/formatters.py, the
static sentences as domain.yml responses, the intent list in domain.yml."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.folding import fold, fold_alnum
from bot.settings import PROJECT_ROOT

SOURCES = sorted((PROJECT_ROOT / "bot").rglob("*.py")) + sorted((PROJECT_ROOT / "actions").glob("*.py"))


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
