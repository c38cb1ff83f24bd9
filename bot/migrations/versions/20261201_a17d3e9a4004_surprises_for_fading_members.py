"""surprises for fading members (issue 17)

Revision ID: a17d3e9a4004
Revises: a17c2d8f3003
Create Date: 2026-12-01 23:35:22.879813
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.base

revision: str = 'a17d3e9a4004'
down_revision: str | None = 'a17c2d8f3003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('surprise_given',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('member_id', sa.String(length=128), nullable=False),
    sa.Column('at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('bonus', sa.Integer(), nullable=False),
    sa.Column('spoke_again_at', bot.storage.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surprise_given'))
    )
    with op.batch_alter_table('surprise_given', schema=None) as batch_op:
        batch_op.create_index('ix_surprise_given_group_member', ['group_id', 'member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('surprise_given', schema=None) as batch_op:
        batch_op.drop_index('ix_surprise_given_group_member')

    op.drop_table('surprise_given')
