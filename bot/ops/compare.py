"""`make compare`: NLU pipeline candidates measured on the same data and held-out file.

For each config in eval/pipelines/ (Rasa's default among them) and the project's config.yml:
NLU training time and peak memory (of the training process), macro-F1 and accuracy on
tests/nlu_holdout.yml, out-of-scope messages taken for business intents, and parse latency
p50/p95 (in-process, after a warm-up). Results go to results/compare/ as JSON and Markdown.

    python -m bot.ops.compare [config.yml ...]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.intents import request_intents
from bot.ops.nlu_files import HOLDOUT, TRAINING_DIR
from bot.ops.services import service_environment
from bot.settings import PROJECT_ROOT

OUT = PROJECT_ROOT / "results" / "compare"
CANDIDATES = [*sorted((PROJECT_ROOT / "eval" / "pipelines").glob("*.yml")), PROJECT_ROOT / "config.yml"]
BUSINESS_INTENTS = set(request_intents())


def _run_measured(command: list[str]) -> dict[str, float]:
    """Run a command; return its wall time and the peak RSS of the process (MiB)."""
    started = time.perf_counter()
    # Rasa caches trained components across runs; a measurement must train from scratch.
    env = service_environment(RASA_MAX_CACHE_SIZE="0")
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    return {"seconds": time.perf_counter() - started, "peak_mib": usage.ru_maxrss / 1024}


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def entity_f1(gold: list[set[tuple]], found: list[set[tuple]]) -> float:
    """Micro F1 of (entity type, start, end) spans: a span counts only if exactly right."""
    true_positives = sum(len(g & f) for g, f in zip(gold, found, strict=True))
    predicted = sum(len(f) for f in found)
    expected = sum(len(g) for g in gold)
    if not predicted or not expected or not true_positives:
        return 0.0
    precision, recall = true_positives / predicted, true_positives / expected
    return 2 * precision * recall / (precision + recall)


def _spans(entities) -> set[tuple]:
    return {(e["entity"], e["start"], e["end"]) for e in entities or []}


def evaluate_model(model: Path) -> dict[str, float]:
    """Parse every held-out message in this process; figures of quality and latency."""
    import asyncio

    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data
    from sklearn.metrics import accuracy_score, f1_score

    examples = list(load_data(str(HOLDOUT)).intent_examples)
    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()
    parse = lambda text: loop.run_until_complete(agent.parse_message(text))  # noqa: E731
    for message in examples[:20]:  # warm-up: first calls build TensorFlow graphs
        parse(message.get("text"))
    latencies, predicted, found = [], [], []
    for message in examples:
        started = time.perf_counter()
        result = parse(message.get("text"))
        latencies.append((time.perf_counter() - started) * 1000)
        predicted.append(result["intent"]["name"])
        found.append(_spans(result.get("entities")))
    truth = [message.get("intent") for message in examples]
    gold = [_spans(message.get("entities")) for message in examples]
    return {
        "entity_f1": entity_f1(gold, found),
        "fallbacks": sum(1 for p in predicted if p == "nlu_fallback"),
        "macro_f1": f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0),
        "accuracy": accuracy_score(truth, predicted),
        "out_of_scope_as_business": sum(
            1 for t, p in zip(truth, predicted, strict=True) if t == "out_of_scope" and p in BUSINESS_INTENTS
        ),
        "parse_p50_ms": statistics.median(latencies),
        "parse_p95_ms": _percentile(latencies, 95),
    }


def measure(config: Path, workdir: Path) -> dict[str, object]:
    name = "project (config.yml)" if config == PROJECT_ROOT / "config.yml" else config.stem
    model_name = f"nlu-{config.stem}"
    training = _run_measured(
        [
            sys.executable,
            "-m",
            "rasa",
            "train",
            "nlu",
            "--config",
            str(config),
            "--nlu",
            str(TRAINING_DIR),
            "--out",
            str(workdir),
            "--fixed-model-name",
            model_name,
        ]
    )
    evaluation = subprocess.run(
        [sys.executable, "-m", "bot.ops.compare", "--evaluate", str(workdir / f"{model_name}.tar.gz")],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(evaluation.stdout.strip().splitlines()[-1])
    return {"pipeline": name, "train_s": training["seconds"], "train_peak_mib": training["peak_mib"], **figures}


def markdown(rows: list[dict[str, object]]) -> str:
    header = (
        "| pipeline | NLU training (s) | training peak memory (MiB) | intent macro-F1 | accuracy "
        "| out-of-scope taken for business | entity F1 | parse p50 (ms) | parse p95 (ms) |"
    )
    lines = [header, "|" + "---|" * 9]
    for r in rows:
        lines.append(
            f"| {r['pipeline']} | {r['train_s']:.0f} | {r['train_peak_mib']:.0f} | {r['macro_f1']:.3f} | "
            f"{r['accuracy']:.3f} | {r['out_of_scope_as_business']} | {r.get('entity_f1', float('nan')):.3f} | "
            f"{r['parse_p50_ms']:.1f} | {r['parse_p95_ms']:.1f} |"
        )
    return "\n".join(lines)


def chart(rows: list[dict[str, object]], path: Path) -> None:
    """One figure: intent macro-F1, entity F1, NLU training time and parse p95 per pipeline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [str(r["pipeline"]).replace("project (config.yml)", "config.yml") for r in rows]
    panels = [
        ("intent macro-F1", "macro_f1"),
        ("entity F1", "entity_f1"),
        ("NLU training (s)", "train_s"),
        ("parse p95 (ms)", "parse_p95_ms"),
    ]
    figure, axes = plt.subplots(1, len(panels), figsize=(16, 4))
    for axis, (title, key) in zip(axes, panels, strict=True):
        values = [float(str(r.get(key) or 0)) for r in rows]
        axis.barh(names, values, color="#0b5cad")
        axis.set_title(title)
        for i, value in enumerate(values):
            axis.text(value, i, f" {value:.3g}", va="center", fontsize=8)
        axis.invert_yaxis()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--evaluate"]:
        print(json.dumps(evaluate_model(Path(argv[1]))))
        return 0
    configs = [Path(a).resolve() for a in argv] or CANDIDATES
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for config in configs:
            print(f"measuring {config} ...", flush=True)
            rows.append(measure(config, Path(workdir)))
            print(markdown(rows[-1:]).splitlines()[-1], flush=True)
    (OUT / "report.json").write_text(json.dumps(rows, indent=2))
    table = markdown(rows)
    (OUT / "report.md").write_text(table + "\n")
    chart(rows, OUT / "report.png")
    print(table)
    print(f"chart: {(OUT / 'report.png').relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
