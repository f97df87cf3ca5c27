"""How long a hook call waits for a worker: a queueing model of the HTTP tail, without the VM.

Arrivals are Poisson at ``rate``; service times are log-normal around the in-worker CPU time measured at
500 req/s (``app`` in :mod:`evaluation.bench_order_select`). Two ways to meet a request:

* ``pinned``: each request goes to a random worker and waits for it (keep-alive connections stay on the
  worker that accepted them, however idle the other one is);
* ``shared``: one queue; the first worker to be free takes the next request (a dispatcher in front).

    .venv/bin/python -m evaluation.queue_model [--median-ms 1.1] [--p99-ms 2.3] [--rate 500]

Prints the median and p99 of the time from arrival to answer (wait + service), no network or steal.
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Callable

from evaluation.latency import percentile

_Z99 = 2.326  # the standard normal's 99th percentile


def lognormal_service(median_ms: float, p99_ms: float, rng: random.Random) -> Callable[[], float]:
    """Service times with this median and p99."""
    sigma = math.log(p99_ms / median_ms) / _Z99
    return lambda: median_ms * rng.lognormvariate(0.0, sigma)


def response_times(
    rate_per_s: float,
    workers: int,
    service: Callable[[], float],
    requests: int,
    rng: random.Random,
    *,
    shared: bool,
) -> list[float]:
    """Milliseconds from arrival to answer of ``requests`` Poisson arrivals."""
    rate_per_ms = rate_per_s / 1000.0
    free_at = [0.0] * workers
    now = 0.0
    out: list[float] = []
    for _ in range(requests):
        now += rng.expovariate(rate_per_ms)
        worker = min(range(workers), key=free_at.__getitem__) if shared else rng.randrange(workers)
        done = max(now, free_at[worker]) + service()
        free_at[worker] = done
        out.append(done - now)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--median-ms", type=float, default=1.1, help="in-worker time per call, median")
    parser.add_argument("--p99-ms", type=float, default=2.3, help="in-worker time per call, p99")
    parser.add_argument("--rate", type=float, default=500.0, help="arrivals per second")
    parser.add_argument("--requests", type=int, default=200_000)
    args = parser.parse_args()
    for label, workers, shared, scale in (
        ("2 workers, pinned", 2, False, 1.0),
        ("2 workers, one shared queue", 2, True, 1.0),
        ("1 worker", 1, False, 1.0),
        ("2 workers, pinned, calls 20 % shorter", 2, False, 0.8),
        ("2 workers, pinned, calls a third shorter", 2, False, 2 / 3),
    ):
        rng = random.Random(1)
        service = lognormal_service(args.median_ms * scale, args.p99_ms * scale, rng)
        times = response_times(args.rate, workers, service, args.requests, rng, shared=shared)
        print(f"{label}: median {percentile(times, 0.5):.2f} ms, p99 {percentile(times, 0.99):.2f} ms")


if __name__ == "__main__":
    main()
