"""From an editor's "Train" to the new model answering customers (issue 15:
at most 90 s on this machine).

Starts the real processes (stack/live.py) on a copy of the project, makes a
customer line reach the review inbox (stack/editor.py), assigns it to an
FAQ over the editors' API, then times: "Train" (the model built in the
background and scored beside the live one on the held-out sets), "Publish"
(``PUT /model`` into the running Rasa server) and a new customer getting
the FAQ's answer to the same line. Prints each part and the total of each
run, and the median.

    .venv/bench/bin/python -m bench.editor_loop [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import machine, table, write_results
from stack.editor import (
    MISUNDERSTOOD,
    RIGHT_ANSWER_START,
    RIGHT_FAQ,
    EditorClient,
    editor_env,
    misunderstood_turn,
    new_customer_gets,
    project_copy,
)
from stack.live import LiveStack

TARGET_SECONDS = 90.0


def one_run(tmp: Path, run: int) -> dict[str, float]:
    project = project_copy(tmp)
    stack = LiveStack(tmp, extra_env=editor_env(tmp, project))
    stack.start()
    try:
        misunderstood_turn(stack, f"bench-customer-{run}")
        editor = EditorClient(stack)
        item = editor.inbox_item(MISUNDERSTOOD)
        editor.call("POST", "/decisions", {"keys": [item["key"]], "decision": "faq", "target": RIGHT_FAQ})
        clicked = time.monotonic()
        model = editor.train_until_ready()
        if model["status"] != "ready":
            raise RuntimeError(f"the training failed: {model.get('error')}")
        trained = time.monotonic()
        editor.call("POST", f"/models/{model['id']}/publish")
        published = time.monotonic()
        new_customer_gets(stack, f"bench-new-{run}", MISUNDERSTOOD, RIGHT_ANSWER_START)
        answered = time.monotonic()
    finally:
        stack.stop()
    return {
        "train_and_score_s": trained - clicked,
        "publish_s": published - trained,
        "first_answer_s": answered - published,
        "total_s": answered - clicked,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    runs: list[dict[str, float]] = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-editor-") as tmp:
            runs.append(one_run(Path(tmp), run))
        print(f"run {run + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in runs[-1].items()), flush=True)
    keys = list(runs[0])
    median = {k: statistics.median(r[k] for r in runs) for k in keys}
    rows: list[list[Any]] = [[f"run {i + 1}", *(f"{r[k]:.1f}" for k in keys)] for i, r in enumerate(runs)]
    rows.append(["median", *(f"{median[k]:.1f}" for k in keys)])
    print(table(rows, ["", *keys]))
    met = median["total_s"] <= TARGET_SECONDS
    print(
        f"click 'Train' to the new model answering: median {median['total_s']:.1f} s "
        f"(target at most {TARGET_SECONDS:.0f} s): {'met' if met else 'MISSED'}"
    )
    write_results("editor_loop", {"machine": machine(), "runs": runs, "median": median, "target_s": TARGET_SECONDS})
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
