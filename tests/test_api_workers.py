"""`kgcds serve --workers 2` as a real process tree: one parent, two forked uvicorn workers on one port.

Which worker answers a connection is read from the kernel (/proc: the server-side socket of the
connection and the process holding it), so the replay test knows the two calls reached two workers.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ontology.schema import load_schema
from tests.api_support import Signer, hook_request, med_request
from tests.rules_fixture_graph import build_rules_store

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads connection owners from /proc")

ISSUER = "https://ehr.example"
SELECT = "/cds-services/medication-safety-order-select"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    home: Path
    started: float = 0.0
    """time.monotonic() when every worker answered."""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.ec(ISSUER)


def launch(home: Path, signer: Signer, workers: int, **env_overrides: str) -> Server:
    store = build_rules_store(home / "graph", load_schema())
    store.close()
    port = free_port()
    env = {
        **os.environ,
        "KGCDS_HOME": str(home),
        "KGCDS_AUTH": "enabled",
        "KGCDS_TRUSTED_ISSUERS": json.dumps([{"iss": ISSUER, "jwks": signer.jwks()}]),
        "KGCDS_WORKERS": str(workers),
        **env_overrides,
    }
    command = [sys.executable, "-c", "from kgcds.cli import main; main()", "serve", "--store", str(home / "graph")]
    log = (home / "serve.log").open("wb")
    process = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    return Server(process, port, home)


def start_server(home: Path, signer: Signer, workers: int) -> Server:
    server = launch(home, signer, workers)
    process = server.process
    deadline = time.monotonic() + 120
    forked = workers if workers > 1 else 0  # one worker serves in the parent process itself
    while len(worker_pids(server)) < forked or not _answers(server):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"server did not start: {(home / 'serve.log').read_text()[-2000:]}")
        time.sleep(0.2)
    server.started = time.monotonic()
    return server


def _answers(server: Server) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
        connection.request("GET", "/health")
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


def stop(server: Server) -> int:
    server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        server.process.kill()
        raise


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory, signer: Signer) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("workers"), signer, workers=2)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            stop(server)


def worker_pids(server: Server) -> set[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    try:
        return {int(pid) for pid in children.read_text().split()}
    except OSError:
        return set()


def _client_port(connection: http.client.HTTPConnection) -> int:
    assert connection.sock is not None
    port: int = connection.sock.getsockname()[1]
    return port


def _server_ends(server_port: int) -> Iterator[tuple[int, str, str]]:
    """(client port, TCP state, socket inode) of each server end on ``server_port``, from the kernel."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port:
            yield int(remote.split(":")[1], 16), fields[3], fields[9]


def serving_pid(connection: http.client.HTTPConnection, server_port: int) -> int:
    """The process holding the server end of ``connection`` (after it has been accepted)."""
    client_port = _client_port(connection)
    inode = None
    for port, _, socket_inode in _server_ends(server_port):
        if port == client_port:
            inode = socket_inode
    assert inode is not None, "no server socket for this connection"
    target = f"socket:[{inode}]"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) == target for fd in (entry / "fd").iterdir()):
                return int(entry.name)
        except OSError:  # a process that ended meanwhile, or not ours
            continue
    raise AssertionError("no process holds the server socket")


def connections_to_two_workers(server: Server) -> tuple[http.client.HTTPConnection, http.client.HTTPConnection]:
    """Keep-alive connections until two of them are held by different workers."""
    by_worker: dict[int, http.client.HTTPConnection] = {}
    opened = []
    for _ in range(64):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/health")  # makes sure the connection was accepted by a worker
        connection.getresponse().read()
        opened.append(connection)
        by_worker.setdefault(serving_pid(connection, server.port), connection)
        if len(by_worker) == 2:
            break
    for connection in opened:
        if connection not in by_worker.values():
            connection.close()
    assert len(by_worker) == 2, f"64 connections all reached one worker: {list(by_worker)}"
    assert set(by_worker) <= worker_pids(server)
    first, second = by_worker.values()
    return first, second


