"""Load from wrk (Debian package ``wrk``), a native HTTP client, for the HTTP benchmark.

The Python client of :mod:`evaluation.bench_order_select` costs 0.2-1 ms of CPU per call on the
same two cores as the server; wrk costs a few microseconds, so what it measures is the server's.

wrk itself is closed loop: each connection waits for its answer. With ``paced_rate`` the script makes
it an open loop: one Poisson schedule at that rate for the whole run, each free connection taking the
next arrival and waiting until its time, so a slow answer does not lower the offered rate. wrk times a
request from when it is written, so a request that had to wait for a free connection past its arrival
is late and its lateness is not in wrk's latencies: the script counts such late starts and reports
them (``late_starts``, ``late_max_ms``), so a p99 that leaves out waiting is visible as one.
wrk's timers are whole milliseconds, so each request leaves within about 1 ms of its arrival time.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SCHEDULE = re.compile(r"^Schedule: (\d+) arrivals, (\d+) late, late max ([\d.]+)ms$", re.MULTILINE)
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")

_SCRIPT = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "rb"); wrk.body = f:read("*a"); f:close()
local mean_gap_ms = {mean_gap_ms}
local ffi = require("ffi")
ffi.cdef[[
typedef struct {{ long tv_sec; long tv_nsec; }} kgcds_timespec;
int clock_gettime(int clock_id, kgcds_timespec *tp);
]]
local clock = ffi.new("kgcds_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local next_arrival = nil
scheduled, late, late_max_ms = 0, 0, 0
function init(args)
  math.randomseed(os.time() + (tonumber(tostring({{}}):sub(8), 16) or 0) % 100000)
end
function delay()
  if mean_gap_ms <= 0 then return 0 end
  local now = now_ms()
  if next_arrival == nil then next_arrival = now end
  next_arrival = next_arrival - math.log(1 - math.random()) * mean_gap_ms
  scheduled = scheduled + 1
  local wait = next_arrival - now
  if wait < 0 then
    late = late + 1
    if -wait > late_max_ms then late_max_ms = -wait end
    return 0
  end
  return wait + 0.5  -- wrk truncates to whole milliseconds: round instead
end
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  if mean_gap_ms <= 0 then return end
  local n, l, m = 0, 0, 0
  for _, t in ipairs(threads) do
    n = n + t:get("scheduled"); l = l + t:get("late"); m = math.max(m, t:get("late_max_ms"))
  end
  io.write(string.format("Schedule: %d arrivals, %d late, late max %.3fms\\n", n, l, m))
end
"""


def wrk_path() -> str | None:
    return shutil.which("wrk")


def parse_wrk(output: str) -> dict[str, Any]:
    """wrk's ``--latency`` report -> requests per second, median and p99 in ms, errors."""
    rate = _RATE.search(output)
    total = _TOTAL.search(output)
    if rate is None or total is None:
        raise ValueError(f"not a wrk report: {output[:200]!r}")
    latencies = {p: float(v) * _UNIT_MS[unit] for p, v, unit in _PERCENTILE.findall(output)}
    non_2xx = _NON_2XX.search(output)
    sockets = _SOCKET_ERRORS.search(output)
    schedule = _SCHEDULE.search(output)
    late: dict[str, Any] = {}
    if schedule is not None:
        late = {"arrivals": int(schedule[1]), "late_starts": int(schedule[2]), "late_max_ms": float(schedule[3])}
    return {
        "req_per_s": round(float(rate.group(1)), 1),
        "requests": int(total.group(1)),
        "median_ms": round(latencies["50"], 3) if "50" in latencies else None,
        "p99_ms": round(latencies["99"], 3) if "99" in latencies else None,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in sockets.groups()) if sockets else 0,
        **late,
    }


def run_wrk(url: str, body: bytes, connections: int, seconds: float, paced_rate: float | None = None) -> dict[str, Any]:
    """POST ``body`` to ``url`` from ``connections`` connections for ``seconds`` (one wrk thread: the client
    shares the machine's two cores with the server)."""
    wrk = wrk_path()
    if wrk is None:
        raise FileNotFoundError("wrk is not installed (apt-get install wrk)")
    # One schedule for all the connections of the one thread (-t1): each wrk thread would keep its own.
    mean_gap_ms = 1000.0 / paced_rate if paced_rate else 0.0
    with tempfile.TemporaryDirectory(prefix="kgcds-wrk-") as tmp:
        body_path = Path(tmp) / "body.json"
        body_path.write_bytes(body)
        script = Path(tmp) / "post.lua"
        script.write_text(_SCRIPT.format(body=body_path, mean_gap_ms=f"{mean_gap_ms:.6f}"))
        command = [wrk, "-t1", f"-c{connections}", f"-d{max(int(seconds), 1)}s", "--latency", "-s", str(script), url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    result = parse_wrk(done.stdout)
    if paced_rate:
        result["offered_rate"] = paced_rate
    return result
