"""Spread keep-alive connections evenly over pre-forked workers that share one listening socket.

Left to the event loop, a worker that wakes for a new connection accepts every connection queued
on the shared socket in one go. An EHR's or a load generator's pool of keep-alive connections,
opened together, then lands on one worker while the other idles: measured with 8 connections on
the 2-core machine, one worker spent 4.8 s of CPU and the other 0.03 s, and the busy one's queue
put p99 at 20-30 ms. Connections live for many calls, so where one is accepted decides where all
its calls are served.

So each worker accepts one connection at a time, and only while no other live worker holds fewer
open connections (least connections, as a load balancer would do it). The counts live in a shared
page (:class:`ConnectionTally`), written by each worker when it accepts a connection and when one
closes. A worker that is not the least loaded steps aside; if the others have not taken the
connection within :data:`MAX_DEFER_SECONDS` (they are busy or stuck), it accepts it. A stale or
torn count can at worst cost one such wait.

The price is paid by clients that open a new connection per call: each goes through this Python
accept, and a worker whose newest connection is still being made steps aside for the next one until
its own count changes. Measured with 8 such clients: heavy order-select calls 1,697-1,812 req/s
against 1,747-1,920 with the event loop's own accept; the empty ``/health`` 4,300-5,500 connections
per second against 6,900-8,600.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import mmap
import select
import socket
import sys
import time
from collections.abc import Callable
from typing import Final, TypeVar, cast

import uvicorn
from uvicorn.config import STARTUP_FAILURE, Config

LOG = logging.getLogger("kgcds.serve")

RECHECK_SECONDS: Final = 0.001
"""How long a worker that stepped aside waits before looking at the socket again."""
MAX_DEFER_SECONDS: Final = 0.02
"""After this long unaccepted by the others, a waiting connection is taken by whichever worker looks.

Long enough for a worker in the middle of a call (a heavy order-select: about 1 ms, the first after
an idle spell: a few) to come back and take it; short against a connection's lifetime of many calls.
"""
OUT_OF_FILES_PAUSE_SECONDS: Final = 1.0
"""asyncio's own pause when accept() runs out of file descriptors."""

ABSENT: Final = -1
"""A slot whose worker is not (or no longer) serving: ignored by the others."""
_SLOT_BYTES: Final = 4


class ConnectionTally:
    """Open connections per worker slot, in an anonymous shared mapping every forked worker sees."""

    def __init__(self, page: mmap.mmap, slots: int) -> None:
        self._page = page
        self._counts = memoryview(page).cast("i")
        self.slots = slots

    @classmethod
    def create(cls, slots: int) -> ConnectionTally:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        tally = cls(mmap.mmap(-1, slots * _SLOT_BYTES), slots)
        for slot in range(slots):
            tally.publish(slot, ABSENT)
        return tally

    def publish(self, slot: int, connections: int) -> None:
        self._counts[slot] = connections

    def count(self, slot: int) -> int:
        return int(self._counts[slot])

    def fewest_elsewhere(self, slot: int) -> int | None:
        """The smallest count among the other live workers; None when there is none."""
        others = [self._counts[other] for other in range(self.slots) if other != slot]
        live = [n for n in others if n != ABSENT]
        return min(live) if live else None


def should_accept(mine: int, fewest_elsewhere: int | None, waited: float) -> bool:
    """Whether a worker holding ``mine`` connections takes the next one after ``waited`` seconds."""
    return fewest_elsewhere is None or mine <= fewest_elsewhere or waited >= MAX_DEFER_SECONDS


_T = TypeVar("_T")


class TalliedSet(set[_T]):
    """uvicorn's set of open connections (its protocols add themselves when made and leave when
    lost), telling the listener whenever a connection joins or leaves."""

    def __init__(self, joined: Callable[[], None], left: Callable[[], None]) -> None:
        super().__init__()
        self._joined = joined
        self._left = left

    def add(self, element: _T) -> None:
        super().add(element)
        self._joined()

    def discard(self, element: _T) -> None:  # type: ignore[override]  # uvicorn discards its own protocols
        super().discard(element)
        self._left()

    def remove(self, element: _T) -> None:
        super().remove(element)
        self._left()


