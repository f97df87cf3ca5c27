"""``kgcds normalize drug`` through click's runner, on the small real drug store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from graph_store.embedded import EmbeddedGraphStore
from kgcds.cli import main
from ontology.schema import GraphSchema
from tests.drug_normalizer_store import drug_store


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, schema: GraphSchema) -> Path:
    store: EmbeddedGraphStore = drug_store(tmp_path_factory.getbasetemp() / "drug_normalizer", shared_data, schema)
    return store.root


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One KGCDS_HOME for the module, so the lexicon compiled by the first call is reused from its cache."""
    return tmp_path_factory.mktemp("kgcds-home")


def _run(args: list[str], home: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["normalize", "drug", *args], env={"KGCDS_HOME": str(home)})
    return result.exit_code, result.output


def test_json_for_a_product_code_and_its_text(store_dir: Path, home: Path) -> None:
    code, out = _run(
        ["Warfarin Sodium 5 MG Oral Tablet", "--code", "855332", "--store", str(store_dir), "--json"], home
    )
    assert code == 0, out
    payload = json.loads(out)
    assert payload["input"] == {"text": "Warfarin Sodium 5 MG Oral Tablet", "code": "RXNORM:855332"}
    assert payload["ingredients"] == [{"id": "RXNORM:11289", "name": "warfarin"}]
    assert payload["match_type"] == "product_code"
    assert payload["confidence"] == 1.0
    assert set(payload) == {"input", "ingredients", "match_type", "confidence", "reason"}
    # the compiled lexicon was cached beside the store's home for the next call
    assert list((home / "index-cache").glob("drug_lexicon-*.pickle"))


def test_unknown_amoxicillin_code_resolves_from_text(store_dir: Path, home: Path) -> None:
    args = ["Amoxicillin 500 MG Oral Capsule", "--code", "308191", "--store", str(store_dir), "--json"]
    code, out = _run(args, home)
    assert code == 0, out
    payload = json.loads(out)
    assert [i["name"] for i in payload["ingredients"]] == ["amoxicillin"]
    assert payload["match_type"] == "parsed_name"


def test_unmapped_is_an_answer_not_an_error(store_dir: Path, home: Path) -> None:
    code, out = _run(["flibbertigibbet", "--store", str(store_dir), "--json"], home)
    assert code == 0, out
    payload = json.loads(out)
    assert payload["match_type"] == "unmapped" and payload["ingredients"] == [] and payload["reason"]


def test_human_output_names_ingredient_and_match(store_dir: Path, home: Path) -> None:
    code, out = _run(["COUMADIN", "--store", str(store_dir)], home)
    assert code == 0, out
    assert "warfarin" in out and "RXNORM:11289" in out and "brand" in out


def test_empty_store_is_an_error_that_says_to_load(tmp_path: Path) -> None:
    code, out = _run(["warfarin", "--store", str(tmp_path / "nothing-here")], tmp_path)
    assert code == 2
    assert "kgcds load" in out


def test_no_input_is_a_usage_error(store_dir: Path, home: Path) -> None:
    code, out = _run(["--store", str(store_dir)], home)
    assert code == 2
    assert "TEXT" in out
