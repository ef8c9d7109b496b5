"""bot/graph_runner.py (issue 15): the trained model's graph run in order gives what dask's
scheduler gives: the parse of held-out messages, and the policies' prediction after every event
of the recorded conversation; training keeps dask's runner."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.trackers import DialogueStateTracker

from bot import graph_runner, rasa_main
from bot.ops.nlu_files import holdout_examples, plain_text
from bot.ops.train import ensure_model
from tests.test_tracker_cache import SENDER, _with_reverts_restarts_and_loops


@pytest.fixture(scope="module")
def agent() -> Agent:
    rasa_main.install()
    loaded = Agent.load(str(ensure_model()))
    assert graph_runner._PLANS in loaded.processor.graph_runner.__dict__  # the loader marked it
    return loaded


@contextmanager
def with_dask(runner: DaskGraphRunner) -> Iterator[None]:
    plans = runner.__dict__.pop(graph_runner._PLANS)
    try:
        yield
    finally:
        runner.__dict__[graph_runner._PLANS] = plans


def test_the_parse_is_the_same(agent: Agent) -> None:
    texts = [plain_text(example) for _, example in holdout_examples()[::6]]
    assert len(texts) > 40
    ours = [asyncio.run(agent.parse_message(text)) for text in texts]
    with with_dask(agent.processor.graph_runner):
        rasas = [asyncio.run(agent.parse_message(text)) for text in texts]
    assert ours == rasas
    assert any(parse["intent"]["name"] == "faq" for parse in ours)  # the selector ran too


def _prediction(agent: Agent, tracker: DialogueStateTracker) -> Any:
    # on a copy: a prediction consumes the tracker's follow-up action
    try:
        prediction = agent.processor._predict_next_with_tracker(tracker.copy())
    except Exception as error:  # noqa: BLE001 - e.g. the test's loop unknown to the domain: the same error
        return type(error), str(error)
    return prediction.probabilities, prediction.policy_name, prediction.events, prediction.is_end_to_end_prediction


def test_the_policies_predict_the_same(agent: Agent) -> None:
    tracker = DialogueStateTracker(SENDER, agent.domain.slots)
    compared = 0
    for event in _with_reverts_restarts_and_loops():
        tracker.update(event, agent.domain)
        ours = _prediction(agent, tracker)
        with with_dask(agent.processor.graph_runner):
            rasas = _prediction(agent, tracker)
        assert ours == rasas
        compared += isinstance(ours[0], list)
    assert compared > 30


def test_other_runners_keep_dask(monkeypatch) -> None:
    """A runner the loader did not hand out (training's) is run by Rasa's own `run`."""
    graph_runner.install()
    calls = []
    monkeypatch.setattr(graph_runner, "RASA_RUN", lambda self, inputs, targets: calls.append(targets) or {})
    runner = object.__new__(DaskGraphRunner)
    assert DaskGraphRunner.run(runner, None, ["train_x"]) == {}
    assert calls == [["train_x"]]
