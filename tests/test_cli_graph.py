"""``kgcds load`` and ``kgcds stats`` end to end on a slice of the real sources."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kgcds.cli import main
from kgcds.settings import PROJECT_ROOT

HEAD_ROWS = 400


def _slice_sources(shared: Path, dest: Path) -> None:
    """Every source file, large tables cut to their first rows (headers kept)."""
    for src in shared.rglob("*"):
        if src.is_dir():
            continue
        target = dest / src.relative_to(shared)
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix in {".csv", ".tsv"}:
            with src.open(encoding="utf-8-sig", errors="replace") as fin:
                lines = [line for _, line in zip(range(HEAD_ROWS), fin, strict=False)]
            target.write_text("".join(lines), encoding="utf-8")
        elif src.name.endswith(".gz"):
            with gzip.open(src, "rt", encoding="utf-8") as fin, gzip.open(target, "wt", encoding="utf-8") as fout:
                for _, line in zip(range(20), fin, strict=False):
                    fout.write(line)
        else:
            shutil.copyfile(src, target)


@pytest.fixture(scope="module")
def loaded_home(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cli")
    data = root / "data"
    _slice_sources(shared_data, data)
    home = root / "home"
    cases = PROJECT_ROOT / "data_samples" / "phenopackets_sample.jsonl"
    result = CliRunner().invoke(
        main,
        ["load", "--quiet", "--data-dir", str(data), "--report", str(root / "report.json"), "--cases", str(cases)],
        env={"KGCDS_HOME": str(home), "KGCDS_HPO_DIR": ""},
    )
    assert result.exit_code == 0, result.output
    return home, root / "report.json"


def test_load_then_stats_json(loaded_home: tuple[Path, Path]) -> None:
    home, report_path = loaded_home
    result = CliRunner().invoke(main, ["stats", "--json"], env={"KGCDS_HOME": str(home)})
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert set(stats) == {"nodes", "relationships"}
    assert stats["nodes"]["Phenotype"] >= 15_000, "HPO comes whole from the hpo3 package"
    assert stats["nodes"]["Drug"] > 0 and stats["relationships"]["INTERACTS_WITH"] > 0
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert "onc_high_priority" in report["sources"] and report["rejected_count"] == 0
    # The sample cases come in de-identified, with their findings linked to HPO terms.
    assert stats["nodes"]["Case"] == 12
    assert stats["relationships"]["HAS_FINDING"] > 12 and stats["relationships"]["DIAGNOSED_WITH"] >= 10


def test_load_into_a_missing_data_dir_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["load", "--data-dir", str(tmp_path / "nope")], env={"KGCDS_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert "is not a directory" in result.output


def test_load_with_a_source_file_missing_exits_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    result = CliRunner().invoke(main, ["load", "--data-dir", str(tmp_path / "data")], env={"KGCDS_HOME": str(tmp_path)})
    assert result.exit_code == 2
    assert "drugbank_vocabulary.csv" in result.output
    assert "Traceback" not in result.output


def test_stats_on_an_empty_store_is_empty(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["stats", "--json"], env={"KGCDS_HOME": str(tmp_path)})
    assert result.exit_code == 0
    assert json.loads(result.output) == {"nodes": {}, "relationships": {}}
