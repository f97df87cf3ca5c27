"""Whether the graph store the index was compiled from can still be reached.

Serving never needs the store: the hot path reads the compiled index. But an operator
should know when the store (a Neo4j server, say) has gone away, because the next
restart or index rebuild will fail. So a background task probes the store now and then,
and ``/health`` reports the last result beside what the index was built from. A probe
never runs on a request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graph_store.contract import GraphStore

LOG = logging.getLogger("kgcds.api.health")
PROBE_TIMEOUT_S = 5.0


@dataclass
class StoreHealth:
    """Last known reachability of the store; updated by :meth:`probe_once`, read by ``/health``."""

    description: str
    index_metadata: Mapping[str, str]
    index_compiled_at: str
    probe: Callable[[], None]
    """Raises when the store cannot answer; returns quietly when it can."""
    reachable: bool | None = None
    last_checked: str | None = None
    last_error: str | None = None
    _probes_started: int = 0
    _applied_probe: int = 0
    """The newest probe whose verdict is shown: a slow probe that started earlier never overwrites it."""

    @classmethod
    def for_store(cls, store: GraphStore, index_metadata: Mapping[str, str]) -> StoreHealth:
        def probe() -> None:
            if not store.node_counts():
                raise RuntimeError(f"{store.description} holds no graph")

        return cls(
            description=store.description,
            index_metadata=dict(index_metadata),
            index_compiled_at=datetime.now(UTC).isoformat(timespec="seconds"),
            probe=probe,
        )

    async def probe_once(self) -> None:
        """Probe the store and record the verdict (all on one event loop per caller, so no lock is needed).

        Probes can overlap (an operator's probe beside the background one): a verdict older than the
        one already shown is dropped, so a probe that began before the store vanished cannot hide it.
        """
        self._probes_started += 1
        number = self._probes_started
        started = time.perf_counter()
        error: str | None = None
        try:
            await asyncio.wait_for(asyncio.to_thread(self.probe), PROBE_TIMEOUT_S)
        except TimeoutError:
            # Drivers retry a dead server for a while; past the timeout we call it unreachable.
            error = f"{self.description}: no answer within {PROBE_TIMEOUT_S:.0f} s"
        except Exception as exc:  # any failure means "unreachable"; the reason is reported
            error = str(exc) or type(exc).__name__
        LOG.debug("store probe took %.3f s", time.perf_counter() - started)
        if number < self._applied_probe:
            return
        self._applied_probe = number
        if error is not None and self.reachable is not False:
            LOG.warning("graph store unreachable; serving the last compiled index: %s", error)
        elif error is None and self.reachable is False:
            LOG.info("graph store reachable again")
        self.reachable, self.last_error = error is None, error
        self.last_checked = datetime.now(UTC).isoformat(timespec="seconds")

    def report(self) -> dict[str, Any]:
        """``status`` is ``pass`` while the store answers, ``warn`` when it does not: serving goes on either way."""
        store: dict[str, Any] = {"description": self.description, "reachable": self.reachable}
        if self.last_checked is not None:
            store["last_checked"] = self.last_checked
        if self.last_error is not None:
            store["error"] = self.last_error
        return {
            "status": "warn" if self.reachable is False else "pass",
            "serving": "compiled knowledge index",
            "index": {"compiled_at": self.index_compiled_at, "built_from": dict(self.index_metadata)},
            "store": store,
        }


async def probe_periodically(health: StoreHealth, every: float) -> None:
    while True:
        await health.probe_once()
        await asyncio.sleep(every)
