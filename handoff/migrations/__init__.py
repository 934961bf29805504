"""Alembic migrations of the handoff service (run with ``python -m handoff migrate``)."""
