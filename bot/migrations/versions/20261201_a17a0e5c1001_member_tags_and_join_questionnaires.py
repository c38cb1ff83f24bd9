"""member tags and join questionnaires (issue 17)

Revision ID: a17a0e5c1001
Revises: 5d1e7c2a9b40
Create Date: 2026-12-01 23:18:28.175052
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.base

revision: str = 'a17a0e5c1001'
down_revision: str | None = '5d1e7c2a9b40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('tags_members',
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('member_id', sa.String(length=128), nullable=False),
    sa.Column('tag', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'member_id', 'tag', name=op.f('pk_tags_members'))
    )
    with op.batch_alter_table('tags_members', schema=None) as batch_op:
        batch_op.create_index('ix_tags_members_group_tag', ['group_id', 'tag'], unique=False)

    op.create_table('tags_questionnaires',
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('member_id', sa.String(length=128), nullable=False),
    sa.Column('question', sa.Integer(), nullable=False),
    sa.Column('asked_at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'member_id', name=op.f('pk_tags_questionnaires'))
    )


def downgrade() -> None:
    op.drop_table('tags_questionnaires')
    with op.batch_alter_table('tags_members', schema=None) as batch_op:
        batch_op.drop_index('ix_tags_members_group_tag')

    op.drop_table('tags_members')
