"""The queueing model behind the HTTP tail figures agrees with queueing theory where theory has an answer."""

from __future__ import annotations

import random
import statistics

from evaluation.latency import percentile
from evaluation.queue_model import lognormal_service, response_times


def test_one_worker_with_fixed_service_waits_as_m_d_1_says() -> None:
    """M/D/1 at load 0.5 with 1 ms calls: mean wait rho / (2 mu (1 - rho)) = 0.5 ms, so 1.5 ms in all."""
    rng = random.Random(7)
    times = response_times(500, 1, lambda: 1.0, 200_000, rng, shared=False)
    assert abs(statistics.fmean(times) - 1.5) < 0.03


def test_a_shared_queue_cuts_the_tail_of_pinned_workers() -> None:
    rng = random.Random(7)
    service = lognormal_service(1.1, 2.3, rng)
    pinned = percentile(response_times(500, 2, service, 100_000, rng, shared=False), 0.99)
    shared = percentile(response_times(500, 2, service, 100_000, rng, shared=True), 0.99)
    assert shared < pinned - 0.5


def test_service_times_have_the_median_and_p99_asked_for() -> None:
    service = lognormal_service(1.1, 2.3, random.Random(3))
    draws = [service() for _ in range(100_000)]
    assert abs(percentile(draws, 0.5) - 1.1) < 0.02
    assert abs(percentile(draws, 0.99) - 2.3) < 0.1
