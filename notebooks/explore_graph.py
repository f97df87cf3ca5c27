# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exploring the kgcds graph in Neo4j with Cypher
#
# After `kgcds load --store bolt://host:7687`, the graph is an ordinary property graph:
# labels and relationship types come from the ontology (`ontology/kgcds_schema.ttl`),
# every node has an `id` (a CURIE such as `RXNORM:11289`) and its schema properties.
#
# One thing to know: every node also carries `_gen`, the load that wrote it, and the single
# `:KgcdsMeta` node names the current load. Between loads there is only one generation; while a
# load runs (or after one failed) there may be two, so the queries below start from the current one.
#
# Run it as a notebook (jupytext opens this file) or as a script:
# `KGCDS_STORE=bolt://127.0.0.1:7687 KGCDS_NEO4J_PASSWORD=... python notebooks/explore_graph.py`.

# %%
import os

import neo4j

from graph_store.cypher import GEN, META_ID, META_LABEL
from ontology.vocab import Label, RelType

uri = os.environ.get("KGCDS_STORE", "bolt://127.0.0.1:7687")
auth = (os.environ.get("KGCDS_NEO4J_USER", "neo4j"), os.environ.get("KGCDS_NEO4J_PASSWORD", ""))
database = os.environ.get("KGCDS_NEO4J_DATABASE") or None
drug_id = os.environ.get("KGCDS_EXAMPLE_DRUG", "RXNORM:4450")  # fluconazole
disease_id = os.environ.get("KGCDS_EXAMPLE_DISEASE", "OMIM:607208")  # Dravet syndrome

driver = neo4j.GraphDatabase.driver(uri, auth=auth)


def show(title: str, query: str, **params: str) -> list[dict[str, object]]:
    """Run a parameterised query and print its rows."""
    with driver.session(database=database) as session:
        rows = session.run(query, params).data()  # type: ignore[arg-type]
    print(f"\n## {title} ({len(rows)} rows)")
    for row in rows:
        print("  ", row)
    return rows


# Every query starts from the current generation.
CURRENT = f"MATCH (meta:{META_LABEL} {{id: '{META_ID}'}}) WITH meta.current AS gen "

# %% [markdown]
# ## A drug's interactions, one row per source that asserts one

# %%
interactions = show(
    "interactions",
    CURRENT + f"MATCH (d:{Label.DRUG} {{id: $drug, {GEN}: gen}})-[i:{RelType.INTERACTS_WITH}]-(other) "
    "RETURN other.id AS other_id, other.name AS other, i.severity AS severity, i.source AS source, "
    "i.description AS description ORDER BY severity, other",
    drug=drug_id,
)

# %% [markdown]
# ## The drug's classes, with their parent classes

# %%
classes = show(
    "classes",
    CURRENT + f"MATCH (d:{Label.DRUG} {{id: $drug, {GEN}: gen}})-[:{RelType.MEMBER_OF_CLASS}]->(c:{Label.DRUG_CLASS}) "
    f"OPTIONAL MATCH (c)-[:{RelType.IS_A}*1..3]->(parent:{Label.DRUG_CLASS}) "
    "RETURN c.id AS class_id, c.name AS class, c.class_type AS class_type, collect(parent.name) AS parents "
    "ORDER BY class_type, class",
    drug=drug_id,
)

# %% [markdown]
# ## A disease's phenotypes (with annotated frequency) and genes

# %%
phenotypes = show(
    "phenotypes",
    CURRENT
    + f"MATCH (dz:{Label.DISEASE} {{id: $disease, {GEN}: gen}})-[h:{RelType.HAS_PHENOTYPE}]->(p:{Label.PHENOTYPE}) "
    "RETURN p.id AS hpo_id, p.name AS phenotype, h.frequency AS frequency ORDER BY frequency DESC, phenotype",
    disease=disease_id,
)
genes = show(
    "genes",
    CURRENT
    + f"MATCH (dz:{Label.DISEASE} {{id: $disease, {GEN}: gen}})-[:{RelType.ASSOCIATED_WITH_GENE}]->(g:{Label.GENE}) "
    "RETURN g.id AS gene_id, g.symbol AS symbol ORDER BY symbol",
    disease=disease_id,
)

# %%
driver.close()
