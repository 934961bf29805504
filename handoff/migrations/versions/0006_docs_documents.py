"""documents and screenshots customers attach (metadata in documents, the
bytes in document_blobs when the database is the store)

Revision ID: 0006_docs
Revises: 0005
Create Date: 2026-12-02 08:00:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0006_docs'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('uploader', sa.String(length=16), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('storage_key', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('storage_key'),
    )
    op.create_index('ix_documents_conversation_id', 'documents', ['conversation_id'])
    op.create_index('ix_documents_ticket_id', 'documents', ['ticket_id'])
    op.create_table(
        'document_blobs',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('document_blobs')
    op.drop_index('ix_documents_ticket_id', table_name='documents')
    op.drop_index('ix_documents_conversation_id', table_name='documents')
    op.drop_table('documents')
