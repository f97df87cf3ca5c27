"""Bounded memo tables for the hot path.

Keys come from callers' data (codes, texts, rule parts), so a long-running server could meet
unboundedly many; a full table is emptied rather than tracked entry by entry, which keeps the hit path
a bare ``dict.get``.
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def remember(memo: dict[K, V], key: K, value: V, limit: int) -> V:
    """Store ``value`` under ``key`` (emptying a full ``memo`` first) and return it."""
    if len(memo) >= limit:
        memo.clear()
    memo[key] = value
    return value
