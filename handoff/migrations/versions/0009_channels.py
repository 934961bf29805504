"""e-mail and the request form: the contacts that join a ticket, the mail
the desk has seen and sends, e-mail requests that wait on their sender,
adult e-mail senders, and rate marks

Revision ID: 0009_channels
Revises: 0006_verify
Create Date: 2026-12-03 13:00:00.000000
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0009_channels'
down_revision = '0006_verify'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ticket_contacts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=64), nullable=False),
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('split_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('split_to_ticket_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ticket_id', 'conversation_id', name='uq_ticket_contacts_conversation'),
    )
    op.create_index('ix_ticket_contacts_conversation', 'ticket_contacts', ['conversation_id'])
    op.create_index('ix_ticket_contacts_ticket_id', 'ticket_contacts', ['ticket_id'])
    op.create_index('ix_ticket_contacts_email', 'ticket_contacts', ['email'])
    op.create_table(
        'mail_drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('subject', sa.String(length=998), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('values', sa.JSON(), nullable=False),
        sa.Column('missing', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_mail_drafts_address', 'mail_drafts', ['address'])
    op.create_table(
        'mail_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=False),
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('draft_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['draft_id'], ['mail_drafts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_id', name='uq_mail_messages_message_id'),
    )
    op.create_index('ix_mail_messages_ticket_id', 'mail_messages', ['ticket_id'])
    op.create_index('ix_mail_messages_draft_id', 'mail_messages', ['draft_id'])
    op.create_table(
        'outbound_mail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('draft_id', sa.Integer(), nullable=True),
        sa.Column('message_row_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('automatic', sa.Boolean(), nullable=False),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('subject', sa.String(length=998), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('message_id', sa.String(length=255), nullable=False),
        sa.Column('in_reply_to', sa.String(length=255), nullable=True),
        sa.Column('references', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['draft_id'], ['mail_drafts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['message_row_id'], ['messages.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_id', name='uq_outbound_mail_message_id'),
        sa.UniqueConstraint('message_row_id'),
    )
    op.create_index('ix_outbound_mail_ticket_id', 'outbound_mail', ['ticket_id'])
    op.create_index('ix_outbound_mail_draft_id', 'outbound_mail', ['draft_id'])
    op.create_index('ix_outbound_mail_due', 'outbound_mail', ['status', 'next_attempt_at'])
    op.create_index('ix_outbound_mail_to', 'outbound_mail', ['to_address', 'created_at'])
    op.create_table(
        'mail_senders',
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('adult_checked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('account_username', sa.String(length=64), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('address'),
    )
    op.create_table(
        'rate_marks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_rate_marks_key_at', 'rate_marks', ['key', 'at'])


def downgrade() -> None:
    op.drop_table('rate_marks')
    op.drop_table('mail_senders')
    op.drop_table('outbound_mail')
    op.drop_table('mail_messages')
    op.drop_table('mail_drafts')
    op.drop_table('ticket_contacts')
