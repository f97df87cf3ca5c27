"""The bounded memo the hot path uses: it never grows past its limit."""

from __future__ import annotations

from cds_api.memo import remember


def test_a_full_memo_is_emptied_before_the_new_entry_is_kept() -> None:
    memo: dict[str, int] = {}
    for n in range(3):
        assert remember(memo, f"k{n}", n, limit=3) == n
    assert len(memo) == 3
    assert remember(memo, "k3", 3, limit=3) == 3
    assert memo == {"k3": 3}