def post(connection: http.client.HTTPConnection, path: str, body: dict[str, Any], token: str) -> tuple[int, str]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    connection.request("POST", path, body=json.dumps(body), headers=headers)
    response = connection.getresponse()
    return response.status, response.read().decode()


def test_two_workers_share_one_port_and_both_screen(two_workers: Server, signer: Signer) -> None:
    first, second = connections_to_two_workers(two_workers)
    body = hook_request(drafts=[med_request("d1", "197699", "draft")], meds=[med_request("m1", "855332")])
    url = two_workers.base + SELECT
    for connection in (first, second):
        status, text = post(connection, SELECT, body, signer.token(url))
        assert status == 200, text
        summaries = [card["summary"].lower() for card in json.loads(text)["cards"]]
        assert any("warfarin" in s and "fluconazole" in s for s in summaries), summaries
        connection.close()


def test_a_token_replayed_to_another_worker_is_refused(two_workers: Server, signer: Signer) -> None:
    first, second = connections_to_two_workers(two_workers)
    body = hook_request(drafts=[med_request("d1", "197699", "draft")], meds=[med_request("m1", "855332")])
    token = signer.token(two_workers.base + SELECT)
    status, text = post(first, SELECT, body, token)
    assert status == 200, text
    status, text = post(second, SELECT, body, token)
    assert status == 401
    assert "replayed" in text
    first.close()
    second.close()


def test_feedback_reaching_another_worker_than_the_card_is_recorded(two_workers: Server, signer: Signer) -> None:
    """Each worker buffers the cards it issues; feedback arriving at once at the other worker must still count."""
    first, second = connections_to_two_workers(two_workers)
    url = two_workers.base + SELECT
    body = hook_request(drafts=[med_request("d1", "197699", "draft")], meds=[med_request("m1", "855332")])
    status, text = post(first, SELECT, body, signer.token(url))
    assert status == 200, text
    card = json.loads(text)["cards"][0]["uuid"]
    item = {"card": card, "outcome": "accepted", "outcomeTimestamp": "2026-11-22T09:00:00Z"}
    status, text = post(second, SELECT + "/feedback", {"feedback": [item]}, signer.token(url))
    assert status == 200, text
    unknown = {**item, "card": "no-such-card"}
    status, text = post(second, SELECT + "/feedback", {"feedback": [unknown]}, signer.token(url))
    assert status == 422, text
    first.close()
    second.close()


def test_health_in_a_worker_reports_the_parents_store_probe(two_workers: Server) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", two_workers.port, timeout=10)
    connection.request("GET", "/health")
    report = json.loads(connection.getresponse().read())
    connection.close()
    assert report["status"] == "pass"
    assert report["store"]["reachable"] is True


def test_a_worker_that_dies_while_serving_is_replaced(two_workers: Server) -> None:
    from cds_api.prefork import MIN_UPTIME_SECONDS

    # Before MIN_UPTIME_SECONDS a death counts as a start-up failure (tested below); wait past it.
    time.sleep(max(0.0, two_workers.started + MIN_UPTIME_SECONDS + 0.5 - time.monotonic()))
    before = worker_pids(two_workers)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        now = worker_pids(two_workers)
        if len(now) == 2 and victim not in now:
            break
        assert time.monotonic() < deadline, f"no replacement for worker {victim}: {now}"
        time.sleep(0.2)
    assert now & before == before - {victim}
    assert _answers(two_workers)
    assert f"worker {victim} was killed by SIGKILL" in (two_workers.home / "serve.log").read_text()


