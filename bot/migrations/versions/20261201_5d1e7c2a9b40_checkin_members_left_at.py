"""checkin members: when a member left the group (no reminders for leavers)

Revision ID: 5d1e7c2a9b40
Revises: 5d1e0c2a9b71
Create Date: 2026-12-01 23:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.base

revision: str = '5d1e7c2a9b40'
down_revision: str | None = '5d1e0c2a9b71'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('checkin_members') as batch:
        batch.add_column(sa.Column('left_at', bot.storage.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('checkin_members') as batch:
        batch.drop_column('left_at')
