"""crash safety: processed messages, outbox send attempts

Revision ID: 5e1f0c2a9d41
Revises: a17d3e9a4004
Create Date: 2026-12-01 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.base

revision: str = '5e1f0c2a9d41'
down_revision: str | None = 'a17d3e9a4004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('processed_messages',
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=False),
    sa.Column('at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('account', 'message_id', name=op.f('pk_processed_messages'))
    )
    op.create_index('ix_processed_messages_at', 'processed_messages', ['at'], unique=False)
    with op.batch_alter_table('outbox_messages') as batch:
        batch.add_column(sa.Column('client_id', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('platform_id', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_column('platform_id')
        batch.drop_column('client_id')
    op.drop_index('ix_processed_messages_at', table_name='processed_messages')
    op.drop_table('processed_messages')
