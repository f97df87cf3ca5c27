"""The report parsers of the benchmarks (wrk and valgrind are not needed: their reports are text), and the
machine's CPU steal they report beside their figures."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from evaluation.wrk_client import parse_wrk

REPORT = """Running 10s test @ http://127.0.0.1:8092/cds-services/medication-safety-order-select
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.46ms    6.16ms 109.30ms   94.41%
    Req/Sec     0.91k   156.54     1.15k    79.00%
  Latency Distribution
     50%  354.00us
     75%    9.24ms
     90%   12.11ms
     99%    1.20s
  9071 requests in 10.02s, 443.86MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:    905.54
Transfer/sec:     44.31MB
"""


def test_a_wrk_report_reads_as_rate_latencies_and_errors() -> None:
    assert parse_wrk(REPORT) == {
        "req_per_s": 905.5,
        "requests": 9071,
        "median_ms": 0.354,  # microseconds and seconds both come out in ms
        "p99_ms": 1200.0,
        "non_2xx": 4,
        "socket_errors": 3,
    }


def test_an_open_loop_report_also_reads_as_arrivals_and_late_starts() -> None:
    paced = REPORT.replace("Requests/sec:", "Schedule: 9100 arrivals, 37 late, late max 12.500ms\nRequests/sec:")
    figures = parse_wrk(paced)
    assert (figures["arrivals"], figures["late_starts"], figures["late_max_ms"]) == (9100, 37, 12.5)
    assert "late_starts" not in parse_wrk(REPORT)  # flat out, there is no schedule to be late for


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_the_paced_load_keeps_its_rate_however_slow_the_answers() -> None:
    """An open loop: 8 connections to a server taking 30 ms per answer still offer 100 req/s. Closed loop
    (each connection waiting out its answer, then a gap of 80 ms on average), they would offer about 73."""
    from evaluation.wrk_client import run_wrk

    server = _QuietServer(("127.0.0.1", 0), _SlowAnswers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        figures = run_wrk(f"http://127.0.0.1:{server.server_port}/", b"{}", 8, 3, paced_rate=100)
    finally:
        server.shutdown()
        server.server_close()
    assert 85 <= figures["arrivals"] / 3 <= 120, figures
    assert figures["median_ms"] >= 30, figures
    # How many start late depends on the VM (a stalled server holds all 8 connections); only that they are
    # counted, out of the arrivals, is the client's doing.
    assert 0 <= figures["late_starts"] <= figures["arrivals"], figures


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # wrk hangs up mid-answer when its time is up


class _SlowAnswers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(0.03)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_anything_else_is_refused() -> None:
    with pytest.raises(ValueError, match="not a wrk report"):
        parse_wrk("wrk: command failed")


def test_a_callgrind_total_reads_as_an_instruction_count() -> None:
    from evaluation.bench_instructions import read_totals

    assert read_totals("events: Ir\nsummary: 0\ntotals: 419202060\n") == 419_202_060
    with pytest.raises(ValueError, match="not a callgrind output"):
        read_totals("events: Ir\n")


def test_cpu_steal_is_read_from_the_first_line_of_proc_stat() -> None:
    from evaluation.bench_order_select import cpu_jiffies

    text = "cpu  100 5 40 800 3 0 2 50 7 0\ncpu0 50 2 20 400 1 0 1 25 3 0\nintr 1 2\n"
    assert cpu_jiffies(text) == (100 + 5 + 40 + 800 + 3 + 0 + 2 + 50, 50)  # guest time is inside user
    assert cpu_jiffies("cpu  1 2 3 4\n") == (10, 0)  # a kernel without the steal column
    assert cpu_jiffies("") == (0, 0)


def test_steal_is_reported_as_a_share_of_the_time_measured() -> None:
    from evaluation.bench_order_select import cpu_jiffies, with_steal

    figures = with_steal(lambda: {"req_per_s": 1.0})
    assert figures["req_per_s"] == 1.0
    assert 0.0 <= figures["cpu_steal_pct"] <= 100.0
    total, stolen = cpu_jiffies()
    assert total >= stolen >= 0


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads CPU times from /proc")
def test_the_worker_split_shows_which_child_process_spent_the_cpu() -> None:
    """A parent with one busy and one idle child, as a server whose connections all went to one worker."""
    from evaluation.bench_order_select import child_pids, with_worker_split

    parent = subprocess.Popen([sys.executable, "-c", _TWO_CHILDREN])
    try:
        deadline = time.monotonic() + 30
        while len(child_pids(parent.pid)) < 2:
            assert time.monotonic() < deadline, "the children did not start"
            time.sleep(0.02)
        figures = with_worker_split(parent.pid, _one_second_of_load)
    finally:
        parent.kill()
        parent.wait()
    idle, busy = sorted(figures["worker_cpu_s"])
    assert figures["req_per_s"] == 1.0
    assert busy >= 0.3 > idle, figures


def _one_second_of_load() -> dict[str, Any]:
    time.sleep(1.0)
    return {"req_per_s": 1.0}


_TWO_CHILDREN = """
import subprocess, sys
busy = subprocess.Popen([sys.executable, "-c", "import time\\nend = time.time() + 3\\nwhile time.time() < end: pass"])
idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
busy.wait(); idle.wait()
"""
