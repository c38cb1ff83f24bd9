"""outbox: the kind of short reply a row may be sent together with (issue 16.5)

Revision ID: c0a1e5ce1601
Revises: b18c0a5e7f21
Create Date: 2026-12-02 02:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c0a1e5ce1601'
down_revision: str | None = 'b18c0a5e7f21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_messages') as batch:
        batch.add_column(sa.Column('coalesce', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_column('coalesce')
