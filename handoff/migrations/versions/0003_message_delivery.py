"""agent replies remember whether the customer's channel accepted them

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:00:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True))
    # replies stored before this revision were delivered or reported as failed; treat them as sent
    op.execute("UPDATE messages SET delivered_at = created_at WHERE sender = 'agent'")


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('delivered_at')
