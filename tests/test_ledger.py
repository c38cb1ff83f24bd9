"""The points ledger: balances equal their entries, never go negative, transfers are atomic."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot import ledger
from bot.ledger import Change, InsufficientPoints, PointsEntry
from bot.storage import Base, Database

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WHY = Change("test", "tests", NOW)
MEMBERS = ["amy", "ben", "cai"]


async def _fresh_memory_db() -> Database:
    db = Database("sqlite+aiosqlite:///:memory:")
    async with db.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    return db


operation = st.one_of(
    st.tuples(st.just("grant"), st.sampled_from(MEMBERS), st.integers(1, 500)),
    st.tuples(st.just("deduct"), st.sampled_from(MEMBERS), st.integers(1, 500)),
    st.tuples(st.just("transfer"), st.sampled_from(MEMBERS), st.sampled_from(MEMBERS),
              st.integers(1, 500)),
)


async def _apply(operations: list[tuple]) -> None:
    db = await _fresh_memory_db()
    expected = dict.fromkeys(MEMBERS, 0)
    try:
        for op in operations:
            try:
                async with db.transaction() as session:
                    if op[0] == "grant":
                        await ledger.change(session, "g", op[1], op[2], WHY)
                        expected[op[1]] += op[2]
                    elif op[0] == "deduct":
                        await ledger.change(session, "g", op[1], -op[2], WHY)
                        expected[op[1]] -= op[2]
                    elif op[1] != op[2]:
                        await ledger.transfer(session, "g", op[1], op[2], op[3], WHY)
                        expected[op[1]] -= op[3]
                        expected[op[2]] += op[3]
            except InsufficientPoints:
                pass  # refused: the model did not change either
            async with db.transaction() as session:
                for member in MEMBERS:
                    held = await ledger.balance(session, "g", member)
                    assert held == expected[member] >= 0
                    assert held == await ledger.entries_total(session, "g", member)
    finally:
        await db.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, max_size=25))
def test_random_grants_deductions_and_transfers_keep_balances_equal_to_entries(operations):
    asyncio.run(_apply(operations))


async def test_a_refused_deduction_changes_nothing(database_url, tmp_path):
    db = Database(database_url, tmp_path)
    await db.migrate()
    try:
        async with db.transaction() as session:
            await ledger.change(session, "g", "amy", 10, WHY)
        with pytest.raises(InsufficientPoints) as refused:
            async with db.transaction() as session:
                await ledger.transfer(session, "g", "amy", "ben", 11, WHY)
        assert refused.value.balance == 10
        async with db.transaction() as session:
            assert await ledger.balance(session, "g", "amy") == 10
            assert await ledger.balance(session, "g", "ben") == 0
            count = await session.scalar(select(func.count()).select_from(PointsEntry))
            assert count == 1
            assert await ledger.change(session, "g", "ben", -5, WHY, allow_negative=True) == -5
    finally:
        await db.close()


async def test_concurrent_spending_never_overdraws(database_url, tmp_path):
    db = Database(database_url, tmp_path)
    await db.migrate()
    try:
        async with db.transaction() as session:
            await ledger.change(session, "g", "amy", 100, WHY)

        async def spend() -> bool:
            try:
                async with db.transaction() as session:
                    await ledger.transfer(session, "g", "amy", "ben", 30, WHY)
                return True
            except InsufficientPoints:
                return False

        results = await asyncio.gather(*(spend() for _ in range(10)))
        assert results.count(True) == 3
        async with db.transaction() as session:
            assert await ledger.balance(session, "g", "amy") == 10
            assert await ledger.balance(session, "g", "ben") == 90
            assert await ledger.rank(session, "g", "ben") == (1, 90)
            assert await ledger.leaderboard(session, "g") == [("ben", 90), ("amy", 10)]
    finally:
        await db.close()
