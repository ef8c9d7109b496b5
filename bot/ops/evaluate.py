"""`make eval`: the held-out NLU evaluation and the contact mix.

Trains if needed, runs `rasa test nlu` on tests/nlu_holdout.yml (written independently of the
training data), prints accuracy and macro-F1 with the per-intent figures and the response
selector's accuracy on the held-out information questions (faq/<topic>), and leaves Rasa's
reports and the confusion-matrix image in results/holdout/. Then the contact mix
(tests/contact_mix.yml, bot/ops/contact_mix.py) and the conversation-context conversations
(tests/context_holdout.yml, bot/ops/context_eval.py, issue 16) through the running server.
`--only nlu` (or `--nlu-only`), `--only contact-mix`, `--only context`: that one alone
(`python -m bot.ops.contact_mix` and `python -m bot.ops.context_eval` run theirs).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys

from bot.ops.nlu_files import HOLDOUT
from bot.ops.train import ensure_model
from bot.settings import PROJECT_ROOT

OUT = PROJECT_ROOT / "results" / "holdout"
TARGET_MACRO_F1 = 0.95


def format_report(report: dict[str, dict]) -> str:
    """A plain-text table of Rasa's intent_report.json."""
    lines = [f"{'intent':<24}{'precision':>10}{'recall':>8}{'F1':>8}{'n':>6}"]
    for name, figures in sorted(report.items()):
        if not isinstance(figures, dict) or name.endswith("avg"):
            continue
        lines.append(
            f"{name:<24}{figures['precision']:>10.3f}{figures['recall']:>8.3f}"
            f"{figures['f1-score']:>8.3f}{figures['support']:>6}"
        )
    macro = report["macro avg"]
    lines.append("")
    lines.append(f"accuracy  {report['accuracy']:.3f}")
    lines.append(f"macro-F1  {macro['f1-score']:.3f}   (target {TARGET_MACRO_F1})")
    return "\n".join(lines)


def format_response_selection(report: dict[str, dict]) -> str:
    """The response selector's figures (Rasa's response_selection_report.json)."""
    macro = report.get("macro avg") or {}
    topics = [name for name, figures in report.items() if isinstance(figures, dict) and not name.endswith("avg")]
    wrong = sorted(name for name in topics if report[name].get("recall", 1.0) < 1.0)
    return (
        f"response selector (faq/<topic>, {len(topics)} answers): accuracy {report.get('accuracy', 0.0):.3f}, "
        f"macro-F1 {macro.get('f1-score', 0.0):.3f}" + (f"\n  recall < 1: {', '.join(wrong)}" if wrong else "")
    )


def evaluate_nlu() -> None:
    """The held-out NLU evaluation (trains if needed): Rasa's reports in results/holdout/, the
    figures printed."""
    model = ensure_model()
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "rasa", "test", "nlu", "--model", str(model), "--nlu", str(HOLDOUT), "--out", str(OUT)],
        cwd=PROJECT_ROOT,
        check=True,
    )
    report = json.loads((OUT / "intent_report.json").read_text())
    print(format_report(report))
    matrix = OUT / "intent_confusion_matrix.png"
    print(f"confusion matrix: {matrix.relative_to(PROJECT_ROOT)}" if matrix.exists() else "no confusion matrix written")
    selection = OUT / "response_selection_report.json"
    if selection.exists():
        print(format_response_selection(json.loads(selection.read_text())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("nlu", "contact-mix", "context"), help="run this evaluation alone")
    parser.add_argument("--nlu-only", dest="only", action="store_const", const="nlu", help="the same as --only nlu")
    only = parser.parse_args(argv).only
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if only in (None, "nlu"):
        evaluate_nlu()
    # the two evaluations through the running stack: each loads its held-out set, holds its
    # conversations on a freshly started stack and reports
    from bot.ops import contact_mix, context_eval

    for name, evaluation in (("contact-mix", contact_mix), ("context", context_eval)):
        if only in (None, name):
            print()
            print(evaluation.format_report(evaluation.run(evaluation.load())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
