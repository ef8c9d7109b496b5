"""One home each for what customers read and how their text is compared (issue 11):
accent folding in bot/folding.py, euro and date formatting in bot/formatters.py, the
static sentences as domain.yml responses, the intent list in domain.yml."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest

from bot import formatters
from bot.domain import domain_intents, domain_responses, load_domain, responses_named_in
from bot.folding import fold, fold_alnum
from bot.formatters import NBSP, euros, italian_date
from bot.intents import CONVERSATION_INTENTS, INTENT_LABELS, MULTI_INTENT_SEPARATOR, request_intents
from bot.settings import PROJECT_ROOT
from tests.harness.responses import rendered, said

SOURCES = sorted((PROJECT_ROOT / "bot").rglob("*.py")) + sorted((PROJECT_ROOT / "actions").glob("*.py"))


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and functions."""
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def string_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal of `path` but its docstrings, f-strings' parts included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
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


def test_counts_and_choices_read_as_italian():
    assert formatters.days(1) == "1 giorno" and formatters.days(12) == "12 giorni"  # was "1 giorni"
    assert formatters.alternatives([3]) == "3" and formatters.alternatives([2, 3]) == "2 o 3"
    assert formatters.alternatives([2, 3, 4]) == "2, 3 o 4"


def test_open_bills_are_listed_with_their_state_and_total():
    bills = [
        {
            "supply": "luce",
            "amount_cents": 18_240,
            "due_date": "2026-12-01",
            "status": "open",
            "has_installment_plan": False,
            "deferred": True,
        },
        {
            "supply": "gas",
            "amount_cents": 82_000,
            "due_date": "2026-11-14",
            "status": "arrears",
            "has_installment_plan": False,
            "deferred": False,
        },
    ]
    assert formatters.open_bills(bills, "Mario Rossi") == (
        f"Mario, risultano da pagare 2 bollette per un totale di 1.002,40{NBSP}€:\n"
        f"• bolletta luce di 182,40{NBSP}€ con scadenza il 1º dicembre 2026 (scadenza già prorogata)\n"
        f"• bolletta gas di 820,00{NBSP}€ con scadenza il 14 novembre 2026 (è in corso un sollecito)"
    )
    assert formatters.open_bills([], None) == "non risultano bollette da pagare: è tutto in regola."


def test_stores_with_distance_phone_and_todays_hours():
    store = {
        "name": "Sportello Siena",
        "address": "Via Roma 1",
        "city": "Siena",
        "distance_km": 2.6,
        "phone": "0577 000000",
        "open_today": [{"opens": "8:30", "closes": "13:00"}],
        "sample_data": True,
    }
    closed = {**store, "distance_km": None, "phone": None, "open_today": []}
    assert formatters.stores([store, closed]) == (
        "• Sportello Siena, Via Roma 1, Siena (a 3 km), tel. 0577 000000: oggi è aperto dalle 8:30 alle 13:00.\n"
        "• Sportello Siena, Via Roma 1, Siena: oggi è chiuso."
    )
    assert formatters.sample_note([store]) == " (elenco di esempio)" and formatters.sample_note([]) == ""


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
    # two requests in one message ("check_bills+find_store", issue 16) are not one more request
    single = {name for name in domain_intents() if MULTI_INTENT_SEPARATOR not in name}
    assert set(request_intents()) == single - CONVERSATION_INTENTS


