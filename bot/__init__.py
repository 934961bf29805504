"""Rasa glue: custom graph components and channel code (no business rules)."""
