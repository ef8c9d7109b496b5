"""`make eval`: the held-out NLU evaluation and the contact mix.

Trains if needed, runs `rasa test nlu` on tests/nlu_holdout.yml (written independently of the
training data), prints accuracy and macro-F1 with the per-intent figures and the response
selector's accuracy on the held-out information questions (faq/<topic>), and leaves Rasa's
reports and the confusion-matrix image in results/holdout/. Then the contact mix
(tests/contact_mix.yml, bot/ops/contact_mix.py) and the conversation-context conversations
(tests/context_holdout.yml, bot/ops/context_eval.py, issue 16) through the running server;
`--nlu-only` skips both.
"""

from __future__ import annotations

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


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
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
    if "--nlu-only" not in sys.argv[1:]:
        from bot.ops import contact_mix, context_eval

        print()
        print(contact_mix.format_report(contact_mix.run(contact_mix.load())))
        print()
        print(context_eval.format_report(context_eval.run(context_eval.load())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
