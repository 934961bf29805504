"""the editors' loop: a customer line's FAQ and a bot line's response name,
conversation languages, review decisions, trained models

Revision ID: 0010_editor
Revises: 0009_channels
Create Date: 2026-12-04 01:30:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0010_editor'
down_revision = '0009_channels'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversation_events') as batch:
        batch.add_column(sa.Column('faq', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('response', sa.String(length=255), nullable=True))
    op.create_table(
        'conversation_languages',
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('conversation_id'),
    )
    op.create_table(
        'review_decisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_key', sa.String(length=64), nullable=False),
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=True),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('decision', sa.String(length=16), nullable=False),
        sa.Column('target', sa.String(length=255), nullable=True),
        sa.Column('editor', sa.String(length=64), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_key', name='uq_review_decisions_event_key'),
    )
    op.create_index('ix_review_decisions_decided_at', 'review_decisions', ['decided_at'])
    op.create_table(
        'model_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('path', sa.String(length=1024), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('progress', sa.Float(), nullable=False),
        sa.Column('stage', sa.String(length=32), nullable=True),
        sa.Column('started_by', sa.String(length=64), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('scores', sa.JSON(), nullable=True),
        sa.Column('understood', sa.JSON(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('published_by', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_model_versions_status', 'model_versions', ['status'])


def downgrade() -> None:
    op.drop_index('ix_model_versions_status', table_name='model_versions')
    op.drop_table('model_versions')
    op.drop_index('ix_review_decisions_decided_at', table_name='review_decisions')
    op.drop_table('review_decisions')
    op.drop_table('conversation_languages')
    with op.batch_alter_table('conversation_events') as batch:
        batch.drop_column('response')
        batch.drop_column('faq')
