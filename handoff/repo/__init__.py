"""Queries only. Every function takes ``session`` keyword-only and never commits."""
