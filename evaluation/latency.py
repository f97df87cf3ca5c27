"""Latency summaries shared by the benchmark scripts (nearest-rank percentiles, milliseconds)."""

from __future__ import annotations

import math
import statistics


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile, ``q`` in (0, 1]: the smallest sample with a share ``q`` of samples at or below it."""
    if not values:
        raise ValueError("percentile of no samples")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summary_ms(timings_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(timings_ms),
        "median_ms": round(statistics.median(timings_ms), 2),
        "p99_ms": round(percentile(timings_ms, 0.99), 2),
        "max_ms": round(max(timings_ms), 2),
    }
