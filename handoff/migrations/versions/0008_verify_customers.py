"""identity verification: a ticket's kind of request, and the customer
records that keep the outcome of a verification

Revision ID: 0006_verify
Revises: 0006_panel_account
Create Date: 2026-12-02 07:50:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0006_verify'
down_revision = '0006_panel_account'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='support'))
    op.create_table(
        'customers',
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('verified_source', sa.Boolean(), nullable=False),
        sa.Column('verification_status', sa.String(length=16), nullable=False),
        sa.Column('reason_id', sa.String(length=64), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_by_name', sa.String(length=128), nullable=True),
        sa.Column('decided_on_ticket_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('username'),
    )


def downgrade() -> None:
    op.drop_table('customers')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('kind')
