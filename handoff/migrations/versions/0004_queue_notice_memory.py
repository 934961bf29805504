"""tickets remember the queue position their customer was last told, so
every replica of the service shares one memory of queue notices

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 11:00:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('told_position', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('told_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('told_at')
        batch.drop_column('told_position')
