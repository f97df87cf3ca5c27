"""``kgcds serve``: compile the knowledge index from the store, then serve the CDS Hooks API."""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
import time
from pathlib import Path

import click

from graph_store.contract import StoreError
from kgcds.cli.common import CliError, build_settings, open_store, store_option
from kgcds.native import NativeBuildError, is_compiled, require_current
from ontology.schema import load_schema

LOG = logging.getLogger("kgcds.serve")


@click.command("serve")
@store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option(
    "--rules-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    envvar="KGCDS_RULES_DIR",
    help="Rule library (default: the rules shipped in rules/library). Env: KGCDS_RULES_DIR.",
)
@click.option(
    "--overrides",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    envvar="KGCDS_RULES_OVERRIDES",
    help="Local overrides file: switch rules off or change their severity. Env: KGCDS_RULES_OVERRIDES.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    envvar="KGCDS_WORKERS",
    help="Worker processes sharing the port (the index is compiled once, then shared). Env: KGCDS_WORKERS.",
)
def serve_command(
    store: str | None, host: str, port: int, rules_dir: Path | None, overrides: Path | None, workers: int
) -> None:
    """Serve the CDS Hooks medication-safety services (discovery at /cds-services, OpenAPI at /schema).

    When the store holds HPO annotations, differential diagnosis is served too: the patient-view
    service differential-diagnosis-patient-view and POST /diagnosis.

    The knowledge index is compiled from the store once at start-up; calls never query the store.
    Security settings come from KGCDS_* variables: KGCDS_TRUSTED_ISSUERS (JSON list of
    {"iss", "jku_allow", "jwks"}), KGCDS_PUBLIC_BASE_URL, KGCDS_FEEDBACK_DB, and KGCDS_AUTH=disabled
    for development without tokens.

    With --workers N > 1 the parent compiles the index, then forks N uvicorn workers on one socket;
    it forwards SIGTERM/SIGINT, replaces a worker that dies while serving, and exits non-zero when
    one fails at start-up.
    """
    try:
        # Before anything imports the hot path: a stale build would run other code than the sources say.
        require_current()
    except NativeBuildError as exc:
        raise CliError(str(exc)) from exc
    if workers > 1:
        # GNU OpenMP (scikit-learn's ranker) hangs in a forked child once the parent has used its
        # thread pool; one OpenMP thread per worker is also right when workers fill the cores.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    from joserfc.errors import JoseError
    from pydantic import ValidationError

    from cds_api.app import create_app
    from cds_api.bootstrap import compile_services
    from cds_api.prefork import ServerOptions, SharedVerdict, bind_socket, serve
    from cds_api.settings import ApiSettings
    from cds_api.store_health import StoreHealth
    from rules.loader import RuleSetError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = build_settings(store=store)
    try:
        api_settings = ApiSettings(home=settings.home)
    except ValidationError as exc:
        raise CliError(f"invalid API settings: {exc}") from exc
    if api_settings.auth == "enabled" and not api_settings.trusted_issuers:
        raise CliError("no trusted issuers: set KGCDS_TRUSTED_ISSUERS, or KGCDS_AUTH=disabled for development")
    schema = load_schema()
    graph = open_store(settings, schema)
    started = time.perf_counter()
    try:
        try:
            if not any(graph.node_counts().values()):
                raise CliError(f"the store {graph.description} is empty: run `kgcds load` first")
            compiled = compile_services(graph, schema, rules_dir, overrides)
        except RuleSetError as exc:
            raise CliError(f"the rule set is invalid, nothing served: {exc}") from exc
        except StoreError as exc:
            raise CliError(str(exc)) from exc
    except BaseException:
        graph.close()
        raise
    # The store stays open only for the background health probe: requests never touch it.
    health = StoreHealth.for_store(graph, compiled.index.metadata)
    store_probe = health.probe
    verdict: SharedVerdict | None = None
    if workers > 1:
        # The probe reads the store with polars, which hangs after a fork: the parent probes, the
        # workers' /health reads its verdict.
        verdict = SharedVerdict.create()
        health = dataclasses.replace(health, probe=verdict.probe)
    try:
        app = create_app(
            api_settings, lambda: compiled.terminology, compiled.engine, store_health=health, ddx=compiled.ddx
        )
    except (ValueError, JoseError) as exc:
        raise CliError(f"KGCDS_TRUSTED_ISSUERS: a configured JWKS is not a valid key set: {exc}") from exc
    # The index is long-lived: move it out of the collector's reach so full collections stay short
    # (a ~45 ms collection over the index otherwise pushes p99 latency to 40-60 ms).
    gc.collect()
    gc.freeze()
    LOG.info(
        "knowledge index compiled in %.1f s; order screening runs %s; serving on http://%s:%d",
        time.perf_counter() - started,
        "compiled (mypyc)" if is_compiled() else "interpreted",
        host,
        port,
    )
    try:
        try:
            sock = bind_socket(host, port)
        except OSError as exc:
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        code = serve(app, sock, ServerOptions(workers=workers), store_probe=store_probe, verdict=verdict)
    finally:
        graph.close()
    if code != 0:
        raise SystemExit(code)