class BalancedListener:
    """Accepts from a shared listening socket by :func:`should_accept` and hands each connection to
    the event loop with uvicorn's protocol. Quacks like the ``asyncio.Server`` uvicorn shuts down."""

    def __init__(
        self,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        tally: ConnectionTally,
        slot: int,
        open_connections: Callable[[], int],
    ) -> None:
        self._sock = sock
        self._factory = protocol_factory
        self._tally = tally
        self._slot = slot
        self._open_connections = open_connections
        self._loop = asyncio.get_running_loop()
        self._handing_over: set[asyncio.Task[object]] = set()
        self._unmade = 0
        """Connections accepted whose protocol has not joined ``open_connections`` yet."""
        self._deferred_since: float | None = None
        self._recheck_timer: asyncio.TimerHandle | None = None
        """The pending re-check of a worker that stepped aside (one at a time)."""
        self._reading = False
        self._closed = False

    def start(self) -> None:
        self._sock.setblocking(False)
        self.publish()
        self._watch()

    def connections(self) -> int:
        """This worker's open connections, those accepted but not yet made included."""
        return self._open_connections() + self._unmade

    def publish(self) -> None:
        if not self._closed:
            self._tally.publish(self._slot, self.connections())

    def connection_joined(self) -> None:
        self._unmade = max(0, self._unmade - 1)
        self._count_changed()

    def connection_left(self) -> None:
        self._count_changed()

    def _count_changed(self) -> None:
        self.publish()
        # A worker that stepped aside looks again at once: it may now hold the fewest. Waiting for its
        # re-check timer instead left connections queued while both workers waited on theirs.
        if self._deferred_since is not None:
            self._watch()

    def close(self) -> None:
        self._closed = True
        if self._recheck_timer is not None:
            self._recheck_timer.cancel()
        self._unwatch()
        self._tally.publish(self._slot, ABSENT)

    async def wait_closed(self) -> None:
        if self._handing_over:
            await asyncio.gather(*self._handing_over, return_exceptions=True)

    def _watch(self) -> None:
        if not self._reading and not self._closed:
            self._loop.add_reader(self._sock.fileno(), self._on_readable)
            self._reading = True

    def _unwatch(self) -> None:
        if self._reading:
            self._loop.remove_reader(self._sock.fileno())
            self._reading = False

    def _on_readable(self) -> None:
        mine = self.connections()
        now = time.monotonic()
        waited = 0.0 if self._deferred_since is None else now - self._deferred_since
        if not should_accept(mine, self._tally.fewest_elsewhere(self._slot), waited):
            if self._deferred_since is None:
                self._deferred_since = now
            self._unwatch()
            if self._recheck_timer is None:  # after a count change re-watched early, one is still pending
                self._recheck_timer = self._loop.call_later(RECHECK_SECONDS, self._recheck)
            return
        self._deferred_since = None
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # another worker took it, or the client gave up while queued
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                LOG.error("cannot accept connections (%s): pausing %.0f s", exc, OUT_OF_FILES_PAUSE_SECONDS)
                self._unwatch()
                self._loop.call_later(OUT_OF_FILES_PAUSE_SECONDS, self._watch)
            else:  # as asyncio does: report it and keep serving the connections already open
                LOG.exception("accept() failed on the listening socket")
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._unmade += 1
        task: asyncio.Task[object] = self._loop.create_task(self._hand_over(conn))
        self._handing_over.add(task)
        task.add_done_callback(self._handed_over)
        self.publish()

    async def _hand_over(self, conn: socket.socket) -> object:
        try:
            return await self._loop.connect_accepted_socket(self._factory, conn)
        except OSError:  # the client reset the connection before the transport was made
            conn.close()
            self.connection_joined()  # it never will: no longer counted
            return None

    def _handed_over(self, task: asyncio.Task[object]) -> None:
        self._handing_over.discard(task)

    def _recheck(self) -> None:
        # Nothing waiting any more: another worker took it, and the next connection's wait starts afresh
        # (a stale start would let this worker take it at once).
        self._recheck_timer = None
        readable, _, _ = select.select([self._sock], [], [], 0)
        if not readable:
            self._deferred_since = None
        self._watch()


class BalancedServer(uvicorn.Server):
    """uvicorn's server with its listening socket read through a :class:`BalancedListener`."""

    def __init__(self, config: Config, tally: ConnectionTally, slot: int) -> None:
        super().__init__(config)
        self._tally = tally
        self._slot = slot
        self._listener: BalancedListener | None = None
        self.server_state.connections = TalliedSet(self._joined, self._left)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if not sockets or len(sockets) != 1:
            raise ValueError("a balanced worker serves exactly one shared listening socket")
        # As uvicorn's own start-up with sockets given, but for the listener.
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)
        config = self.config

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        connections = self.server_state.connections
        self._listener = BalancedListener(sockets[0], create_protocol, self._tally, self._slot, connections.__len__)
        self._listener.start()
        # uvicorn only calls close() and wait_closed() on its servers.
        self.servers = [cast(asyncio.base_events.Server, self._listener)]
        self.started = True

    def _joined(self) -> None:
        if self._listener is not None:
            self._listener.connection_joined()

    def _left(self) -> None:
        if self._listener is not None:
            self._listener.connection_left()