def test_a_worker_failing_at_start_up_stops_the_server_with_an_error(tmp_path: Path, signer: Signer) -> None:
    # The feedback database cannot be created (its directory is a file): each worker's lifespan fails.
    (tmp_path / "not-a-directory").write_text("")
    server = launch(tmp_path, signer, 2, KGCDS_FEEDBACK_DB=str(tmp_path / "not-a-directory" / "feedback.sqlite3"))
    try:
        code = server.process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        server.process.kill()
        raise
    assert code != 0
    assert "stopping the server" in (tmp_path / "serve.log").read_text()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_stops_the_parent_and_its_workers_cleanly(tmp_path: Path, signer: Signer, workers: int) -> None:
    server = start_server(tmp_path, signer, workers=workers)
    forked = worker_pids(server)
    assert len(forked) == (workers if workers > 1 else 0)
    assert stop(server) == 0
    for pid in forked:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    log = (tmp_path / "serve.log").read_text()
    assert workers == 1 or "stopping 2 workers" in log
    assert "Application shutdown complete" in log
    assert "Traceback" not in log


def test_connections_accepted_on_the_shared_socket_disable_nagle() -> None:
    """Without TCP_NODELAY each response waited ~40 ms on the client's delayed ACK (22 requests/s)."""
    import asyncio

    from cds_api.prefork import bind_socket

    listener = bind_socket("127.0.0.1", 0)
    port = listener.getsockname()[1]
    nodelay: list[int] = []

    async def scenario() -> None:
        def accepted(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nodelay.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(100):
                if nodelay:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(scenario())
    assert nodelay and nodelay[0] != 0


def _open_and_attribute(server: Server, count: int) -> dict[int, list[http.client.HTTPConnection]]:
    """``count`` keep-alive connections opened back to back, as a client's pool does, by serving worker."""
    opened = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=10) for _ in range(count)]
    for connection in opened:
        connection.connect()
    by_worker: dict[int, list[http.client.HTTPConnection]] = {}
    for connection in opened:
        connection.request("GET", "/health")
        connection.getresponse().read()
        by_worker.setdefault(serving_pid(connection, server.port), []).append(connection)
    return by_worker


def _server_sides_open(server_port: int, client_ports: set[int]) -> bool:
    """Whether the server still holds (established, or closed by the client only) any of these connections."""
    established, close_wait = "01", "08"
    return any(
        port in client_ports and state in (established, close_wait) for port, state, _ in _server_ends(server_port)
    )


def _await_server_sides_closed(server_port: int, client_ports: set[int]) -> None:
    """Until the workers have read the clients' FINs and closed their ends."""
    deadline = time.monotonic() + 10
    while _server_sides_open(server_port, client_ports):
        assert time.monotonic() < deadline, "a worker did not close its side of the connections"
        time.sleep(0.05)


def test_a_pool_of_keep_alive_connections_is_spread_evenly_over_the_workers(tmp_path: Path, signer: Signer) -> None:
    """Left to the event loop, the first worker to wake took every queued connection: all of a client's
    calls then queued on one worker while the other idled (cds_api/balanced_accept.py)."""
    server = start_server(tmp_path, signer, workers=2)
    try:
        # Until its start-up is done a worker takes no connections and is not counted: wait for both.
        probes = connections_to_two_workers(server)
        probe_ports = {_client_port(connection) for connection in probes}
        for connection in probes:
            connection.close()
        _await_server_sides_closed(server.port, probe_ports)

        by_worker = _open_and_attribute(server, 16)
        sizes = sorted(len(held) for held in by_worker.values())
        assert set(by_worker) <= worker_pids(server)
        # Even, give or take a worker the VM stalled past the 20 ms fallback (uvicorn's accept: 14/2, 16/0).
        assert len(sizes) == 2 and sizes[1] - sizes[0] <= 4, sizes

        # Closed connections leave the tally: the worker that lost all of its own takes the next ones.
        emptied = next(iter(by_worker))
        client_ports = {_client_port(connection) for connection in by_worker[emptied]}
        for connection in by_worker[emptied]:
            connection.close()
        _await_server_sides_closed(server.port, client_ports)
        fresh = _open_and_attribute(server, 4)
        assert len(fresh.get(emptied, [])) >= 3, {pid: len(held) for pid, held in fresh.items()}
        for held in (*by_worker.values(), *fresh.values()):
            for connection in held:
                connection.close()
    finally:
        stop(server)
