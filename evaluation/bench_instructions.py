"""Instructions per order-select call, counted by valgrind's callgrind: a figure that does not move with the VM.

Wall-clock figures on this shared 2-core VM vary several-fold between runs, so a 5 % change cannot be seen
in them. Callgrind counts the instructions executed: with the hash seed fixed, the same code and inputs give
the same count to about 0.02 %, whatever else the machine is doing. Only the screening loop is counted (the
index is compiled and the memos warmed first, as in a running server); each call screens the heavy patient
of :mod:`evaluation.bench_order_select` with new ids.

    .venv/bin/python -m evaluation.bench_instructions --store /path/to/graph [--calls 100] [--through app]

``--through screen`` (the default) counts the screening as the in-process benchmark times it: decode, record,
engine, cards (random uuids), encode. ``--through app`` counts what the HTTP handler adds as well: the
call goes through the Litestar app over ASGI (routing, CORS middleware, the handler, signed card uuids,
fire counting, the response), everything but uvicorn and the socket.

Needs ``valgrind`` (Debian package; ``callgrind_control`` comes with it). About a minute for 100 calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_TOTALS = re.compile(r"^totals:\s+(\d+)", re.MULTILINE)
WARM_UP_CALLS = 20


def read_totals(callgrind_output: str) -> int:
    """The instruction count (``totals:`` line) of a callgrind output file's text."""
    found = _TOTALS.search(callgrind_output)
    if found is None:
        raise ValueError("no 'totals:' line: not a callgrind output file")
    return int(found.group(1))


def _instrumentation(on: bool) -> None:
    switch = "on" if on else "off"
    subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())], check=True, capture_output=True)


def _screen_counted(store: str | None, fixture: bool, calls: int) -> None:
    """Runs under callgrind: warm up, then screen ``calls`` times with instrumentation on."""
    from cds_api.prefetch import complete_record
    from cds_api.services import Screening
    from evaluation.bench_order_select import compile_from, distinct_patient, synthetic_request
    from kgcds.settings import default_data_dir
    from ontology.curie import CodeSystemMap
    from ontology.schema import load_schema

    compiled = compile_from(store, fixture, Path(tempfile.mkdtemp(prefix="kgcds-bench-")))
    screening = Screening.wired(CodeSystemMap.from_schema(load_schema()), compiled.engine, lambda: compiled.terminology)
    service = screening.service("medication-safety-order-select")
    template = synthetic_request(default_data_dir())
    bodies = [json.dumps(distinct_patient(template, n, False)).encode() for n in range(WARM_UP_CALLS + calls)]

    def screen(body: bytes) -> None:
        request = screening.decode(service, body)
        screening.screen(request, complete_record(request, service.prefetch), datetime.now(UTC))

    for body in bodies[:WARM_UP_CALLS]:
        screen(body)
    _instrumentation(True)
    for body in bodies[WARM_UP_CALLS:]:
        screen(body)
    _instrumentation(False)


SELECT_PATH = "/cds-services/medication-safety-order-select"


def _app_counted(store: str | None, fixture: bool, calls: int) -> None:
    """Runs under callgrind: the order-select call through the whole Litestar app, over ASGI."""
    from cds_api.app import create_app
    from cds_api.settings import ApiSettings
    from evaluation.bench_order_select import compile_from, distinct_patient, synthetic_request
    from kgcds.settings import default_data_dir

    work = Path(tempfile.mkdtemp(prefix="kgcds-bench-"))
    compiled = compile_from(store, fixture, work)
    app = create_app(ApiSettings(auth="disabled", home=work), lambda: compiled.terminology, compiled.engine)
    template = synthetic_request(default_data_dir())
    bodies = [json.dumps(distinct_patient(template, n, False)).encode() for n in range(WARM_UP_CALLS + calls)]

    async def lifespan_started() -> asyncio.Task[None]:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await inbox.put({"type": "lifespan.startup"})
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        task = asyncio.create_task(app(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
        started = await outbox.get()
        if started["type"] != "lifespan.startup.complete":
            raise SystemExit(f"the app did not start: {started}")
        return task

    async def call(body: bytes) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": SELECT_PATH,
            "raw_path": SELECT_PATH.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)  # type: ignore[arg-type]
        if sent[0].get("status") != 200:
            raise SystemExit(f"order-select answered {sent[0].get('status')}")

    async def run() -> None:
        lifespan = await lifespan_started()
        for body in bodies[:WARM_UP_CALLS]:
            await call(body)
        _instrumentation(True)
        for body in bodies[WARM_UP_CALLS:]:
            await call(body)
        _instrumentation(False)
        lifespan.cancel()

    asyncio.run(run())


def count(store: str | None, fixture: bool, calls: int, through: str = "screen") -> int:
    """Total instructions of ``calls`` screenings, run in a child process under callgrind."""
    with tempfile.TemporaryDirectory(prefix="kgcds-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "evaluation.bench_instructions",
            "--inner",
            "--calls",
            str(calls),
            "--through",
            through,
            *(["--store", store] if store else []),
            *(["--fixture"] if fixture else []),
        ]
        # A fixed hash seed: set and dict layouts, and so the work of probing them, then repeat between runs.
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0 or not out.exists():
            raise SystemExit(f"valgrind failed ({done.returncode}): {done.stderr[-800:]}")
        return read_totals(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", help="a loaded embedded store directory")
    parser.add_argument("--fixture", action="store_true", help="use the small rules test graph instead of a store")
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument(
        "--through",
        choices=["screen", "app"],
        default="screen",
        help="screen: the screening as the in-process benchmark times it; app: the whole Litestar app over ASGI",
    )
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        (_app_counted if args.through == "app" else _screen_counted)(args.store, args.fixture, args.calls)
        return
    total = count(args.store, args.fixture, args.calls, args.through)
    what = "through the Litestar app" if args.through == "app" else "the screening"
    print(f"order-select, heavy patient, {what}: {total / args.calls:,.0f} instructions per call ({args.calls} calls)")


if __name__ == "__main__":
    main()
