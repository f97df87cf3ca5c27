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


def test_serve_refuses_zero_workers(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--store", str(tmp_path / "graph")], env={"KGCDS_AUTH": "disabled", "KGCDS_WORKERS": "0"}
    )
    assert result.exit_code == 2
    assert "workers" in result.output.lower()


def test_serve_reports_a_port_already_in_use(tmp_path: Path) -> None:
    import socket

    from ontology.schema import load_schema
    from tests.rules_fixture_graph import build_rules_store

    build_rules_store(tmp_path / "graph", load_schema()).close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            main,
            ["serve", "--store", str(tmp_path / "graph"), "--port", str(port), "--workers", "2"],
            env={"KGCDS_AUTH": "disabled", "KGCDS_HOME": str(tmp_path)},
        )
    assert result.exit_code == 2, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