def test_the_form_answers_exclude_one_list_of_intents():
    # Written once in domain.yml (a YAML anchor); each name must be an intent of the domain.
    lists = [
        mapping["not_intent"]
        for slot in load_domain()["slots"].values()
        for mapping in slot.get("mappings", [])
        if mapping.get("type") == "from_text" and "not_intent" in mapping
    ]
    assert len(lists) > 1 and all(names == lists[0] for names in lists)
    # faq: the retrieval intent (issue 13), which Rasa adds from data/nlu/faq.yml, not listed in domain.yml
    assert set(lists[0]) < set(domain_intents()) | {"faq"}
    assert (PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8").count("not_intent: [deny,") == 0


# --------------------------------------------------------------------------- customer text
ACTION_SOURCES = sorted((PROJECT_ROOT / "actions").glob("*.py"))
PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")  # how Rasa's interpolator finds a response variable
# Words customers write, which the actions look for in a message: never shown to anyone.
INPUT_VOCABULARY = {"LATEST_WORDS", "_GAS_WORDS", "ORDINALS", "SELF_PHRASES"}
# Helper B's method for issue 10 (the customer-area login) is still being changed: its greeting
# moves to domain.yml once that lands.
NOT_YET_MOVED: set[tuple[str, str]] = set()
PERSONAL_DATA_SLOTS = {"fiscal_code", "customer_token", "pod", "pdr"}


# keys of Rasa's own bot-event metadata that look like response names
RASA_METADATA_KEYS = {"utter_action"}


def is_response(value: object) -> bool:
    return (
        isinstance(value, str)
        and re.fullmatch(r"utter_[a-z0-9_]+", value) is not None
        and value not in RASA_METADATA_KEYS
    )


def written_text(node: ast.AST | None) -> bool:
    """A literal, an f-string or a concatenation with one: text written in the code."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(node.value.strip())
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return written_text(node.left) or written_text(node.right)
    return False


def pending(path: Path, tree: ast.AST, node: ast.AST) -> bool:
    return any(
        isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        and (path.name, function.name) in NOT_YET_MOVED
        and function.lineno <= node.lineno <= (function.end_lineno or function.lineno)
        for function in ast.walk(tree)
    )


def placeholders(name: str) -> set[str]:
    found: set[str] = set()
    for variation in domain_responses()[name]:
        texts = [variation.get("text") or ""] + [b["title"] for b in variation.get("buttons", [])]
        for text in texts:
            found |= set(PLACEHOLDER.findall(text))
    return found


def response_calls() -> list[tuple[str, str, set[str]]]:
    """(file, response, variables passed) for every call of the actions that names a response:
    `utter_message(response="utter_x", a=...)`, `offer_human(dispatcher, "utter_x", a=...)`. A
    response named elsewhere (a table of codes, a conditional) gets the variables of the calls
    of its file that pass a response held in a variable."""
    uses = []
    for path in ACTION_SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        direct: set[int] = set()
        dynamic: set[str] = set()
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            passed = {k.arg for k in call.keywords if k.arg}
            named = [a for a in call.args if isinstance(a, ast.Constant) and is_response(a.value)]
            named += [k.value for k in call.keywords if k.arg == "response" and isinstance(k.value, ast.Constant)]
            for node in named:
                direct.add(id(node))
                uses.append((path.name, node.value, passed))
            if any(k.arg == "response" and not isinstance(k.value, ast.Constant) for k in call.keywords):
                dynamic |= passed
        # a response compared with what was sent ("was the last question utter_which_town?")
        # is read, not sent
        compared = {id(n) for c in ast.walk(tree) if isinstance(c, ast.Compare) for n in ast.walk(c)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and is_response(node.value) and id(node) not in direct | compared:
                uses.append((path.name, node.value, dynamic))
    return uses


def test_the_actions_write_no_customer_sentence():
    # Static sentences are domain.yml responses; text built from data comes from bot/formatters.py.
    written = []
    for path in ACTION_SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            if isinstance(call.func, ast.Attribute) and call.func.attr == "utter_message":
                text = next((k.value for k in call.keywords if k.arg == "text"), None)
                if written_text(text) and not pending(path, tree, call):
                    written.append(f"{path.name}:{call.lineno}")
        for button in (n for n in ast.walk(tree) if isinstance(n, ast.Dict)):
            for key, value in zip(button.keys, button.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "title" and written_text(value):
                    written.append(f"{path.name}:{button.lineno} (button)")
    assert written == []


def test_no_sentence_hides_in_the_actions_in_another_form():
    # Any literal of two words or more, outside docstrings, log formats, regular expressions
    # and the words customers write, is a sentence someone forgot to move.
    sentences = []
    for path in ACTION_SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        exempt = docstrings(tree)
        for node in ast.walk(tree):
            logging_or_regex = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"logger", "re"}
            )
            vocabulary = isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in INPUT_VOCABULARY for t in node.targets
            )
            if logging_or_regex or vocabulary:
                exempt |= {id(n) for n in ast.walk(node)}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in exempt
                and not pending(path, tree, node)
                and re.search(r"[^\W\d_]{2,}\s+[^\W\d_]{2,}", node.value)
            ):
                sentences.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert sentences == []


def test_every_response_an_action_sends_exists_with_the_variables_it_needs():
    responses = domain_responses()
    problems = []
    for file, name, passed in response_calls():
        if name not in responses:
            problems.append(f"{file}: {name} is not in domain.yml")
        elif missing := placeholders(name) - passed:
            problems.append(f"{file}: {name} needs {sorted(missing)}")
    assert problems == []


def test_every_response_is_sent_by_the_data_or_an_action():
    # Rasa warns about a response no story or rule uses, but does not fail even with
    # --fail-on-warnings; the responses the actions send are uttered by the action server.
    data = "\n".join(p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "data").rglob("*.yml")))
    in_data = set(re.findall(r"\butter_[a-z0-9_]+", data))
    unused = set(domain_responses()) - in_data - responses_named_in()
    # issue 13: utter_faq/<topic> are chosen by the ResponseSelector, sent by action_faq
    unused = {name for name in unused if not name.startswith("utter_faq/")}
    assert unused == set()


def test_no_response_can_show_personal_data_from_a_slot():
    # Rasa fills a {name} the action does not pass from the slot of that name: a response that
    # named {fiscal_code} would show the codice fiscale as the customer typed it.
    shown = {name: placeholders(name) & PERSONAL_DATA_SLOTS for name in domain_responses()}
    assert {name: found for name, found in shown.items() if found} == {}


def test_rasa_renders_an_action_message_with_its_variables_and_buttons():
    messages = [
        {
            "response": "utter_identity_mismatch",
            "customer_code": "100001",
            "masked_fiscal_code": "RSS*********501U",
            "attempt": 1,
            "max_attempts": 3,
        },
        {"response": "utter_latest_due_date", "to_latest": "al 20 dicembre 2026", "latest_short": "20/12"},
        {"response": "utter_which_bill", "buttons": [{"title": "Luce", "payload": "/inform"}]},
    ]
    mismatch, latest, which = rendered(messages, slots={"fiscal_code": "RSSMRA80A01H501U"})
    assert mismatch["text"] == (
        "Il codice cliente 100001 e il codice fiscale RSS*********501U non corrispondono a una fornitura. "
        "Ricontrolliamo insieme: mi riscrive il codice cliente? (tentativo 1 di 3)"
    )
    assert latest["buttons"] == [{"title": "Sì, il 20/12", "payload": "/affirm"}]
    assert which["buttons"] == [{"title": "Luce", "payload": "/inform"}]


@pytest.mark.parametrize(
    "service, sentence",
    [
        (None, "vedere lo stato delle bollette"),
        ("bills", "vedere lo stato delle bollette"),
        ("deferral", "spostare la scadenza"),
        ("installments", "pagare a rate"),
        ("interest", "calcolare gli interessi di mora"),
    ],
)
def test_switching_request_names_the_new_one(service, sentence):
    assert (
        said([{"response": "utter_switch_service"}], slots={"service": service}) == f"Va bene, passiamo a {sentence}."
    )


# Older responses whose reply buttons the WhatsApp channel still cuts ("Continuare con l'as…");
# tests/channels/test_whatsapp.py checks that cut on utter_iamabot.
CUT_ON_WHATSAPP = {"utter_iamabot", "utter_out_of_scope", "utter_inform_without_context"}


def test_reply_buttons_fit_whatsapp():
    # WhatsApp shows up to 3 reply buttons of 20 characters; the channel cuts longer titles.
    too_long = {}
    for name in domain_responses():
        variables = dict.fromkeys(placeholders(name), "x")
        for message in rendered([{"response": name, **variables}], channel="whatsapp"):
            buttons = message.get("buttons") or []
            if len(buttons) <= 3 and any(len(b["title"]) > 20 for b in buttons) and name not in CUT_ON_WHATSAPP:
                too_long[name] = [b["title"] for b in buttons]
    assert too_long == {}
