"""wrk (Debian's package) from Python: pinned to a core, paths from a list, figures as a record.

The Lua script picks a path at random per request from a file, sends the bearer token, optionally
waits `delay_ms` on average (uniformly 0 to twice that) before each request on each connection
(to hold a rate below the maximum without sending the connections' requests in step), and
prints one `WRKJSON {...}` line from `done()`: requests, duration, latency percentiles and the
count of answers that were not 2xx/3xx or failed on the socket.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

WRK_BINARY = "/usr/bin/wrk"

SCRIPT = """
local paths = {}
for line in io.lines(%(paths)s) do paths[#paths + 1] = line end
wrk.headers["Authorization"] = %(authorization)s
local delay_ms = %(delay_ms)d
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
if delay_ms > 0 then
  -- uniform in [0, 2 x delay_ms]: the same mean rate, the connections' requests not in step
  -- (a fixed delay sends them in bursts, and the p99 measures the burst, not the service)
  delay = function() return math.random(0, 2 * delay_ms) end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, ' ..
    '"p99_us": %%d, "non_2xx": %%d, "socket_errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    failures: int  # not 2xx/3xx, or a socket error

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_binary() -> str:
    found = shutil.which("wrk") or (WRK_BINARY if Path(WRK_BINARY).exists() else None)
    if found is None:
        raise SystemExit(
            "wrk is missing: install it from Debian's packages "
            "(scripts/ensure-system-programs wrk=/usr/bin/wrk)"
        )
    return found


def run_wrk(
    base: str,
    paths: list[str],
    *,
    token: str,
    directory: Path,
    seconds: float,
    connections: int,
    core: int | None,
    delay_ms: int = 0,
    paused: Sequence[int] = (),
) -> Load:
    """One wrk run of `seconds` against `base`, one thread, on `core` when given; the processes
    `paused` are stopped while it runs (see `stopped`)."""
    paths_file = directory / "wrk-paths.txt"
    paths_file.write_text("\n".join(paths) + "\n")
    script = directory / "wrk-script.lua"
    script.write_text(
        SCRIPT
        % {
            "paths": json.dumps(str(paths_file)),
            "authorization": json.dumps(f"Bearer {token}"),
            "delay_ms": delay_ms,
        }
    )
    command = [
        wrk_binary(),
        "-t1",
        f"-c{connections}",
        f"-d{max(int(seconds), 1)}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        base,
    ]
    if core is not None:
        command = ["taskset", "-c", str(core), *command]
    with stopped(paused):
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    line = next((x for x in output.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{output}")
    figures = json.loads(line.removeprefix("WRKJSON "))
    return Load(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p90_ms=figures["p90_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        failures=figures["non_2xx"] + figures["socket_errors"],
    )


@contextmanager
def stopped(pids: Sequence[int]) -> Iterator[None]:
    """The processes `pids` stopped (SIGSTOP) for the block, continued (SIGCONT) after it.

    A benchmark that keeps several servers running on the measured server's core stops the idle
    ones while it measures: an idle `minigroups serve` still polls its queues about once a
    second, and on a shared core those polls delay the measured server's answers (issue 12,
    session 10: p99 at half load 5.8-10.7 ms with five idle services beside it, 3.7-4.8 ms with
    them stopped; the bare route 3.8-8.9 against 3.0-4.0)."""
    held: list[int] = []
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
            held.append(pid)
        yield
    finally:
        for pid in held:
            os.kill(pid, signal.SIGCONT)
