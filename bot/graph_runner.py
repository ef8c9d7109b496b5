"""Rasa's model graph run in order in the calling thread, without dask (issue 15), installed by
bot/rasa_main.py.

Rasa runs its model as a graph of components (the NLU pipeline for every message, the policies
for every action prediction: three or four runs a message) through dask's synchronous scheduler.
The graph is run as it is, one node after another in the calling thread: dask only decides the
order and substitutes each node's inputs, and its bookkeeping per run (the graph's minimal schema
rebuilt, the tasks ordered, dask's state for each) cost more than the NLU components themselves
on a short message (a parse: 3.3 ms of CPU with dask, 2.5 ms without).

Only the runner of a loaded model (`rasa.engine.loader.load_predict_graph_runner`: the server, the
shell) runs this way; training (`make train` through bot.rasa_main) keeps dask's scheduler.

Here each set of targets gets its plan once per model (the nodes the targets need, each after the
nodes it needs: a depth-first order of Rasa's minimal schema), and a run calls the same
`GraphNode`s with the same inputs in that order. Every node of Rasa's graphs depends only on its
inputs (the NLU pipeline is a chain; the policies read the tracker and the domain), so the order
among independent nodes does not change what they compute. Inputs, the clash check, the result
(`{target: output}`) and the error raised for a scheduler failure are Rasa's.
"""

from __future__ import annotations

from typing import Any

from rasa.engine import loader
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphNode
from rasa.engine.runner.dask import DaskGraphRunner

from bot.rasa_compat import require

require("rasa", __name__)

RASA_RUN = DaskGraphRunner.run
_rasas_loader = loader.load_predict_graph_runner

_PLANS = "_issue15_plans"  # on a runner: targets -> [(node name, node, the names of its inputs)]

Plan = list[tuple[str, GraphNode, list[str]]]


def plan(runner: DaskGraphRunner, targets: list[str]) -> Plan:
    """The nodes `targets` need, each after the nodes it needs (kept on the runner)."""
    plans: dict[tuple[str, ...], Plan] = runner.__dict__[_PLANS]
    key = tuple(targets)
    if key in plans:
        return plans[key]
    schema = runner._graph_schema.minimal_graph_schema(targets)
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in schema.nodes:
            return
        seen.add(name)
        for needed in schema.nodes[name].needs.values():
            visit(needed)
        order.append(name)

    for target in targets:
        visit(target)
    plans[key] = [(name, runner._instantiated_nodes[name], list(schema.nodes[name].needs.values())) for name in order]
    return plans[key]


def run(
    self: DaskGraphRunner, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
) -> dict[str, Any]:
    """`DaskGraphRunner.run`: the outputs of `targets` (default: the schema's targets)."""
    if _PLANS not in self.__dict__:  # not a loaded model's runner (training): Rasa's
        return RASA_RUN(self, inputs, targets)
    run_targets = targets if targets else self._graph_schema.target_names
    steps = plan(self, run_targets)
    # a node's output is (node name, value), as dask passes it on; an input is (input name, value)
    values: dict[str, Any] = {}
    nodes = {name for name, _, _ in steps}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and (value in nodes or value in values):
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure that none of the input "
                f"names passed to the `run` method are the same as node names in the graph schema."
            )
        values[name] = (name, value)
    try:
        for name, node, needs in steps:
            # as dask does: a name that is neither a node nor an input is passed as it is
            values[name] = node(*[values.get(needed, needed) for needed in needs])
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(values[target] for target in run_targets)


def load_predict_graph_runner(*args: Any, **kwargs: Any) -> Any:
    """Rasa's loader; the runner it returns runs in order (it gets its table of plans)."""
    metadata, runner = _rasas_loader(*args, **kwargs)
    if isinstance(runner, DaskGraphRunner):
        runner.__dict__[_PLANS] = {}
    return metadata, runner


def install() -> None:
    DaskGraphRunner.run = run
    loader.load_predict_graph_runner = load_predict_graph_runner
