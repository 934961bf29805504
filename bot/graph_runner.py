"""Rasa's model graph run in order, without dask's scheduler.

Rasa 3.6 runs its model as a graph of nodes (the NLU pipeline, then each
policy and the ensemble) through ``DaskGraphRunner``: for every message
and every predicted action it works out the part of the graph the targets
need (``minimal_graph_schema``) and hands it to ``dask.get``, which
orders and runs the nodes one after the other on the server's thread.
For our graph of nine small nodes that bookkeeping costs more than most
nodes: 8 % of a busy Rasa's samples in `make bench-profile` at 50
customers, and a message's parse takes 0.66 ms with it, 0.41 without.

``run`` does the same sequentially (bot/installs.py puts it in place of
``DaskGraphRunner.run``): the targets' part of the graph is worked out once per set
of targets (the graph does not change after loading), each node runs once,
after the nodes it needs, with their outputs in the order the schema lists
them, and the inputs are added (and refused when a name clashes) by Rasa's
own code. Results and errors are Rasa's: a ``RuntimeError`` becomes
``GraphRunError`` as before, any other error of a node goes up as it is.
In a Rasa server the graphs of ``POST /model/train`` run this way too, with
the same results.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner

__all__ = ["run"]

_SCHEMAS = "_triage_minimal_schemas"
RASAS_RUN = DaskGraphRunner.run  # Rasa's own, for the tests that compare


def _minimal_schema(runner: DaskGraphRunner, targets: list[str]) -> GraphSchema:
    known: dict[tuple[str, ...], GraphSchema] = runner.__dict__.setdefault(_SCHEMAS, {})
    key = tuple(targets)
    schema = known.get(key)
    if schema is None:
        schema = known[key] = runner._graph_schema.minimal_graph_schema(targets)
    return schema


def run(
    self: DaskGraphRunner, inputs: dict[str, Any] | None = None, targets: list[str] | None = None
) -> dict[str, Any]:
    run_targets = targets if targets else self._graph_schema.target_names
    graph = self._build_dask_graph(_minimal_schema(self, run_targets))
    if inputs:
        self._add_inputs_to_graph(inputs, graph)
    done: dict[str, Any] = {}

    def output(name: str) -> Any:
        if name not in done:
            task = graph.get(name)
            if task is None:
                return name  # as dask passes a name that is not in the graph: the node refuses it
            # a node and the names of what it needs; an input is its (name, value) already
            done[name] = task[0](*[output(need) for need in task[1:]]) if callable(task[0]) else task
        return done[name]

    try:
        return dict(output(target) for target in run_targets)
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
