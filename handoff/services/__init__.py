"""Use cases of the handoff service: plain functions, no Sanic import.

They take the session keyword-only and never commit; the caller (an HTTP
handler or a command) owns the transaction.
"""
