"""Instructions per order-select call, counted by valgrind's callgrind: a figure that does not move with the VM.

Wall-clock figures on this shared 2-core VM vary several-fold between runs, so a 5 % change cannot be seen
in them. Callgrind counts the instructions executed: with the hash seed fixed, the same code and inputs give
the same count to about 0.02 %, whatever else the machine is doing. Only the screening loop is counted (the
index is compiled and the memos warmed first, as in a running server); each call screens the heavy patient
of :mod:`evaluation.bench_order_select` with new ids.

    .venv/bin/python -m evaluation.bench_instructions --store /path/to/graph [--calls 100]

Needs ``valgrind`` (Debian package; ``callgrind_control`` comes with it). About a minute for 100 calls.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

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


def count(store: str | None, fixture: bool, calls: int) -> int:
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
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        _screen_counted(args.store, args.fixture, args.calls)
        return
    total = count(args.store, args.fixture, args.calls)
    print(f"order-select, heavy patient: {total / args.calls:,.0f} instructions per call ({args.calls} calls)")


if __name__ == "__main__":
    main()
