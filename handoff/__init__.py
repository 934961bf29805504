"""The handoff service: receives the bot's handoffs and serves human agents.

It is a separate process with its own environment; it never imports Rasa,
``actions`` or ``bot``. The bot talks to it over the HTTP contract in
``schemas/README.md``.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
