"""invitations and invite bonuses (issue 17)

Revision ID: a17b1f7e2002
Revises: a17a0e5c1001
Create Date: 2026-12-01 23:27:19.237526
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.base

revision: str = 'a17b1f7e2002'
down_revision: str | None = 'a17a0e5c1001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('invites_bonuses',
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('inviter_id', sa.String(length=128), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'inviter_id', 'threshold', name=op.f('pk_invites_bonuses'))
    )
    op.create_table('invites_invitations',
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('member_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('inviter_id', sa.String(length=128), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('joined_at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.Column('left_at', bot.storage.base.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('reward_paid', sa.Integer(), nullable=False),
    sa.Column('settled_at', bot.storage.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('group_id', 'member_id', name=op.f('pk_invites_invitations'))
    )
    with op.batch_alter_table('invites_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_invites_invitations_group_inviter', ['group_id', 'inviter_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('invites_invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_invites_invitations_group_inviter')

    op.drop_table('invites_invitations')
    op.drop_table('invites_bonuses')
