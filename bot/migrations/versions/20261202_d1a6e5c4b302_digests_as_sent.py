"""digests as sent: each operator's digest text and chart data, for the console's archive

Revision ID: d1a6e5c4b302
Revises: c0a5e19b7d01
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.base

revision: str = 'd1a6e5c4b302'
down_revision: str | None = 'c0a5e19b7d01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('digest_sent',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('reader', sa.String(length=128), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sent_at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('chart', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_sent'))
    )
    op.create_index('ix_digest_sent_reader_day', 'digest_sent', ['reader', 'day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_digest_sent_reader_day', table_name='digest_sent')
    op.drop_table('digest_sent')
