"""The benchmark scripts' shared percentile is nearest-rank."""

from __future__ import annotations

import pytest

from evaluation.latency import percentile, summary_ms


def test_nearest_rank_percentiles() -> None:
    samples = [float(v) for v in range(100, 0, -1)]  # 1..100, unsorted
    assert percentile(samples, 0.99) == 99.0
    assert percentile(samples, 0.5) == 50.0
    assert percentile(samples, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    assert summary_ms(samples) == {"n": 100, "median_ms": 50.5, "p99_ms": 99.0, "max_ms": 100.0}
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 0.5)
