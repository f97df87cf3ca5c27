"""The accept rule and the shared connection tally of cds_api/balanced_accept.py.

The spreading itself is tested on a real two-worker server in tests/test_api_workers.py.
"""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from cds_api import balanced_accept
from cds_api.balanced_accept import (
    ABSENT,
    MAX_DEFER_SECONDS,
    BalancedListener,
    ConnectionTally,
    TalliedSet,
    should_accept,
)
from cds_api.prefork import bind_socket


@pytest.mark.parametrize(
    ("mine", "fewest_elsewhere", "waited", "accept"),
    [
        (0, None, 0.0, True),  # alone: nobody else to leave it to
        (5, None, 0.0, True),
        (0, 0, 0.0, True),  # a tie: whoever looks first takes it
        (3, 3, 0.0, True),
        (2, 3, 0.0, True),
        (4, 3, 0.0, False),  # another worker holds fewer: step aside
        (4, 3, MAX_DEFER_SECONDS / 2, False),
        (4, 3, MAX_DEFER_SECONDS, True),  # the others did not come for it: take it
        (40, 0, MAX_DEFER_SECONDS * 10, True),
    ],
)
def test_a_worker_takes_a_connection_only_when_no_other_holds_fewer(
    mine: int, fewest_elsewhere: int | None, waited: float, accept: bool
) -> None:
    assert should_accept(mine, fewest_elsewhere, waited) is accept


def test_the_tally_ignores_the_asking_slot_and_absent_workers() -> None:
    tally = ConnectionTally.create(3)
    assert [tally.count(slot) for slot in range(3)] == [ABSENT] * 3
    assert tally.fewest_elsewhere(0) is None
    tally.publish(0, 7)
    assert tally.fewest_elsewhere(0) is None
    assert tally.fewest_elsewhere(1) == 7
    tally.publish(2, 9)
    assert tally.fewest_elsewhere(1) == 7
    assert tally.fewest_elsewhere(0) == 9
    tally.publish(0, ABSENT)  # a dead worker's last count no longer steers the others
    assert tally.fewest_elsewhere(1) == 9


def test_the_tally_refuses_zero_slots() -> None:
    with pytest.raises(ValueError, match="slots"):
        ConnectionTally.create(0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="workers are forked")
def test_a_count_published_in_a_forked_worker_is_read_by_its_siblings() -> None:
    tally = ConnectionTally.create(2)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        tally.publish(1, 12)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert tally.count(1) == 12
    assert tally.fewest_elsewhere(0) == 12


def test_the_connection_set_reports_joins_and_leaves() -> None:
    events: list[str] = []
    connections: TalliedSet[str] = TalliedSet(lambda: events.append("joined"), lambda: events.append("left"))
    connections.add("a")
    connections.add("b")
    connections.discard("a")
    connections.remove("b")
    assert events == ["joined", "joined", "left", "left"]
    assert not connections


class _Recorder(asyncio.Protocol):
    def __init__(self, made: list[asyncio.BaseTransport]) -> None:
        self._made = made

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._made.append(transport)


def test_a_worker_that_stepped_aside_takes_the_connection_once_it_holds_the_fewest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Worker 0 holds one connection and worker 1 none: worker 0 leaves a new connection to it. Then
    worker 1 takes five and worker 0's own connection closes: worker 0 now holds the fewest and must
    take the waiting connection at once, not on its re-check timer (stretched here to a minute)."""
    monkeypatch.setattr(balanced_accept, "RECHECK_SECONDS", 60.0)
    monkeypatch.setattr(balanced_accept, "MAX_DEFER_SECONDS", 60.0)
    made: list[asyncio.BaseTransport] = []
    held = [1]

    async def scenario() -> None:
        sock = bind_socket("127.0.0.1", 0)
        tally = ConnectionTally.create(2)
        tally.publish(1, 0)
        listener = BalancedListener(sock, lambda: _Recorder(made), tally, 0, lambda: held[0])
        listener.start()
        client = socket.create_connection(sock.getsockname()[:2])
        try:
            await asyncio.sleep(0.2)
            assert made == [], "took a connection while another worker held fewer"
            assert tally.count(0) == 1

            tally.publish(1, 5)
            held[0] = 0
            listener.connection_left()
            for _ in range(100):
                if made:
                    break
                await asyncio.sleep(0.01)
            assert len(made) == 1, "the connection waited for the re-check timer"
            assert tally.count(0) == 1  # the accepted connection, counted until its protocol joins
        finally:
            client.close()
            for transport in made:
                transport.close()
            listener.close()
            await listener.wait_closed()
            sock.close()
        assert tally.count(0) == ABSENT

    asyncio.run(scenario())
