"""Serve one ASGI app from N pre-forked uvicorn worker processes sharing one listening socket.

The parent compiles the knowledge index and builds the app once, freezes the heap out of the
collector's reach, then forks: every worker shares the index copy-on-write, and start-up does not
compile N times. What must be per process is opened by the app's lifespan, which runs in each
worker after the fork (the feedback and replay SQLite connections, the background tasks). Each
worker takes a new connection only while no other holds fewer (:mod:`cds_api.balanced_accept`):
a client's keep-alive pool is spread evenly instead of landing on whichever worker woke first.

The parent only supervises. It forwards SIGTERM/SIGINT to the workers as SIGTERM (each finishes its
requests and runs its lifespan shutdown) and exits 0 once they are gone. A worker that dies while
serving is reported and replaced; one that dies within :data:`MIN_UPTIME_SECONDS` of its start
failed at start-up and would only fail again, so the parent stops the others and exits non-zero.

Nothing in a worker may use polars: its thread pool does not survive a fork and the call would hang.
So the parent, not the workers, probes the graph store (the probe reads parquet files with polars)
and publishes the verdict in a shared page that each worker's ``/health`` reads (:class:`SharedVerdict`).
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import NamedTuple

import uvicorn
from litestar.types import ASGIApp

from cds_api.balanced_accept import ABSENT, BalancedServer, ConnectionTally

LOG = logging.getLogger("kgcds.serve")
MIN_UPTIME_SECONDS = 10.0
GRACEFUL_STOP_SECONDS = 30.0
"""How long the parent waits for workers to finish their requests before killing them."""
SUPERVISE_TICK_SECONDS = 0.5

_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
_UNKNOWN, _PASS, _FAIL = 0, 1, 2
_VERDICT_BYTES = 2048


def bind_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """The listening socket every worker accepts on (spread among them by :mod:`cds_api.balanced_accept`).

    The protocol must be named: asyncio sets TCP_NODELAY on an accepted socket only when its
    ``proto`` is IPPROTO_TCP, and without it uvicorn's response (head and body written apart) waits
    on the client's delayed ACK: 40 ms per request.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


class SharedVerdict:
    """The parent's last store probe, in an anonymous shared mapping every forked worker sees.

    Layout: one status byte (unknown / pass / fail), two length bytes, the error message (UTF-8).
    A worker's probe reads it: a torn read can at worst garble the message of a failure.
    """

    def __init__(self, page: mmap.mmap) -> None:
        self._page = page

    @classmethod
    def create(cls) -> SharedVerdict:
        return cls(mmap.mmap(-1, _VERDICT_BYTES))

    def publish(self, error: str | None) -> None:
        if error is None:
            self._page[0] = _PASS
            return
        message = error.encode("utf-8", "replace")[: _VERDICT_BYTES - 3]
        self._page[3 : 3 + len(message)] = message
        self._page[1:3] = len(message).to_bytes(2, "big")
        self._page[0] = _FAIL

    def probe(self) -> None:
        """A store probe for the workers: raises when the parent's last probe failed."""
        if self._page[0] == _FAIL:
            length = int.from_bytes(self._page[1:3], "big")
            raise RuntimeError(self._page[3 : 3 + length].decode("utf-8", "replace"))


@dataclass(frozen=True, slots=True)
class ServerOptions:
    workers: int = 1
    timeout_keep_alive: int = 5
    """Seconds an idle keep-alive connection stays open (uvicorn's default)."""


def uvicorn_config(app: ASGIApp, options: ServerOptions) -> uvicorn.Config:
    # Logging is configured by the caller (`kgcds serve`); access logs cost per request and are off.
    return uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_keep_alive=options.timeout_keep_alive,
        timeout_graceful_shutdown=int(GRACEFUL_STOP_SECONDS),
    )


def serve(
    app: ASGIApp,
    sock: socket.socket,
    options: ServerOptions,
    *,
    store_probe: Callable[[], None] | None = None,
    verdict: SharedVerdict | None = None,
    probe_every: float = 30.0,
) -> int:
    """Serve on ``sock`` (see :func:`bind_socket`) until SIGTERM/SIGINT; the exit code for the process.

    With one worker the app runs in this process. With more, ``store_probe`` (if given) runs here
    every ``probe_every`` seconds and its outcome is published to ``verdict`` for the workers.
    """
    if options.workers == 1:
        # As in a worker: uvicorn re-raises the stop signal after its graceful stop; ignored, we exit 0.
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _STOP_SIGNALS}
        try:
            server = uvicorn.Server(uvicorn_config(app, options))
            server.run(sockets=[sock])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0 if server.started else 1
    try:
        return _Supervisor(app, options, sock, store_probe, verdict, probe_every).run()
    finally:
        sock.close()


