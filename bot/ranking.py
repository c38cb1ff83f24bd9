"""Places on a leaderboard, one way for every plugin (issue 13: "第 1 名" with 0 points).

A score of zero or less earns no place: a member who has nothing is not "first" because
nobody else has anything either. Tied scores share a place and the next place skips
(1, 1, 3), as the ledger's own rank does — so `/积分` and `/积分榜` never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def standings(rows: Iterable[T], score: Callable[[T], float],
              limit: int | None = None) -> list[tuple[int, T]]:
    """(place, row) best first, for rows with a positive score; at most `limit` rows."""
    ranked = sorted((row for row in rows if score(row) > 0), key=lambda row: -score(row))
    places: list[tuple[int, T]] = []
    for index, row in enumerate(ranked[:limit] if limit is not None else ranked):
        tied = index > 0 and score(row) == score(ranked[index - 1])
        places.append((places[-1][0] if tied else index + 1, row))
    return places
