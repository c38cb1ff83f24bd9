"""web console: login links, passwords, sessions, audit log

Revision ID: c0a5e19b7d01
Revises: b1ac4200e013
Create Date: 2026-12-02 02:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.base

revision: str = 'c0a5e19b7d01'
down_revision: str | None = 'b1ac4200e013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('web_login_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.String(length=128), nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=True),
    sa.Column('created_at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.Column('used_at', bot.storage.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_login_links'))
    )
    op.create_table('web_passwords',
    sa.Column('person_id', sa.String(length=128), nullable=False),
    sa.Column('hash', sa.String(length=255), nullable=False),
    sa.Column('set_at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_web_passwords'))
    )
    op.create_table('web_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.String(length=128), nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=True),
    sa.Column('csrf', sa.String(length=64), nullable=False),
    sa.Column('created_at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_sessions'))
    )
    op.create_table('web_audit',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', bot.storage.base.UTCDateTime(), nullable=False),
    sa.Column('person_id', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_audit'))
    )
    op.create_index('ix_web_audit_at', 'web_audit', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_web_audit_at', table_name='web_audit')
    op.drop_table('web_audit')
    op.drop_table('web_sessions')
    op.drop_table('web_passwords')
    op.drop_table('web_login_links')
