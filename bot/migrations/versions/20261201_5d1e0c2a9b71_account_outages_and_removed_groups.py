"""account outages and removed groups (issue 11)

Revision ID: 5d1e0c2a9b71
Revises: 23a3c05f0c23
Create Date: 2026-12-01 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.base

revision: str = '5d1e0c2a9b71'
down_revision: str | None = '23a3c05f0c23'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('account_outages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('started_at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.Column('ended_at', bot.storage.base.UTCDateTime(), nullable=True),
    sa.Column('reason', sa.String(length=256), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_outages'))
    )
    op.create_table('removed_groups',
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('removed_at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.Column('remover_id', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('group_id', name=op.f('pk_removed_groups'))
    )


def downgrade() -> None:
    op.drop_table('removed_groups')
    op.drop_table('account_outages')
