"""Quality of the NLU data: coverage of the contract, variety, and a held-out file that
shares no sentence with the training data."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import pytest
import yaml

from bot.domain import domain_intents
from bot.intents import request_intents
from bot.ops.nlu_files import (
    ROOT,
    by_intent,
    holdout_examples,
    normalised,
    training_examples,
)

# domain.yml is the one list of intents; the contract (docs/contracts.md, "## Intents") fixes
# the names it must contain, and is read here rather than copied.
INTENTS = set(domain_intents())
BUSINESS_INTENTS = set(request_intents())
FLOW_ENTITIES = {
    "customer_code", "fiscal_code", "pod", "pdr", "city", "date", "amount",
    "installment_count", "supply",
}


@pytest.fixture(scope="module")
def training():
    return by_intent(training_examples())


@pytest.fixture(scope="module")
def domain():
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def contract_intents() -> set:
    section = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8").split("## Intents", 1)[1]
    declared = re.search(r"The (\d+) fixed names: (.*?)\.\s", section, re.S)
    assert declared, "docs/contracts.md no longer lists the fixed intent names"
    names = set(re.findall(r"`(\w+)`", declared.group(2)))
    assert len(names) == int(declared.group(1))
    return names


def test_domain_declares_every_contract_intent_and_flow_entity(domain):
    assert contract_intents() <= INTENTS == set(domain["intents"])
    assert FLOW_ENTITIES <= set(domain["entities"])


def test_every_intent_has_training_examples(training):
    assert INTENTS <= set(training)


@pytest.mark.parametrize("intent", sorted(BUSINESS_INTENTS))
def test_business_intents_have_at_least_40_distinct_examples(training, intent):
    distinct = {normalised(e) for e in training[intent]}
    assert len(distinct) >= 40, f"{intent}: {len(distinct)} distinct examples"


def test_no_training_example_is_repeated(training):
    seen = Counter(normalised(e) for examples in training.values() for e in examples)
    repeated = [text for text, count in seen.items() if count > 1]
    assert not repeated, f"repeated (after normalising case, accents, punctuation): {repeated}"


def _near_copies(examples):
    """Pairs of examples that differ by at most one word in the same position."""
    words = [normalised(e).split() for e in examples]
    pairs = []
    for a, b in itertools.combinations(words, 2):
        if len(a) == len(b) and len(a) >= 4 and sum(x != y for x, y in zip(a, b)) <= 1:
            pairs.append((" ".join(a), " ".join(b)))
    return pairs


@pytest.mark.parametrize("intent", sorted(INTENTS - {"inform"}))
def test_no_copy_paste_variants(training, intent):
    # `inform` is exempt: "codice cliente 104552" and "codice cliente 117830" are meant to
    # differ only by the value, which is what teaches the entity.
    assert not _near_copies(training[intent])


def test_entities_of_the_flows_are_annotated_in_training_data():
    annotated = "\n".join(e for _, e in training_examples())
    for entity in FLOW_ENTITIES:
        assert f"]({entity})" in annotated or f'"entity": "{entity}"' in annotated, entity


def test_holdout_covers_every_intent():
    # issue 16: two requests in one message ("a+b") are held out as whole conversations in
    # tests/context_holdout.yml (tests/test_context_eval.py), measured through the server
    single = {i for i in INTENTS if "+" not in i}
    holdout = by_intent(holdout_examples())
    assert single <= set(holdout)
    assert all(len(holdout[i]) >= 15 for i in single)


def test_holdout_shares_no_sentence_with_training_data():
    train = {normalised(e) for _, e in training_examples()}
    shared = [e for _, e in holdout_examples() if normalised(e) in train]
    assert not shared, f"held-out sentences also in the training data: {shared}"
