"""room leases: which account serves a room when several share the database (issue 18)

Revision ID: b18c0a5e7f21
Revises: d1a6e5c4b302
Create Date: 2026-12-02 02:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.base

revision: str = 'b18c0a5e7f21'
down_revision: str | None = 'd1a6e5c4b302'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('room_leases',
    sa.Column('room_id', sa.String(length=128), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=160), nullable=False),
    sa.Column('taken_at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.Column('heartbeat_at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('room_id', name=op.f('pk_room_leases'))
    )
    op.create_index('ix_room_leases_account', 'room_leases', ['account'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_room_leases_account', table_name='room_leases')
    op.drop_table('room_leases')
