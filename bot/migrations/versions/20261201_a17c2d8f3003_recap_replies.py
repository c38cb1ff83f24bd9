"""recap replies (issue 17)

Revision ID: a17c2d8f3003
Revises: a17b1f7e2002
Create Date: 2026-12-01 23:32:42.559592
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.base

revision: str = 'a17c2d8f3003'
down_revision: str | None = 'a17b1f7e2002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('recap_replied',
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('author_id', sa.String(length=128), nullable=False),
    sa.Column('text_key', sa.String(length=40), nullable=False),
    sa.Column('author_name', sa.String(length=128), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('replies', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'day', 'author_id', 'text_key', name=op.f('pk_recap_replied'))
    )


def downgrade() -> None:
    op.drop_table('recap_replied')
