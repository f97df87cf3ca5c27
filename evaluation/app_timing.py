"""The app's own time per call, recorded inside each served worker, for telling a slow call from a queued one.

A client's latency is the call's own time plus its wait: for the worker holding its connection to finish
other calls, for a CPU the VM lends to a neighbour. Wrapped around the app the benchmark serves,
:class:`AppTimer` writes, per POST call, when it started (``time.perf_counter``: CLOCK_MONOTONIC, the same
clock in every process), how long it took and how much CPU its thread spent, 24 bytes appended to a file of
the worker's own. The benchmark reads the calls that started within a measurement with :func:`app_times`.
It covers what the app does (Litestar and the handler), not uvicorn's parsing and writing, nor the kernel.
One ``write`` per call costs a few microseconds: negligible beside a call of ~1 ms, not free.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from evaluation.latency import percentile

_RECORD = struct.Struct("<ddd")
"""(started, wall seconds, CPU seconds) of one call."""
PREFIX = "app-times-"


class AppTimer:
    """An ASGI app that runs ``app`` and records each POST call's start, wall and CPU time under ``directory``."""

    def __init__(self, app: ASGIApp, directory: Path) -> None:
        self._app = app
        self._directory = directory
        self._fd = -1
        self._pid = 0
        """The process ``_fd`` was opened in: none yet (0), or the parent the workers were forked from."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        cpu = time.thread_time()
        await self._app(scope, receive, send)
        record = _RECORD.pack(started, time.perf_counter() - started, time.thread_time() - cpu)
        os.write(self._file(), record)

    def _file(self) -> int:
        # Opened on first use in each worker: the timer is built before the workers are forked.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            path = self._directory / f"{PREFIX}{self._pid}.bin"
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return self._fd


def app_times(directory: Path, start: float, end: float) -> dict[str, Any]:
    """Median and p99 (ms) of the wall and CPU time of the calls every worker started in [start, end)."""
    wall: list[float] = []
    cpu: list[float] = []
    for path in sorted(directory.glob(f"{PREFIX}*.bin")):
        data = path.read_bytes()
        usable = len(data) - len(data) % _RECORD.size  # a record being written as we read
        for started, took, spent in _RECORD.iter_unpack(data[:usable]):
            if start <= started < end:
                wall.append(took * 1000)
                cpu.append(spent * 1000)
    if not wall:
        return {"calls": 0}
    return {
        "calls": len(wall),
        "wall_median_ms": round(percentile(wall, 0.5), 3),
        "wall_p99_ms": round(percentile(wall, 0.99), 3),
        "cpu_median_ms": round(percentile(cpu, 0.5), 3),
        "cpu_p99_ms": round(percentile(cpu, 0.99), 3),
    }


SETTLE_SECONDS = 0.2
"""Calls in flight when a measurement ends are recorded once they finish."""


def with_app_time(directory: Path | None, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``measure()``'s figures plus ``app``: the app's own time for the calls started meanwhile, as
    :class:`AppTimer` under ``directory`` recorded them (figures unchanged when ``directory`` is None)."""
    if directory is None:
        return measure()
    start = time.perf_counter()
    figures = measure()
    end = time.perf_counter()
    time.sleep(SETTLE_SECONDS)
    return {**figures, "app": app_times(directory, start, end)}
