"""The plot of turn latency against concurrency (docs/bench/latency.png),
from the figures bench/bot_latency.py wrote to build/bench/bot_latency.json.

Run with the bench environment: ``.venv/bench/bin/python -m bench.plot``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.common import RESULTS, ROOT

LABELS = {
    "ours_rest": "ours, REST channel (whole stack)",
    "ours_socketio": "ours, socket.io channel (whole stack)",
    "inprocess": "our model, in-process agent",
    "vanilla": "vanilla Rasa starter (REST)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS / "bot_latency.json")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "latency.png")
    args = parser.parse_args()
    data = json.loads(args.results.read_text())
    medians = data["medians"]
    fig, (lat, rate) = plt.subplots(1, 2, figsize=(11, 4.4))
    for i, (name, by_c) in enumerate(medians.items()):
        customers = sorted(int(c) for c in by_c)
        colour = f"C{i}"
        lat.plot(
            customers,
            [by_c[str(c)]["p95_ms"] for c in customers],
            "o-",
            color=colour,
            label=f"{LABELS.get(name, name)} p95",
        )
        lat.plot(customers, [by_c[str(c)]["p50_ms"] for c in customers], "o--", color=colour, alpha=0.6, label="p50")
        rate.plot(
            customers,
            [by_c[str(c)].get("per_s", 0) for c in customers],
            "o-",
            color=colour,
            label=LABELS.get(name, name),
        )
    for ax in (lat, rate):
        ax.set_xscale("log")
        ax.set_xticks([1, 10, 50])
        ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.set_xlabel("customers at once")
        ax.grid(True, which="both", alpha=0.3)
    lat.set_yscale("log")
    lat.set_ylabel("turn latency, ms (median of runs)")
    lat.set_title("Latency per turn: p95 (solid), p50 (dashed)")
    rate.set_ylabel("messages per second")
    rate.set_title("Throughput")
    rate.set_ylim(0, rate.get_ylim()[1] * 1.15)  # a ratio of rates reads true only from zero
    rate.legend(fontsize=8, loc="lower right")
    machine = data.get("machine", {})
    fig.suptitle(
        f"Bot turn latency, {data.get('repeats')} runs each; {machine.get('cores')} cores, "
        f"{machine.get('cpu', '')[:40]}, {machine.get('when_utc', '')}",
        fontsize=9,
    )
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"plot: {args.out}")


if __name__ == "__main__":
    main()
