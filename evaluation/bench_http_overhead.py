"""Benchmark: server CPU per HTTP request, our Litestar layer against a bare Litestar app.

Wall-clock throughput on a shared 2-core machine mostly measures the neighbours; the CPU time the
server process spends per request does not (read from /proc/<pid>/task/*/schedstat, nanoseconds).
It bounds throughput: one worker serves at most 1 / (CPU per request) requests per second.

    .venv/bin/python -m evaluation.bench_http_overhead                  # fixture graph for order-select
    .venv/bin/python -m evaluation.bench_http_overhead --http h11       # force uvicorn's pure-Python parser

Targets: ``bare`` (a bare Litestar app: GET returning fixed bytes; POST reading the body and returning
fixed bytes), ``ours`` (our app's GET /health, GET /cds-services, and the order-select call with the
synthetic 20-medication patient, with and without an Origin header so the CORS path is counted).
Prints medians of repeated rounds (no assertions).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get, post

from evaluation.bench_order_select import (
    RawConnection,
    compile_from,
    process_tree_cpu_ns,
    start_server,
    synthetic_request,
)
from kgcds.settings import default_data_dir

SELECT = "/cds-services/medication-safety-order-select"


def bare_app() -> Litestar:
    @get("/health", sync_to_thread=False)
    def health() -> Response[bytes]:
        return Response(b'{"status":"pass"}', media_type="application/json")

    @post("/call", status_code=200)
    async def call(request: Request[Any, Any, Any]) -> Response[bytes]:
        await request.body()
        return Response(b'{"cards":[]}', media_type="application/json")

    return Litestar([health, call], logging_config=None)


def our_app(work: Path) -> Any:
    from cds_api.app import create_app
    from cds_api.settings import ApiSettings

    compiled = compile_from(None, True, work)
    return create_app(ApiSettings(auth="disabled", home=work), lambda: compiled.terminology, compiled.engine)


def _serve(target: str, port: int, http: str, loop: str) -> None:
    import logging

    import uvicorn

    from cds_api.prefork import bind_socket

    logging.basicConfig(level=logging.WARNING)
    app = bare_app() if target == "bare" else our_app(Path(tempfile.mkdtemp(prefix="kgcds-overhead-")))
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(app, http=http, loop=loop, log_config=None, access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[bind_socket("127.0.0.1", port)])


async def _round(port: int, method: str, path: str, body: bytes, headers: str, requests: int) -> tuple[int, float]:
    connection = await RawConnection.open("127.0.0.1", port, path, body, method=method, extra_headers=headers)
    started = time.perf_counter()
    try:
        for _ in range(requests):
            status = await connection.call()
            if status >= 400:
                raise SystemExit(f"{method} {path} answered {status}")
    finally:
        connection.close()
    return requests, time.perf_counter() - started


def measure(pid: int, port: int, call: tuple[str, str, bytes, str], requests: int, rounds: int) -> dict[str, float]:
    method, path, body, headers = call
    server_us, client_us, per_s = [], [], []
    asyncio.run(_round(port, method, path, body, headers, 200))  # warm-up
    for _ in range(rounds):
        server_before, client_before = process_tree_cpu_ns(pid), time.process_time()
        done, wall = asyncio.run(_round(port, method, path, body, headers, requests))
        server_us.append((process_tree_cpu_ns(pid) - server_before) / 1000 / done)
        client_us.append((time.process_time() - client_before) * 1e6 / done)
        per_s.append(done / wall)
    return {
        "server_cpu_us": round(statistics.median(server_us), 1),
        "client_cpu_us": round(statistics.median(client_us), 1),
        "req_per_s_1_conn": round(statistics.median(per_s), 1),
    }


def run_target(target: str, http: str, loop: str, body: bytes, requests: int, rounds: int) -> dict[str, Any]:
    server, port = start_server(_serve, lambda port: (target, port, http, loop))
    assert server.pid is not None
    origin = "Origin: https://sandbox.cds-hooks.org\r\n"
    cases: list[tuple[str, str, str, bytes, str]] = (
        [("GET /health", "GET", "/health", b"", ""), ("POST 33 KB body", "POST", "/call", body, "")]
        if target == "bare"
        else [
            ("GET /health", "GET", "/health", b"", ""),
            ("GET /cds-services", "GET", "/cds-services", b"", ""),
            ("POST order-select", "POST", SELECT, body, ""),
            ("POST order-select + Origin", "POST", SELECT, body, origin),
        ]
    )
    try:
        return {name: measure(server.pid, port, (m, p, b, h), requests, rounds) for name, m, p, b, h in cases}
    finally:
        server.terminate()
        server.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--http", default="auto", choices=["auto", "h11", "httptools"])
    parser.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
    parser.add_argument("--requests", type=int, default=1000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--targets", default="bare,ours")
    args = parser.parse_args()
    body = json.dumps(synthetic_request(default_data_dir())).encode()
    for target in args.targets.split(","):
        result = run_target(target, args.http, args.loop, body, args.requests, args.rounds)
        print(f"{target} (http={args.http}, loop={args.loop}):")
        for name, figures in result.items():
            print(f"  {name:30} {figures}")


if __name__ == "__main__":
    main()
