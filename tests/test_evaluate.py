"""`make eval`'s one command line (bot/ops/evaluate.py): every evaluation by default, one alone
with --only (or --nlu-only), the held-out NLU and the two through the running stack each loaded,
run and reported the same way. The evaluations themselves are replaced by recorders here: they
train and start the whole stack (`make eval` runs them)."""

from __future__ import annotations

import pytest

from bot.ops import contact_mix, context_eval, evaluate


@pytest.fixture
def ran(monkeypatch) -> list[str]:
    ran: list[str] = []
    monkeypatch.setattr(evaluate, "evaluate_nlu", lambda: ran.append("nlu"))
    for name, module in (("contact-mix", contact_mix), ("context", context_eval)):
        monkeypatch.setattr(module, "load", lambda name=name: [name])
        monkeypatch.setattr(module, "run", lambda items: [f"ran {items[0]}"])
        monkeypatch.setattr(module, "format_report", lambda results: results[0])
    return ran


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["nlu", "ran contact-mix", "ran context"]),
        (["--nlu-only"], ["nlu"]),
        (["--only", "nlu"], ["nlu"]),
        (["--only", "contact-mix"], ["ran contact-mix"]),
        (["--only", "context"], ["ran context"]),
    ],
)
def test_each_option_runs_its_evaluations_in_order(ran, capsys, argv, expected):
    assert evaluate.main(argv) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if line]
    assert ran + printed == expected


def test_an_unknown_evaluation_is_refused(ran):
    with pytest.raises(SystemExit) as refused:
        evaluate.main(["--only", "everything"])
    assert refused.value.code == 2 and ran == []
