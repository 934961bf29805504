"""the customer panel: a ticket names the account that handed it off with
a verified token, and a transcript line the channel it came through

Revision ID: 0006_panel_account
Revises: 0006_docs
Create Date: 2026-12-02 08:00:00.000000
"""
from __future__ import annotations

import json

from alembic import op
import sqlalchemy as sa


revision = '0006_panel_account'
down_revision = '0006_docs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tickets', sa.Column('account_username', sa.String(length=64), nullable=True))
    op.create_index('ix_tickets_account_username', 'tickets', ['account_username'])
    op.add_column('messages', sa.Column('channel', sa.String(length=64), nullable=True))
    _link_verified_tickets()


def _link_verified_tickets() -> None:
    """Tickets handed off before this revision with a verified username
    belong to that account too (the summary says how the username was known)."""
    tickets = sa.table(
        'tickets',
        sa.column('id', sa.Integer()),
        sa.column('username', sa.String()),
        sa.column('summary', sa.JSON()),
        sa.column('account_username', sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(tickets.c.id, tickets.c.username, tickets.c.summary)).all()
    for ticket_id, username, summary in rows:
        if isinstance(summary, str):
            summary = json.loads(summary)
        if username and isinstance(summary, dict) and summary.get('username_source') == 'verified_token':
            bind.execute(tickets.update().where(tickets.c.id == ticket_id).values(account_username=username))


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('channel')
    op.drop_index('ix_tickets_account_username', table_name='tickets')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('account_username')
