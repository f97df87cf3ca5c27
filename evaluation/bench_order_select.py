"""Benchmark: order-select latency in-process and over HTTP, throughput, and Synthea alert burden.

The synthetic patient has 20 active medications, 5 allergies, 10 conditions, 3 labs and 3 draft
orders, all with real RxNorm product codes taken from the shared RxNorm prescribable file.

    .venv/bin/python -m evaluation.bench_order_select --store /path/to/graph      # a loaded store
    .venv/bin/python -m evaluation.bench_order_select --fixture                   # the small test graph

Prints medians and p99 (no assertions: timings are reported, not tested).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import gc
import json
import multiprocessing
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar, Request, get, post
from litestar.config.cors import CORSConfig
from litestar.response.base import ASGIResponse

from cds_api.bootstrap import CompiledServices, compile_services
from cds_api.settings import ApiSettings
from evaluation.app_timing import AppTimer, with_app_time
from evaluation.latency import percentile
from evaluation.synthea_orders import order_sign_request, read_bundles
from evaluation.wrk_client import run_wrk, wrk_path
from graph_store.contract import GraphStore
from kgcds.settings import default_data_dir
from ontology.schema import load_schema

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ACTIVE = [
    "lisinopril", "metoprolol", "simvastatin", "metformin", "omeprazole", "levothyroxine", "hydrochlorothiazide",
    "furosemide", "gabapentin", "sertraline", "losartan", "pantoprazole", "prednisone", "tramadol", "warfarin",
    "digoxin", "citalopram", "carvedilol", "montelukast", "pravastatin",
]  # fmt: skip
DRAFTS = ["fluconazole", "clarithromycin", "ibuprofen"]
ALLERGIES = [("7984", "penicillin V"), ("10180", "sulfamethoxazole"), ("2670", "codeine"), (None, "latex"),
             (None, "peanut")]  # fmt: skip
CONDITIONS = [
    ("38341003", "Hypertension"), ("44054006", "Type 2 diabetes mellitus"), ("84114007", "Heart failure"),
    ("13645005", "COPD"), ("55822004", "Hyperlipidemia"), ("396275006", "Osteoarthritis"),
    ("35489007", "Depressive disorder"), ("49436004", "Atrial fibrillation"), ("235595009", "GERD"),
    ("431855005", "Chronic kidney disease stage 1"),
]  # fmt: skip


LABS = [("33914-3", 42.0, "mL/min"), ("2160-0", 1.6, "mg/dL"), ("2823-3", 4.9, "mmol/L")]


def products(data_dir: Path, names: list[str]) -> dict[str, tuple[str, str]]:
    """Ingredient name -> (RxCUI, display) of its first single-ingredient oral-tablet clinical drug.

    Single-ingredient: the first hydrochlorothiazide tablet in the file is captopril / hydrochlorothiazide,
    which would put a second drug on the list.
    """
    wanted = set(names)
    found: dict[str, tuple[str, str]] = {}
    path = data_dir / "rxnorm" / "rxnorm_prescribe_20251006_product_ingredient_noA.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = row["ingredient_name"].lower()
            if (
                name in wanted
                and name not in found
                and row["product_tty"] == "SCD"
                and "Oral Tablet" in row["product_name"]
                and " / " not in row["product_name"]
            ):
                found[name] = (row["product_rxcui"], row["product_name"])
    missing = wanted - set(found)
    if missing:
        raise SystemExit(f"no oral tablet found for {sorted(missing)}")
    return found


def _med(rid: str, code: str, display: str, status: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "subject": {"reference": "Patient/bench"},
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": code, "display": display}],
            "text": display,
        },
        "dosageInstruction": [{"text": "1 tablet daily"}],
    }


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def synthetic_request(data_dir: Path) -> dict[str, Any]:
    table = products(data_dir, ACTIVE + DRAFTS)
    active = [_med(f"m{i}", *table[name], "active") for i, name in enumerate(ACTIVE)]
    drafts = [_med(f"d{i}", *table[name], "draft") for i, name in enumerate(DRAFTS)]
    allergies = [
        {
            "resourceType": "AllergyIntolerance",
            "id": f"a{i}",
            "category": ["medication"] if code else ["food"],
            "criticality": "high",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "verificationStatus": {"coding": [{"code": "confirmed"}]},
            "code": {"coding": [{"system": RXNORM, "code": code, "display": text}] if code else [], "text": text},
        }
        for i, (code, text) in enumerate(ALLERGIES)
    ]
    conditions = [
        {
            "resourceType": "Condition",
            "id": f"c{i}",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "code": {"coding": [{"system": SNOMED, "code": code, "display": text}], "text": text},
        }
        for i, (code, text) in enumerate(CONDITIONS)
    ]
    labs = [
        {
            "resourceType": "Observation",
            "id": f"o{i}",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
            "effectiveDateTime": "2026-10-01T08:00:00Z",
            "valueQuantity": {"value": value, "unit": unit},
        }
        for i, (loinc, value, unit) in enumerate(LABS)
    ]
    return {
        "hook": "order-select",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/bench",
            "patientId": "bench",
            "selections": [f"MedicationRequest/{d['id']}" for d in drafts],
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": d} for d in drafts]},
        },
        "prefetch": {
            "patient": {"resourceType": "Patient", "id": "bench", "birthDate": "1948-03-02", "gender": "female"},
            "medications": _searchset(active),
            "allergies": _searchset(allergies),
            "conditions": _searchset(conditions),
            "labs": _searchset(labs),
            "genomics": _searchset([]),
        },
    }


def compile_from(store: str | None, fixture: bool, work: Path) -> CompiledServices:
    schema = load_schema()
    if fixture:
        # The rules helper's hand-made graph: fine for timing the path, not for alert burden.
        from tests.rules_fixture_graph import build_rules_store

        graph: GraphStore = build_rules_store(work / "graph", schema)
    else:
        from graph_store.factory import open_embedded

        if store is None:
            raise SystemExit("give --store DIR (a loaded embedded store) or --fixture")
        graph = open_embedded(Path(store), schema)
    try:
        return compile_services(graph, schema)
    finally:
        graph.close()


def distinct_patient(request: dict[str, Any], n: int, texts: bool = True) -> dict[str, Any]:
    """The request as patient ``n`` would send it: other patient and resource ids, same codes.

    Timing one body over and over would let any cache keyed by patient data look free; with these
    variants only patient-independent work (keyed by codes, ingredients, rules) can be remembered.
    ``texts``: also make every display text unique (the worst case: an EHR's texts come from its
    picklists, so a free-text allergy such as "latex" reads the same for every patient).
    """
    suffix = f"-{n}"

    def rewrite(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: rewrite(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [rewrite(v, key) for v in value]
        if not isinstance(value, str):
            return value
        if key in ("id", "patientId", "reference") or (key == "selections" and "/" in value):
            return value + suffix
        if texts and key in ("text", "display"):
            return f"{value} (patient {n})"
        return value

    return rewrite(request)  # type: ignore[no-any-return]


def in_process(
    compiled: CompiledServices,
    body: bytes,
    iterations: int,
    distinct: bool = False,
    texts: bool = True,
    pause_ms: float = 0.0,
) -> dict[str, float]:
    # The hot path the HTTP handler runs, minus Litestar: decode, record, patient context, engine, cards, encode.
    # distinct: every iteration screens another patient (see distinct_patient), as a first-seen patient would be.
    # pause_ms: idle between calls, as between an EHR's sporadic calls: back-to-back calls keep the caches
    # warm and the virtual CPU awake, which an idle server's first call does not find.
    from cds_api.prefetch import complete_record
    from cds_api.services import Screening
    from ontology.curie import CodeSystemMap

    screening = Screening.wired(CodeSystemMap.from_schema(load_schema()), compiled.engine, lambda: compiled.terminology)
    service = screening.service("medication-safety-order-select")
    template = json.loads(body)
    bodies = [json.dumps(distinct_patient(template, n, texts)).encode() for n in range(iterations)] if distinct else []
    gc.collect()
    gc.freeze()
    timings: list[float] = []
    cards = 0
    for n in range(iterations):
        payload = bodies[n] if distinct else body
        start = time.perf_counter()
        request = screening.decode(service, payload)
        record = complete_record(request, service.prefetch)
        result = screening.screen(request, record, datetime.now(UTC))
        timings.append((time.perf_counter() - start) * 1000)
        cards = len(result.issued)
        if pause_ms:
            time.sleep(pause_ms / 1000)
    return {"median_ms": statistics.median(timings), "p99_ms": percentile(timings, 0.99), "cards": cards}


def _serve(store: str | None, fixture: bool, work: str, port: int, workers: int = 1) -> None:
    # As `kgcds serve --workers N` does it: compile once, freeze the heap, fork the workers onto one socket.
    from cds_api.app import create_app
    from cds_api.prefork import ServerOptions, bind_socket, serve

    compiled = compile_from(store, fixture, Path(work))
    settings = ApiSettings(auth="disabled", home=Path(work))
    app = create_app(settings, lambda: compiled.terminology, compiled.engine)
    gc.collect()
    gc.freeze()
    serve(AppTimer(app, Path(work)), bind_socket("127.0.0.1", port), ServerOptions(workers=workers))


KEEP_ALIVE_REUSE_SECONDS = 4.0
"""Below uvicorn's keep-alive timeout (5 s), so the client never sends on a connection the server is closing."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RawConnection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol to time the server.

    httpx costs several hundred microseconds of client CPU per request; on a 2-core machine that
    would measure the client, not the server.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> None:
        self._reader, self._writer, self._request = reader, writer, request
        self.last_used = time.perf_counter()

    def reusable(self, now: float) -> bool:
        """False once the server may have closed it: idle near uvicorn's keep-alive timeout (5 s), or at EOF."""
        return now - self.last_used < KEEP_ALIVE_REUSE_SECONDS and not self._reader.at_eof()

    @classmethod
    async def open(
        cls, host: str, port: int, path: str, body: bytes, method: str = "POST", extra_headers: str = ""
    ) -> RawConnection:
        """``extra_headers``: complete header lines, each ending in CRLF."""
        reader, writer = await asyncio.open_connection(host, port)
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"{extra_headers}Content-Length: {len(body)}\r\n\r\n"
        )
        return cls(reader, writer, head.encode() + body)

    async def call(self) -> int:
        self._writer.write(self._request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self._reader.readexactly(length)
        self.last_used = time.perf_counter()
        return status

    def close(self) -> None:
        self._writer.close()


async def open_loop(
    host: str, port: int, path: str, body: bytes, rate: float, seconds: float, clients: int = 8
) -> dict[str, float]:
    """Requests at a fixed rate; latency from the scheduled send time, so a stall is not hidden.

    ``clients`` keep-alive connections are opened first and used in turn (FIFO), as several EHR
    clients would be: a connection stays with the worker that accepted it, so sending everything over
    the one or two connections a LIFO pool keeps busy would leave the other workers idle. More
    connections are opened when all are busy.
    """
    latencies: list[float] = []
    errors = 0
    idle: collections.deque[RawConnection] = collections.deque(
        await asyncio.gather(*(RawConnection.open(host, port, path, body) for _ in range(clients)))
    )

    async def connection_for_now() -> RawConnection:
        # A connection idle near the server's keep-alive timeout may be closing: reusing it counted
        # as a server error (the old LIFO pool's bug). Such connections are dropped here.
        now = time.perf_counter()
        while idle:
            connection = idle.popleft()
            if connection.reusable(now):
                return connection
            connection.close()
        return await RawConnection.open(host, port, path, body)

    async def one(scheduled: float) -> None:
        nonlocal errors
        connection = await connection_for_now()
        try:
            if await connection.call() != 200:
                errors += 1
            idle.append(connection)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
            connection.close()
        latencies.append((time.perf_counter() - scheduled) * 1000)

    tasks = []
    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    achieved = len(latencies) / (time.perf_counter() - start)
    for connection in idle:
        connection.close()
    return {
        "rate": rate,
        "achieved_rate": round(achieved, 1),
        "median_ms": round(statistics.median(latencies), 3),
        "p99_ms": round(percentile(latencies, 0.99), 3),
        "errors": errors,
        "connections": len(idle),
    }


def child_pids(pid: int) -> list[int]:
    """``pid``'s direct children (the forked workers), by pid (Linux; [] where unknown)."""
    try:
        return sorted(int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    except OSError:
        return []


def process_cpu_ns(pid: int) -> int:
    """CPU time so far of ``pid`` and its threads, in ns (Linux)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):  # a thread that ended meanwhile
            continue
    return total


def process_tree_cpu_ns(pid: int) -> int:
    """CPU time so far of ``pid``, its threads and its direct children (the forked workers), in ns (Linux)."""
    return sum(process_cpu_ns(process) for process in (pid, *child_pids(pid)))


def with_worker_split(server_pid: int, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``measure()``'s figures plus ``worker_cpu_s``: the CPU each worker spent meanwhile. Connections stay
    with the worker that accepted them, so an uneven split means one worker queued while another idled."""
    workers = child_pids(server_pid)
    before = [process_cpu_ns(worker) for worker in workers]
    figures = measure()
    spent = [(process_cpu_ns(worker) - start) / 1e9 for worker, start in zip(workers, before, strict=True)]
    return {**figures, "worker_cpu_s": [round(s, 2) for s in spent]} if len(workers) > 1 else figures


def cpu_jiffies(proc_stat: str | None = None) -> tuple[int, int]:
    """(all, stolen) CPU time of the machine so far, in clock ticks, from ``/proc/stat``'s first line (read
    when not given; (0, 0) where there is none).

    Steal is time the hypervisor gave this VM's virtual CPUs to another guest: while it is high, latencies
    measure the neighbours, not the server.
    """
    try:
        text = Path("/proc/stat").read_text() if proc_stat is None else proc_stat
        fields = [int(v) for v in text.split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    # user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already in user.
    return sum(fields[:8]), fields[7] if len(fields) > 7 else 0


def with_steal(measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``measure()``'s figures plus ``cpu_steal_pct``: the share of the machine's CPU time stolen meanwhile."""
    all_before, stolen_before = cpu_jiffies()
    figures = measure()
    all_after, stolen_after = cpu_jiffies()
    elapsed = all_after - all_before
    steal = 100 * (stolen_after - stolen_before) / elapsed if elapsed > 0 else 0.0
    return {**figures, "cpu_steal_pct": round(steal, 1)}


async def closed_loop(
    host: str, port: int, path: str, body: bytes, connections: int, seconds: float, server_pid: int | None = None
) -> dict[str, float]:
    """Requests/s with ``connections`` busy connections. With ``server_pid``, also the CPU spent per request
    by the server (all workers) and by this client: on a shared machine the wall-clock rate mostly measures
    the neighbours, while ``cpu_bound_req_per_s_2_cores`` = 2 cores / (server + client CPU per request) does not.
    """
    done = errors = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, errors
        connection = await RawConnection.open(host, port, path, body)
        try:
            while time.perf_counter() < stop:
                if await connection.call() != 200:
                    errors += 1
                done += 1
        finally:
            connection.close()

    server_cpu = process_tree_cpu_ns(server_pid) if server_pid else 0
    client_cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    result: dict[str, float] = {
        "connections": connections,
        "req_per_s": round(done / (time.perf_counter() - started), 1),
        "errors": errors,
    }
    if server_pid and done:
        server_ms = (process_tree_cpu_ns(server_pid) - server_cpu) / 1e6 / done
        client_ms = (time.process_time() - client_cpu) * 1000 / done
        result["server_cpu_ms_per_request"] = round(server_ms, 3)
        result["client_cpu_ms_per_request"] = round(client_ms, 3)
        result["cpu_bound_req_per_s_2_cores"] = round(2000 / (server_ms + client_ms), 1)
    return result


def _serve_floor(response_bytes: int, port: int, workers: int) -> None:
    """A Litestar app served as ours is, that reads the request body and answers fixed bytes of
    ``response_bytes``: what any Litestar service returning that much costs here, with no screening."""
    from cds_api.prefork import ServerOptions, bind_socket, serve

    padding = max(response_bytes - len(b'{"cards":[{"detail":""}]}'), 0)
    answer = b'{"cards":[{"detail":"' + b"x" * padding + b'"}]}'

    @get("/health", sync_to_thread=False)
    def health() -> ASGIResponse:
        return ASGIResponse(body=b'{"status":"pass"}', media_type="application/json")

    @post("/cds-services/{service_id:str}", status_code=200)
    async def call(request: Request[Any, Any, Any], service_id: str) -> ASGIResponse:
        await request.body()
        return ASGIResponse(body=answer, media_type="application/json")

    app = Litestar([health, call], logging_config=None, cors_config=CORSConfig(allow_origins=["*"]))
    gc.collect()
    gc.freeze()
    serve(app, bind_socket("127.0.0.1", port), ServerOptions(workers=workers))


def over_http(
    store: str | None,
    fixture: bool,
    body: bytes,
    rate: float,
    seconds: float,
    workers: int = 1,
    floor: bool = True,
) -> dict[str, Any]:
    """Our server, then (``floor``) a bare Litestar server answering a response of the same size.

    The floor runs right after ours, with the same workers and client: on a shared VM the p99 of a server
    that does no work at all moves several-fold between runs, so our figures are only read against it.
    """
    work = tempfile.mkdtemp(prefix="kgcds-bench-")
    ours = _measure_server(_serve, (store, fixture, work), workers, body, rate, seconds, timings=Path(work))
    result: dict[str, Any] = {"workers": workers, **ours}
    if floor:
        floor_args = (int(ours["response_bytes"]),)
        result["floor_bare_litestar"] = _measure_server(_serve_floor, floor_args, workers, body, rate, seconds)
    return result


def start_server(
    target: Callable[..., None], args_for_port: Callable[[int], tuple[Any, ...]]
) -> tuple[BaseProcess, int]:
    """Start ``target(*args_for_port(port))`` in a fresh (spawned) process on a free port; return the process
    and the port once its ``/health`` answers 200."""
    import os

    port = free_port()
    # Read by OpenMP when the server process loads it: its pool does not survive a fork (see kgcds serve).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    server = multiprocessing.get_context("spawn").Process(target=target, args=args_for_port(port), daemon=True)
    server.start()
    deadline = time.time() + 600
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server, port
        except httpx.HTTPError:
            pass
        if time.time() > deadline or not server.is_alive():
            raise SystemExit("server did not start")
        time.sleep(0.5)


def _observed(load: Callable[[], dict[str, Any]], server_pid: int | None, timings: Path | None) -> dict[str, Any]:
    """``load()``'s figures with what happened meanwhile: the machine's CPU steal, each worker's CPU (given
    ``server_pid``) and the app's own time per call (given ``timings``)."""

    def with_split() -> dict[str, Any]:
        return with_steal(load) if server_pid is None else with_worker_split(server_pid, lambda: with_steal(load))

    return with_app_time(timings, with_split)


def _measure_server(
    target: Callable[..., None],
    args: tuple[Any, ...],
    workers: int,
    body: bytes,
    rate: float,
    seconds: float,
    timings: Path | None = None,
) -> dict[str, Any]:
    """Start ``target(*args, port, workers)`` in a fresh process; open loop at ``rate``, then 8 connections.

    ``timings``: where the server's :class:`~evaluation.app_timing.AppTimer` records each call, so the
    open loop and wrk's loads also report the app's own time beside the client's latency."""
    server, port = start_server(target, lambda port: (*args, port, workers))
    base = f"http://127.0.0.1:{port}"
    path = "/cds-services/medication-safety-order-select"
    try:
        answer = httpx.post(f"{base}{path}", content=body, headers={"Content-Type": "application/json"}, timeout=30)
        if answer.status_code != 200:
            raise SystemExit(f"order-select answered {answer.status_code}: {answer.text[:300]}")
        asyncio.run(open_loop("127.0.0.1", port, path, body, 50, 2))  # warm-up
        measured: dict[str, Any] = {
            "response_bytes": len(answer.content),
            "open_loop": _observed(
                lambda: asyncio.run(open_loop("127.0.0.1", port, path, body, rate, seconds)), None, timings
            ),
            "throughput_8": with_steal(
                lambda: asyncio.run(closed_loop("127.0.0.1", port, path, body, 8, seconds, server.pid))
            ),
        }
        if wrk_path() is not None:
            # The same loads from a native client, whose own CPU per call is negligible (see wrk_client).
            url = f"{base}{path}"
            measured["wrk_8_connections"] = _observed(lambda: run_wrk(url, body, 8, seconds), server.pid, timings)
            measured["wrk_paced"] = _observed(
                lambda: run_wrk(url, body, 8, seconds, paced_rate=rate), server.pid, timings
            )
        return measured
    finally:
        server.terminate()
        server.join(10)


def alert_burden(compiled: CompiledServices, data_dir: Path) -> dict[str, float]:
    """Every Synthea prescription screened as a draft against the rest of that patient's record.

    Also times each screening (decode to encoded cards, as :func:`in_process`): real records of every size,
    so a workload rather than one heavy patient. The workload runs twice. The first pass meets every
    product, drug pair and rule for the first time (a server just started); the second is a server that
    has seen these drugs before. Only patient-independent results are remembered between calls (per code,
    drug pair and rule), so the second pass screens each record afresh, and it must give the same cards.
    """
    from cds_api.cards import UNRECOGNISED_RECORD_RULE_ID, UNSCREENED_RULE_ID
    from cds_api.prefetch import complete_record
    from cds_api.services import Screening
    from ontology.curie import CodeSystemMap

    screening = Screening.wired(CodeSystemMap.from_schema(load_schema()), compiled.engine, lambda: compiled.terminology)
    service = screening.service("medication-safety-order-sign")
    payloads = [
        json.dumps(body).encode()
        for bundle in read_bundles(data_dir / "fhir" / "synthea_patients.ndjson.gz")
        for variant in _each_order(bundle)
        if (body := order_sign_request(variant)) is not None
    ]
    timings: list[list[float]] = [[], []]
    outcomes: list[list[tuple[tuple[str, str], ...]]] = [[], []]
    for run in (0, 1):
        for payload in payloads:
            start = time.perf_counter()
            request = screening.decode(service, payload)
            result = screening.screen(request, complete_record(request, service.prefetch), datetime.now(UTC))
            timings[run].append((time.perf_counter() - start) * 1000)
            outcomes[run].append(tuple((card.rule_id, card.indicator) for card in result.issued))
    if outcomes[0] != outcomes[1]:
        raise SystemExit("the second pass over the Synthea orders gave different cards from the first")
    orders = len(outcomes[0])
    issued = outcomes[0]
    indicators = [{indicator for _, indicator in cards} for cards in issued]
    sizes = [len(payload) for payload in payloads]
    return {
        "orders": orders,
        "critical_share": round(sum("critical" in i for i in indicators) / orders, 4) if orders else 0.0,
        "warning_or_critical_share": (
            round(sum(bool(i & {"critical", "warning"}) for i in indicators) / orders, 4) if orders else 0.0
        ),
        "not_recognised_share": (
            round(sum(any(r == UNSCREENED_RULE_ID for r, _ in cards) for cards in issued) / orders, 4)
            if orders
            else 0.0
        ),
        "record_not_recognised_share": (
            round(sum(any(r == UNRECOGNISED_RECORD_RULE_ID for r, _ in cards) for cards in issued) / orders, 4)
            if orders
            else 0.0
        ),
        "cards_per_order": round(sum(len(cards) for cards in issued) / orders, 2) if orders else 0.0,
        "median_request_kb": round(statistics.median(sizes) / 1024, 1) if sizes else 0.0,
        "first_pass_median_ms": round(statistics.median(timings[0]), 3) if orders else 0.0,
        "first_pass_p99_ms": round(percentile(timings[0], 0.99), 3) if orders else 0.0,
        "warm_median_ms": round(statistics.median(timings[1]), 3) if orders else 0.0,
        "warm_p99_ms": round(percentile(timings[1], 0.99), 3) if orders else 0.0,
    }


def _each_order(bundle: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The bundle once per MedicationRequest, with that request moved last (it becomes the draft).

    Other prescriptions of the very same product are left out: Synthea renews chronic drugs yearly,
    and re-ordering the product a patient is on is a renewal, not a new order to screen.
    """
    entries = bundle["entry"]
    orders = [e for e in entries if e["resource"]["resourceType"] == "MedicationRequest"]
    rest = [e for e in entries if e["resource"]["resourceType"] != "MedicationRequest"]

    def product(entry: dict[str, Any]) -> str:
        return json.dumps(entry["resource"].get("medicationCodeableConcept", {}).get("coding", []), sort_keys=True)

    for i, order in enumerate(orders):
        others = [o for j, o in enumerate(orders) if j != i and product(o) != product(order)]
        stamped = {**order, "resource": {**order["resource"], "authoredOn": "9999-12-31"}}
        yield {**bundle, "entry": rest + others + [stamped]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", help="a loaded embedded store directory")
    parser.add_argument("--fixture", action="store_true", help="use the small rules test graph instead of a store")
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--workers", default="1,2", help="comma-separated worker counts to serve with over HTTP (default 1,2)"
    )
    parser.add_argument("--http-only", action="store_true", help="stop after the HTTP measurements")
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the bare Litestar server answering a response of our size"
    )
    parser.add_argument(
        "--distinct", action="store_true", help="also time in-process calls that each screen a different patient"
    )
    parser.add_argument(
        "--pace-ms",
        type=float,
        default=2.0,
        help="also time in-process calls with this idle pause between them (0: skip)",
    )
    parser.add_argument(
        "--distinct-texts", action="store_true", help="with --distinct: also make every display text unique"
    )
    args = parser.parse_args()
    data_dir = default_data_dir()
    body = json.dumps(synthetic_request(data_dir)).encode()
    # HTTP first, while this (client) process is still small: a client process holding the whole
    # compiled index measured 2-3x lower throughput than a lean one.
    if not args.skip_http:
        for workers in (int(n) for n in args.workers.split(",")):
            result = over_http(args.store, args.fixture, body, args.rate, args.seconds, workers, not args.no_floor)
            print("over HTTP:", result)
        if args.http_only:
            return
    work = Path(tempfile.mkdtemp(prefix="kgcds-bench-"))
    started = time.perf_counter()
    compiled = compile_from(args.store, args.fixture, work)
    print(f"index compiled in {time.perf_counter() - started:.1f} s; request {len(body) / 1024:.1f} KB")
    print("in-process order-select:", in_process(compiled, body, args.iterations))
    if args.pace_ms:
        paced = in_process(compiled, body, args.iterations, pause_ms=args.pace_ms)
        print(f"in-process order-select, {args.pace_ms:g} ms idle between calls:", paced)
    if args.distinct:
        timed = in_process(compiled, body, args.iterations, True, args.distinct_texts)
        print("in-process order-select, a new patient each call:", timed)
    print("alert burden (Synthea):", alert_burden(compiled, data_dir))


if __name__ == "__main__":
    main()
