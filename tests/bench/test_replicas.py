"""The bot benchmark's figures of what a turn costs and its replicas'
configuration: CPU per turn from /proc, several Rasa servers configured
as deploy/endpoints.cluster.yml has them, customers spread over them."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.bot_latency import RestTarget, SocketTarget, cpu_per_turn
from bench.common import cpu_seconds
from stack.live import LiveStack


def test_cpu_per_turn_is_the_cpu_used_since_before_divided_by_the_turns() -> None:
    me = os.getpid()
    before = cpu_seconds(me)
    assert before is not None
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:  # burn 0.2 s of CPU
        pass
    used = cpu_per_turn({"me": me}, {"me": before}, 4)
    assert 45 <= used["me"] <= 80  # 200 ms over 4 turns, at the clock tick's resolution
    assert cpu_per_turn({"gone": 2**22 + 1}, {"gone": 3.0}, 4) == {"gone": 0.0}  # exited during the cell


def test_one_rasa_server_keeps_make_runs_stores(tmp_path: Path) -> None:
    stack = LiveStack(tmp_path)
    assert stack.rasa_urls == [stack.rasa_url] and stack.tracker_pg is None
    assert stack._tracker_store_config().endswith(f"dialect: sqlite\n  db: {stack.tracker_db}\n")
    assert stack._lock_store_config() == "lock_store:\n  type: in_memory\n"
    assert stack.env.get("SOCKETIO_REDIS_URL") == os.environ.get("SOCKETIO_REDIS_URL")  # not set by the stack


def test_several_rasa_servers_are_configured_as_replicas(tmp_path: Path) -> None:
    stack = LiveStack(tmp_path, rasa_servers=3)
    assert len(set(stack.rasa_ports)) == 3 and stack.rasa_urls[0] == stack.rasa_url
    assert {"rasa", "rasa-1", "rasa-2"} <= set(stack._commands)
    ports = [args[args.index("--port") + 1] for name, (args, _) in stack._commands.items() if name.startswith("rasa")]
    assert sorted(ports) == sorted(str(p) for p in stack.rasa_ports)
    lock = stack._lock_store_config()
    assert "type: redis" in lock and f"key_prefix: {stack.run_name}" in lock
    assert stack.run_name.isalnum()  # a Redis key prefix and a PostgreSQL name of this run's own
    assert stack.env["SOCKETIO_REDIS_CHANNEL"] == f"socketio_{stack.run_name}"
    assert stack.tracker_pg == f"{stack.run_name}_tracker"
    store = stack._tracker_store_config()
    assert "dialect: postgresql" in store and f"db: {stack.tracker_pg}" in store


def test_conversations_are_spread_over_the_servers_in_turn() -> None:
    rest = RestTarget("ours_rest", ["http://a", "http://b"])
    assert [next(rest.urls) for _ in range(5)] == [f"http://{h}/webhooks/rest/webhook" for h in "ababa"]
    socket = SocketTarget("ours_socketio", ["http://a", "http://b", "http://c"], "http://o")
    assert [next(socket.urls) for _ in range(4)] == ["http://a", "http://b", "http://c", "http://a"]
    single = RestTarget("vanilla", ["http://only"])
    assert [next(single.urls) for _ in range(2)] == ["http://only/webhooks/rest/webhook"] * 2
