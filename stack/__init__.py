"""The project's real processes on this machine, for tests and benchmarks.

``stack.live``: Rasa, the action server and the handoff service on free
ports (standard library only, so both virtual environments import it).
``stack.cluster``: docker-compose.yml's topology as local processes behind
nginx (needs PyYAML: the handoff environment).
``stack.queue_load``: a department's queue filled with tickets and agents
for a load run (the handoff environment).

A top-level package: ``python -m pytest`` and ``python -m bench.x``, run
from the repository root, find it on ``sys.path`` without any path setting.
"""