class _Worker(NamedTuple):
    started: float
    """Monotonic start time."""
    slot: int
    """The worker's slot in the connection tally (a replacement takes over its slot)."""


class _Supervisor:
    def __init__(
        self,
        app: ASGIApp,
        options: ServerOptions,
        sock: socket.socket,
        store_probe: Callable[[], None] | None,
        verdict: SharedVerdict | None,
        probe_every: float,
    ) -> None:
        self._app = app
        self._options = options
        self._sock = sock
        self._store_probe = store_probe
        self._verdict = verdict
        self._probe_every = probe_every
        self._workers: dict[int, _Worker] = {}
        self._tally = ConnectionTally.create(options.workers)
        self._stopping = False
        self._exit_code = 0

    def run(self) -> int:
        self._probe_store()
        previous = {sig: signal.signal(sig, self._on_signal) for sig in _STOP_SIGNALS}
        try:
            for slot in range(self._options.workers):
                self._fork_worker(slot)
            LOG.info("serving with %d worker processes: %s", len(self._workers), sorted(self._workers))
            self._supervise()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return self._exit_code

    def _on_signal(self, signum: int, _: FrameType | None) -> None:
        if not self._stopping:
            LOG.info("%s received: stopping %d workers", signal.Signals(signum).name, len(self._workers))
        self._stop(signal.SIGTERM)

    def _stop(self, how: int) -> None:
        self._stopping = True
        for pid in list(self._workers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, how)

    def _fork_worker(self, slot: int) -> None:
        # Signals stay blocked across the fork until the child has dropped the parent's handler:
        # otherwise a SIGTERM in that window would make the child "stop" its siblings.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child, which never returns here
                os._exit(_run_worker(self._app, self._options, self._sock, self._tally, slot))
            self._workers[pid] = _Worker(time.monotonic(), slot)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)

    def _supervise(self) -> None:
        next_probe = time.monotonic() + self._probe_every
        stop_deadline: float | None = None
        while self._workers:
            self._reap()
            now = time.monotonic()
            if self._stopping:
                stop_deadline = stop_deadline or now + GRACEFUL_STOP_SECONDS + 5
                if now > stop_deadline:
                    LOG.error("workers %s did not stop in time: killing them", sorted(self._workers))
                    self._stop(signal.SIGKILL)
                    stop_deadline = now + 3600
            elif now >= next_probe:
                self._probe_store()
                next_probe = now + self._probe_every
            time.sleep(SUPERVISE_TICK_SECONDS)

    def _reap(self) -> None:
        while self._workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self._workers.clear()
                return
            if pid == 0:
                return
            worker = self._workers.pop(pid, None)
            if worker is None:
                continue
            self._tally.publish(worker.slot, ABSENT)  # a dead worker's last count must not steer the others' accepts
            if self._stopping:
                continue
            uptime = time.monotonic() - worker.started
            how = _describe_exit(status)
            if uptime < MIN_UPTIME_SECONDS:
                LOG.error("worker %d %s %.1f s after its start: stopping the server", pid, how, uptime)
                self._exit_code = 1
                self._stop(signal.SIGTERM)
            else:
                LOG.error("worker %d %s after %.0f s of serving: starting a replacement", pid, how, uptime)
                self._fork_worker(worker.slot)

    def _probe_store(self) -> None:
        if self._store_probe is None or self._verdict is None:
            return
        try:
            self._store_probe()
        except Exception as exc:  # any failure means "unreachable"; the workers' /health reports why
            self._verdict.publish(str(exc) or type(exc).__name__)
        else:
            self._verdict.publish(None)


def _describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"


def _run_worker(  # pragma: no cover - runs in the child
    app: ASGIApp, options: ServerOptions, sock: socket.socket, tally: ConnectionTally, slot: int
) -> int:
    # uvicorn installs its own SIGTERM/SIGINT handlers while serving and re-raises the signal after a
    # graceful stop; ignoring it then lets the worker return its own exit code instead of dying by it.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    try:
        server = BalancedServer(uvicorn_config(app, options), tally, slot)
        server.run(sockets=[sock])
    except SystemExit as exc:  # uvicorn exits 3 when the lifespan start-up fails
        return exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        LOG.exception("worker %d crashed", os.getpid())
        return 1
    finally:
        logging.shutdown()
    return 0 if server.started else 1
