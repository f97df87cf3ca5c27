"""A throwaway Bolt server for tests and benchmarks: ArcadeDB (``arcadedb-embedded``) on loopback.

ArcadeDB speaks Bolt and reports itself Neo4j 5.26-compatible; it is a Neo4j-compatible
server, not Neo4j. It runs in a child process (its JVM stays out of the test process and
dies with it): ``python -m tests.bolt_server ROOT PASSWORD HTTP_PORT BOLT_PORT DB1,DB2``
prints ``READY`` once the database exists and stops when its stdin closes.

When ``KGCDS_TEST_NEO4J_URI`` is set (with ``KGCDS_TEST_NEO4J_USER``,
``KGCDS_TEST_NEO4J_PASSWORD`` and optionally ``KGCDS_TEST_NEO4J_DATABASE``), tests use
that server instead and nothing is started.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ENV_URI = "KGCDS_TEST_NEO4J_URI"
START_TIMEOUT_S = 180.0
HEAP = "1g"


@dataclass(frozen=True, slots=True)
class BoltTarget:
    uri: str
    user: str
    password: str
    database: str | None
    kind: str
    """"arcadedb" for the started server, "external" for ``KGCDS_TEST_NEO4J_URI``."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def external_target() -> BoltTarget | None:
    uri = os.environ.get(ENV_URI)
    if not uri:
        return None
    return BoltTarget(
        uri=uri,
        user=os.environ.get("KGCDS_TEST_NEO4J_USER", "neo4j"),
        password=os.environ.get("KGCDS_TEST_NEO4J_PASSWORD", ""),
        database=os.environ.get("KGCDS_TEST_NEO4J_DATABASE") or None,
        kind="external",
    )


@contextmanager
def arcadedb_server(root: Path, databases: tuple[str, ...] = ("kg",), heap: str = HEAP) -> Iterator[BoltTarget]:
    """Start ArcadeDB with the Bolt plugin in a child process and create ``databases``; stop it on exit.

    The target names the first database; the others are there for callers that want a fresh one.
    """
    password = secrets.token_urlsafe(12)
    http_port, bolt_port = free_port(), free_port()
    root.mkdir(parents=True, exist_ok=True)
    log_path = root / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "tests.bolt_server",
        str(root),
        password,
        str(http_port),
        str(bolt_port),
        ",".join(databases),
    ]
    env = {**os.environ, "KGCDS_BOLT_HEAP": heap}
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
        )
        try:
            _wait_ready(proc, log_path)
            yield BoltTarget(f"bolt://127.0.0.1:{bolt_port}", "root", password, databases[0], kind="arcadedb")
        finally:
            _stop(proc)


def _wait_ready(proc: subprocess.Popen[str], log_path: Path) -> None:
    assert proc.stdout is not None
    ready = threading.Event()
    stdout = proc.stdout

    def watch() -> None:
        # Keep draining after READY: the JVM logs to stdout, and a full pipe would stall the server.
        with log_path.with_suffix(".out").open("w", encoding="utf-8") as out:
            for line in stdout:
                if line.startswith("READY"):
                    ready.set()
                out.write(line)

    threading.Thread(target=watch, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready.wait(0.2):
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"ArcadeDB Bolt server did not start (exit {proc.returncode}); log tail:\n{tail}")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is not None:
        return
    try:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _serve(root: str, password: str, http_port: int, bolt_port: int, databases: str) -> None:
    from arcadedb_embedded.server import ArcadeDBServer

    server = ArcadeDBServer(
        root_path=str(Path(root) / "databases"),
        root_password=password,
        config={
            "http_port": http_port,
            "host": "127.0.0.1",
            "server_plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "bolt_port": bolt_port,
        },
        jvm_kwargs={"heap_size": os.environ.get("KGCDS_BOLT_HEAP", HEAP)},
    )
    server.start()
    try:
        for name in databases.split(","):
            server.create_database(name)
        print("READY", flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    finally:
        server.stop()


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
