"""The store contract suite and Neo4j-store specifics over Bolt.

Runs against a Neo4j-compatible server (ArcadeDB, started by the ``bolt_target`` session
fixture), or against a real Neo4j when ``KGCDS_TEST_NEO4J_URI`` is set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import neo4j
import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from graph_loader.pipeline import load_graph
from graph_loader.rows import EdgeRow, NodeRow
from graph_store import cypher
from graph_store.contract import StoreError
from graph_store.embedded import EmbeddedGraphStore
from graph_store.neo4j_errors import store_errors
from graph_store.neo4j_store import Neo4jGraphStore
from kgcds.cli import main
from kgcds.settings import Settings
from ontology.schema import GraphSchema
from ontology.vocab import Label, RelType
from tests.bolt_server import BoltTarget, free_port
from tests.store_contract import META, StoreContract
from tests.tiny_graph import tiny_edges, tiny_nodes

pytestmark = pytest.mark.bolt
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _driver(target: BoltTarget) -> neo4j.Driver:
    return neo4j.GraphDatabase.driver(target.uri, auth=(target.user, target.password))


def _query(target: BoltTarget, text: str, **params: Any) -> list[dict[str, Any]]:
    with _driver(target) as driver, driver.session(database=target.database) as session:
        return session.run(text, params).data()  # type: ignore[arg-type]


def _wipe(target: BoltTarget) -> None:
    with _driver(target) as driver, driver.session(database=target.database) as session:
        while session.run("MATCH (n) WITH n LIMIT 10000 DETACH DELETE n RETURN count(*) AS n").single()["n"]:  # type: ignore[index]
            pass


def _connect(target: BoltTarget, schema: GraphSchema, batch_size: int = 10_000) -> Neo4jGraphStore:
    return Neo4jGraphStore.connect(
        target.uri,
        schema,
        user=target.user,
        password=target.password,
        database=target.database,
        batch_size=batch_size,
    )


@pytest.fixture
def empty_bolt(bolt_target: BoltTarget) -> BoltTarget:
    _wipe(bolt_target)
    return bolt_target


@pytest.fixture
def store(empty_bolt: BoltTarget, schema: GraphSchema) -> Iterator[Neo4jGraphStore]:
    s = _connect(empty_bolt, schema)
    yield s
    s.close()


class TestBoltStore(StoreContract):
    """Every contract test, over Bolt."""


# ---- atomic replace ------------------------------------------------------------------


def _stored_generations(target: BoltTarget) -> set[str]:
    rows = _query(target, f"MATCH (n) WHERE n.{cypher.GEN} IS NOT NULL RETURN DISTINCT n.{cypher.GEN} AS g")
    return {str(r["g"]) for r in rows}


def test_crash_while_writing_keeps_previous_graph(store: Neo4jGraphStore, empty_bolt: BoltTarget) -> None:
    store.replace_graph(tiny_nodes(), tiny_edges(), {"v": "1"})
    before = (store.node_counts(), store.relationship_counts())

    def exploding_nodes() -> Iterator[NodeRow]:
        yield from tiny_nodes()[:3]
        raise OSError("disk full")

    with pytest.raises(OSError):
        store.replace_graph(exploding_nodes(), [], {"v": "2"})
    assert store.metadata() == {"v": "1"}
    assert (store.node_counts(), store.relationship_counts()) == before
    assert len(_stored_generations(empty_bolt)) == 1


def test_failure_midway_through_the_writes_keeps_previous_graph(
    store: Neo4jGraphStore, empty_bolt: BoltTarget, schema: GraphSchema
) -> None:
    """A server-side failure after some batches were committed: the pointer never moved."""
    store.replace_graph(tiny_nodes(), tiny_edges(), {"v": "1"})
    small = _connect(empty_bolt, schema, batch_size=2)
    # A list property of maps is refused by the server, after the earlier label batches committed.
    poisoned = [*tiny_nodes(), NodeRow(Label.LAB_TEST, "LOINC:1-8", {"name": "x", "synonyms": [{"a": 1}]})]
    with pytest.raises(StoreError, match="Neo4j server"):
        small.replace_graph(poisoned, tiny_edges(), {"v": "2"})
    small.close()
    assert store.metadata() == {"v": "1"}
    assert store.node_counts()["Phenotype"] == 4
    assert store.get_node("LOINC:1-8") is None
    assert len(_stored_generations(empty_bolt)) == 1


def test_rerun_after_a_killed_load_cleans_up_and_completes(store: Neo4jGraphStore, empty_bolt: BoltTarget) -> None:
    store.replace_graph(tiny_nodes(), tiny_edges(), {"v": "1"})
    # What a load killed mid-way leaves: a registered generation with some of its nodes written.
    stale = "killed-load"
    _query(empty_bolt, cypher.REGISTER_PENDING, meta_id=cypher.META_ID, gen=stale)
    _query(
        empty_bolt,
        cypher.merge_nodes(Label.DRUG),
        rows=[{"id": "RXNORM:11289", "props": {"name": "half-written warfarin"}}],
        gen=stale,
    )
    assert store.node_counts()["Drug"] == 2, "readers never see an unfinished generation"
    warfarin = store.get_node("RXNORM:11289")
    assert warfarin is not None and warfarin.props["name"] == "warfarin"

    store.replace_graph(tiny_nodes(), tiny_edges(), {"v": "2"})
    assert store.metadata() == {"v": "2"}
    assert len(_stored_generations(empty_bolt)) == 1
    assert store.node_counts()["Drug"] == 2


def test_small_batches_write_the_same_graph(empty_bolt: BoltTarget, schema: GraphSchema) -> None:
    store = _connect(empty_bolt, schema, batch_size=3)
    try:
        store.replace_graph(tiny_nodes(), tiny_edges(), META)
        assert sum(store.node_counts().values()) == len(tiny_nodes())
        assert sum(store.relationship_counts().values()) == len(tiny_edges())
    finally:
        store.close()


# ---- what Cypher users see -----------------------------------------------------------


def test_schema_becomes_constraints_and_lists_stay_lists(
    store: Neo4jGraphStore, empty_bolt: BoltTarget, schema: GraphSchema
) -> None:
    store.replace_graph(tiny_nodes(), tiny_edges(), META)
    constraints = _query(empty_bolt, "SHOW CONSTRAINTS")
    constrained = {tuple(c["labelsOrTypes"]): list(c["properties"]) for c in constraints}
    for label in schema.nodes:
        assert constrained[(label.value,)] == ["id", cypher.GEN]
    rows = _query(empty_bolt, f"MATCH (n:{Label.PHENOTYPE.value} {{id: $id}}) RETURN n.synonyms AS s", id="HP:0001250")
    assert rows == [{"s": ["Epileptic seizure", "Seizures"]}]
    ddi = _query(
        empty_bolt,
        f"MATCH (:{Label.DRUG.value} {{id: $a}})-[e:{RelType.INTERACTS_WITH.value}]->(:{Label.DRUG.value} {{id: $b}}) "
        "RETURN e.severity AS severity ORDER BY severity",
        a="RXNORM:11289",
        b="RXNORM:4450",
    )
    assert ddi == [{"severity": "major"}, {"severity": "moderate"}]


def test_constraint_violation_is_a_store_error(store: Neo4jGraphStore, empty_bolt: BoltTarget) -> None:
    store.replace_graph(tiny_nodes(), tiny_edges(), META)
    gen = _stored_generations(empty_bolt).pop()
    duplicate = f"CREATE (:{Label.DRUG.value} {{id: $id, {cypher.GEN}: $gen}})"
    with (
        _driver(empty_bolt) as driver,
        driver.session(database=empty_bolt.database) as session,
        pytest.raises(StoreError, match="constraint violation") as err,
        store_errors(f"Neo4j server {empty_bolt.uri}", empty_bolt.user, empty_bolt.database),
    ):
        session.run(duplicate, {"id": "RXNORM:4450", "gen": gen}).consume()
    assert empty_bolt.uri in str(err.value)


def test_pipeline_loads_into_bolt_with_the_embedded_counts(
    store: Neo4jGraphStore, schema: GraphSchema, tmp_path: Path
) -> None:
    class TinyAdapter:
        name = "tiny"
        version = "1"

        def rows(self) -> Iterator[NodeRow | EdgeRow]:
            yield from tiny_nodes()
            yield from tiny_edges()

    embedded = EmbeddedGraphStore(tmp_path / "graph", schema)
    load_graph(embedded, [TinyAdapter()], schema)
    report = load_graph(store, [TinyAdapter()], schema)
    assert report.sources["tiny"].nodes == len(tiny_nodes())
    assert store.node_counts() == embedded.node_counts()
    assert store.relationship_counts() == embedded.relationship_counts()
    assert store.metadata()["source.tiny"] == "1"


# ---- configuration and failures through the CLI -------------------------------------


def _cli(target: BoltTarget, *args: str, password: str | None = None) -> tuple[int, str]:
    env = {
        "KGCDS_NEO4J_USER": target.user,
        "KGCDS_NEO4J_PASSWORD": target.password if password is None else password,
        "KGCDS_NEO4J_DATABASE": target.database or "",
    }
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_cli_stats_json_matches_the_embedded_store(store: Neo4jGraphStore, empty_bolt: BoltTarget) -> None:
    store.replace_graph(tiny_nodes(), tiny_edges(), META)
    code, out = _cli(empty_bolt, "stats", "--store", empty_bolt.uri, "--json")
    assert code == 0, out
    assert json.loads(out) == {"nodes": store.node_counts(), "relationships": store.relationship_counts()}
    assert json.loads(out)["relationships"]["INTERACTS_WITH"] == 2


def test_cli_wrong_password_is_a_clean_error(bolt_target: BoltTarget) -> None:
    code, out = _cli(bolt_target, "stats", "--store", bolt_target.uri, password="not-the-password-xyz")
    assert code == 2
    assert "authentication failed" in out and bolt_target.uri in out
    assert "not-the-password-xyz" not in out and "Traceback" not in out
    assert len(out.strip().splitlines()) == 1, out


def test_cli_unreachable_server_is_a_clean_error(bolt_target: BoltTarget) -> None:
    uri = f"bolt://127.0.0.1:{free_port()}"
    code, out = _cli(bolt_target, "stats", "--store", uri)
    assert code == 2
    assert "unreachable" in out and uri in out and "Traceback" not in out
    assert len(out.strip().splitlines()) == 1, out


def test_missing_database_is_a_clean_error(bolt_target: BoltTarget, schema: GraphSchema) -> None:
    with pytest.raises(StoreError, match="'no_such_db' does not exist"):
        Neo4jGraphStore.connect(
            bolt_target.uri, schema, user=bolt_target.user, password=bolt_target.password, database="no_such_db"
        )


def test_unsupported_scheme_is_refused(schema: GraphSchema) -> None:
    with pytest.raises(StoreError, match="unsupported URI scheme 'http'"):
        Neo4jGraphStore.connect("http://127.0.0.1:7474", schema)


# ---- the notebook --------------------------------------------------------------------


def test_explore_notebook_runs_against_the_server(store: Neo4jGraphStore, empty_bolt: BoltTarget) -> None:
    store.replace_graph(tiny_nodes(), tiny_edges(), META)
    env = {
        **os.environ,
        "KGCDS_STORE": empty_bolt.uri,
        "KGCDS_NEO4J_USER": empty_bolt.user,
        "KGCDS_NEO4J_PASSWORD": empty_bolt.password,
        "KGCDS_NEO4J_DATABASE": empty_bolt.database or "",
        "KGCDS_EXAMPLE_DRUG": "RXNORM:4450",
        "KGCDS_EXAMPLE_DISEASE": "OMIM:100001",
    }
    done = subprocess.run(
        [sys.executable, "notebooks/explore_graph.py"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "warfarin" in done.stdout and "major" in done.stdout  # fluconazole's interactions
    assert "triazole derivatives" in done.stdout  # its class
    assert "Seizure" in done.stdout and "SCN1A" in done.stdout  # the disease's phenotype and gene


def test_from_settings_reads_the_kgcds_settings(bolt_target: BoltTarget, schema: GraphSchema) -> None:
    settings = Settings(
        store=bolt_target.uri,
        neo4j_user=bolt_target.user,
        neo4j_password=SecretStr(bolt_target.password),
        neo4j_database=bolt_target.database,
        neo4j_batch_size=500,
    )
    store = Neo4jGraphStore.from_settings(settings, schema)
    try:
        assert bolt_target.uri in store.description
        assert bolt_target.password not in store.description
    finally:
        store.close()
