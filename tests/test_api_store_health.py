"""When the graph store goes away, serving continues from the compiled index and /health says so."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import neo4j
from litestar.testing import TestClient

from cds_api.store_health import StoreHealth
from graph_store.embedded import EmbeddedGraphStore
from graph_store.neo4j_store import Neo4jGraphStore
from ontology.schema import GraphSchema
from tests.api_support import hook_request, make_app, med_request
from tests.bolt_server import free_port
from tests.tiny_graph import tiny_edges, tiny_nodes

SELECT = "/cds-services/medication-safety-order-select"


def test_health_reports_a_vanished_store_while_hooks_keep_answering(tmp_path: Path, schema: GraphSchema) -> None:
    store = EmbeddedGraphStore(tmp_path / "graph", schema)
    store.replace_graph(tiny_nodes(), tiny_edges(), {"source.tiny": "1"})
    health = StoreHealth.for_store(store, store.metadata())
    app = make_app(tmp_path, store_health=health)
    with TestClient(app=app) as client:
        asyncio.run(health.probe_once())
        ok = client.get("/health").json()
        assert ok["status"] == "pass"
        assert ok["store"]["reachable"] is True
        assert ok["index"]["built_from"] == {"source.tiny": "1"}

        (tmp_path / "graph" / "CURRENT").unlink()  # the store is gone
        asyncio.run(health.probe_once())
        gone = client.get("/health")
        assert gone.status_code == 200
        body: dict[str, Any] = gone.json()
        assert body["status"] == "warn" and body["store"]["reachable"] is False
        assert "holds no graph" in body["store"]["error"]
        assert body["serving"] == "compiled knowledge index"

        call = client.post(SELECT, json=hook_request(drafts=[med_request("d1", "855332", status="draft")]))
        assert call.status_code == 200, call.text


def test_an_unreachable_bolt_server_is_reported_by_name(schema: GraphSchema) -> None:
    port = free_port()  # nothing listens here
    uri = f"bolt://127.0.0.1:{port}"
    driver = neo4j.GraphDatabase.driver(uri, auth=("neo4j", "secret-pw"), max_transaction_retry_time=1.0)
    store = Neo4jGraphStore(driver, uri, schema)
    health = StoreHealth.for_store(store, {})
    asyncio.run(health.probe_once())
    report = health.report()
    assert report["status"] == "warn"
    assert f"127.0.0.1:{port}" in report["store"]["error"]
    assert "secret-pw" not in str(report)
    store.close()


def test_a_probe_that_began_before_the_store_vanished_cannot_hide_it() -> None:
    release_first = threading.Event()
    calls: list[int] = []

    def probe() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            release_first.wait(5)  # slow: started while the store still answered
            return
        raise RuntimeError("store gone")

    health = StoreHealth("tiny store", {}, "2026-11-22T00:00:00+00:00", probe)

    async def overlapping() -> None:
        slow = asyncio.create_task(health.probe_once())
        await asyncio.sleep(0.05)
        await health.probe_once()  # the newer probe: the store is gone
        release_first.set()
        await slow

    asyncio.run(overlapping())
    assert calls == [0, 1]
    assert health.report()["status"] == "warn"
    assert health.last_error == "store gone"
