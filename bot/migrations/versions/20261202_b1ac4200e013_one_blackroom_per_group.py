"""one 小黑屋 per group: blackroom_stays, moved from moderation and check-in

Revision ID: b1ac4200e013
Revises: 5e1f0c2a9d41
Create Date: 2026-12-02 02:30:00

Moderation's moderation_members.blackroom_until and check-in's checkin_members.banned_until
become rows of the core's blackroom_stays (with the offence that put the member in, when
the plugin's records still name it); the two columns are dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import bot.storage.base

revision: str = 'b1ac4200e013'
down_revision: str | None = '5e1f0c2a9d41'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = bot.storage.base.UTCDateTime
STAYS = sa.table(
    'blackroom_stays', sa.column('group_id', sa.String), sa.column('member_id', sa.String),
    sa.column('name', sa.String), sa.column('since', UTC()), sa.column('until', UTC()),
    sa.column('reason', sa.String), sa.column('source', sa.String),
    sa.column('put_by', sa.String), sa.column('released_at', UTC()))
MODERATION = sa.table(
    'moderation_members', sa.column('group_id', sa.String), sa.column('member_id', sa.String),
    sa.column('name', sa.String), sa.column('blackroom_until', UTC()))
ACTIONS = sa.table(
    'moderation_actions', sa.column('group_id', sa.String), sa.column('member_id', sa.String),
    sa.column('rule', sa.String), sa.column('action', sa.String), sa.column('at', UTC()),
    sa.column('undone', sa.Boolean), sa.column('id', sa.Integer))
CHECKIN = sa.table(
    'checkin_members', sa.column('group_id', sa.String), sa.column('member_id', sa.String),
    sa.column('name', sa.String), sa.column('banned_until', UTC()))
OFFENCES = sa.table(
    'checkin_offences', sa.column('group_id', sa.String), sa.column('member_id', sa.String),
    sa.column('at', UTC()))


def upgrade() -> None:
    op.create_table('blackroom_stays',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('group_id', sa.String(length=128), nullable=False),
    sa.Column('member_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('since', bot.storage.base.UTCDateTime(), nullable=False),
    sa.Column('until', bot.storage.base.UTCDateTime(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('put_by', sa.String(length=128), nullable=False),
    sa.Column('released_at', bot.storage.base.UTCDateTime(), nullable=True),
    sa.Column('released_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blackroom_stays'))
    )
    op.create_index('ix_blackroom_stays_group_member', 'blackroom_stays',
                    ['group_id', 'member_id'], unique=False)
    rows = _from_moderation() + _from_checkin()
    if rows:
        op.bulk_insert(STAYS, rows)
    with op.batch_alter_table('moderation_members') as batch:
        batch.drop_column('blackroom_until')
    with op.batch_alter_table('checkin_members') as batch:
        batch.drop_column('banned_until')


def _from_moderation() -> list[dict[str, Any]]:
    """Each member's 小黑屋, with the rule of the latest action that put them there."""
    bind = op.get_bind()
    rows = []
    for group, member, name, until in bind.execute(sa.select(
            MODERATION.c.group_id, MODERATION.c.member_id, MODERATION.c.name,
            MODERATION.c.blackroom_until).where(MODERATION.c.blackroom_until.is_not(None))):
        action = bind.execute(sa.select(ACTIONS.c.rule, ACTIONS.c.at).where(
            ACTIONS.c.group_id == group, ACTIONS.c.member_id == member,
            ACTIONS.c.action.like('blackroom%')).order_by(ACTIONS.c.id.desc()).limit(1)).first()
        rule, since = action if action is not None else ('manual', until)
        rows.append({'group_id': group, 'member_id': member, 'name': name or '',
                     'since': min(since, until), 'until': until, 'reason': f'rule.{rule}',
                     'source': 'moderation', 'put_by': 'bot', 'released_at': None})
    return rows


def _from_checkin() -> list[dict[str, Any]]:
    """Each copier's 小黑屋, from the offence that opened it."""
    bind = op.get_bind()
    rows = []
    for group, member, name, until in bind.execute(sa.select(
            CHECKIN.c.group_id, CHECKIN.c.member_id, CHECKIN.c.name,
            CHECKIN.c.banned_until).where(CHECKIN.c.banned_until.is_not(None))):
        since = bind.execute(sa.select(sa.func.max(OFFENCES.c.at)).where(
            OFFENCES.c.group_id == group, OFFENCES.c.member_id == member,
            OFFENCES.c.at <= until)).scalar()
        rows.append({'group_id': group, 'member_id': member, 'name': name or '',
                     'since': since or until, 'until': until, 'reason': 'blackroom.reason',
                     'source': 'checkin', 'put_by': 'bot', 'released_at': None})
    return rows


def downgrade() -> None:
    with op.batch_alter_table('checkin_members') as batch:
        batch.add_column(sa.Column('banned_until', bot.storage.base.UTCDateTime(),
                                   nullable=True))
    with op.batch_alter_table('moderation_members') as batch:
        batch.add_column(sa.Column('blackroom_until', bot.storage.base.UTCDateTime(),
                                   nullable=True))
    bind = op.get_bind()
    for source, table, column in (('checkin', CHECKIN, CHECKIN.c.banned_until),
                                  ('moderation', MODERATION, MODERATION.c.blackroom_until)):
        for group, member, until in bind.execute(sa.select(
                STAYS.c.group_id, STAYS.c.member_id, sa.func.max(STAYS.c.until)).where(
                STAYS.c.source == source, STAYS.c.released_at.is_(None))
                .group_by(STAYS.c.group_id, STAYS.c.member_id)):
            bind.execute(sa.update(table).where(table.c.group_id == group,
                                                table.c.member_id == member)
                         .values({column.name: until}))
    op.drop_index('ix_blackroom_stays_group_member', table_name='blackroom_stays')
    op.drop_table('blackroom_stays')
