"""`kgcds serve` refuses to start on bad configuration with a one-line error (exit code 2)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kgcds.cli import main


def test_serve_refuses_to_start_without_trusted_issuers(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["serve", "--store", str(tmp_path / "graph")],
        env={"KGCDS_AUTH": "enabled", "KGCDS_TRUSTED_ISSUERS": "[]"},
    )
    assert result.exit_code == 2
    assert "no trusted issuers" in result.output


def test_serve_refuses_an_empty_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["serve", "--store", str(tmp_path / "graph"), "--port", "18999"],
        env={"KGCDS_AUTH": "disabled", "KGCDS_HOME": str(tmp_path)},
    )
    assert result.exit_code == 2, result.output
    assert "empty" in result.output


def test_serve_reports_malformed_issuer_configuration(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--store", str(tmp_path / "graph")], env={"KGCDS_TRUSTED_ISSUERS": '[{"issuer": "x"}]'}
    )
    assert result.exit_code == 2
    assert "invalid API settings" in result.output
