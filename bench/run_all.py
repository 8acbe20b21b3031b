"""`make bench`: run every benchmark, each in its own process, show what each prints, then write
docs/benchmarks.md (bench/report.py; with the hand-written bench/notes.md) and docs/benchmarks.json
(the figures it was made from) and the plot docs/plan-time.png. Nothing here is a test: the figures
are for reading.

Usage: python bench/run_all.py [--quick] [--runs 3] [--notes FILE] [--from-json FILE]

--quick (`make bench-quick`, a few minutes): one run per figure, no naive script at N=1,000, the
curve at N = 100 and 1,000 only, planning CPU at 1,000 only. --from-json re-writes the page from
saved figures without measuring (to add --notes after a run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import report  # type: ignore[import-not-found]  # bench/report.py, next to this script

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DOCS = ROOT / "docs"


class Runner:
    """Runs benchmarks one at a time, noting each one's command and the load average it started under."""

    def __init__(self) -> None:
        self.loads: dict[str, list[float]] = {}
        self.commands: list[str] = []

    def __call__(self, script: str, *args: str) -> str:
        return run(script, *args, loads=self.loads, commands=self.commands)


def run(script: str, *args: str, loads: dict[str, list[float]], commands: list[str]) -> str:
    """Run one benchmark; echo what it prints; note the load average it started under."""
    loads[script.removesuffix(".py")] = list(os.getloadavg())
    command = f".venv/bin/python bench/{script} {' '.join(args)}".strip()
    commands.append(command)
    print(f"\n$ {command}   (load average {' '.join(f'{x:.1f}' for x in os.getloadavg())})", flush=True)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, cwd=ROOT)
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        sys.stdout.write(done.stderr[-3000:])
        print(f"(exit {done.returncode})")
    print(f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return done.stdout


def last_json(out: str) -> Any:
    """The JSON object a benchmark printed last (None when it printed none: it failed)."""
    for line in reversed(out.strip().splitlines()):
        if line.startswith(("{", "[")):
            return json.loads(line)
    return None


def number(pattern: str, text: str) -> float | None:
    found = re.search(pattern, text)
    return float(found.group(1)) if found else None


def describe_machine() -> dict[str, Any]:
    cpu = platform.machine()
    try:
        models = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")]
        cpu = models[0] if models else cpu
        mem_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                           if line.startswith("MemTotal")))
    except (OSError, StopIteration, ValueError):
        mem_kib = 0
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem_kib / 1024 / 1024,
            "system": f"{platform.system()} {platform.release()}", "python": platform.python_version()}


# A fixed pure-Python loop, timed (CPU) in a fresh interpreter: how fast this machine's CPU is right now.
# A VM's speed drifts, and CPU figures drift with it (on 2026-12-02, within an hour and with the same
# code on a quiet machine, planning 5,000 assistants took 1.80 s and then 2.46 s of CPU, validate 0.41 s
# and then 0.61 s): the loop's time at the start and end of a run says how this run compares with another.
SPEED_LOOP = "import time; t = time.process_time(); sum(i * i for i in range(10**7)); print(time.process_time() - t)"


def machine_speed() -> float:
    """The median CPU seconds of SPEED_LOOP over three fresh processes."""
    times = [float(subprocess.run([sys.executable, "-c", SPEED_LOOP], capture_output=True, text=True,
                                  check=True).stdout) for _ in range(3)]
    return round(sorted(times)[1], 3)


def measure(quick: bool, runs: int, curve_runs: int) -> dict[str, Any]:
    bench = Runner()
    started = time.perf_counter()
    r: dict[str, Any] = {"machine": describe_machine(), "mode": "quick" if quick else "full", "runs": runs,
                         "curve_runs": 1 if quick else curve_runs,
                         "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), "loads": bench.loads,
                         "commands": bench.commands}
    r["speed_start_s"] = machine_speed()
    r["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                 cwd=ROOT).stdout.strip() or "unknown"
    line = bench("emulator_throughput.py")
    r["emulator"] = {"rps": number(r"(\d+(?:\.\d+)?) requests/s", line), "line": line.strip(),
                     "server_us": number(r"server (\d+)", line), "client_us": number(r"client (\d+)", line)}
    r["breakdown"] = last_json(bench("breakdown.py", "--runs", str(runs), "--json"))
    scale_args = ["--n", "1000", "--runs", str(runs), "--json"] + (["--skip-naive"] if quick else [])
    r["scale"] = last_json(bench("scale.py", *scale_args))
    r["ratelimit"] = last_json(bench("ratelimit.py", "--runs", str(runs), "--json"))
    out = bench("validate_bench.py")
    r["validate"] = {"cpu_s": number(r"CPU \(user\+sys\) ([\d.]+) s", out),
                     "cpu_spread": (re.findall(r"CPU \(user\+sys\) [\d.]+ s \(([\d.]+-[\d.]+)\)", out) or [""])[0],
                     "wall_s": number(r"wall ([\d.]+) s", out),
                     "in_process_cpu_s": number(r"in process: ([\d.]+) s CPU", out), "line": out.strip()}
    r["plan_cpu"] = last_json(bench("plan_cpu.py", "--n", *(["1000"] if quick else ["1000", "5000"]), "--json"))
    out = bench("apply_bench.py")
    r["apply200"] = {"median_s": number(r"median ([\d.]+) s", out), "bound_s": number(r"level bound: .*= ([\d.]+) s",
                                                                                        out)}
    curve_args = (["--n", "100", "1000", "--naive-n", "100", "--runs", "1"] if quick
                  else ["--n", "100", "500", "1000", "2000", "5000", "--naive-n", "100", "500", "--runs",
                        str(curve_runs)])
    r["curve"] = last_json(bench("plan_curve.py", *curve_args, "--json"))
    r["load_end"] = list(os.getloadavg())
    r["speed_end_s"] = machine_speed()
    r["finished"] = datetime.now(UTC).strftime("%H:%M")
    r["duration_s"] = time.perf_counter() - started
    return r


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run each, fewer points: a few minutes")
    parser.add_argument("--runs", type=int, default=None, help="runs per figure (default 3, quick 1)")
    parser.add_argument("--curve-runs", type=int, default=None, help="runs per point of the plot (default --runs)")
    parser.add_argument("--notes", type=Path, help="markdown added under the targets table")
    parser.add_argument("--from-json", type=Path, help="write the page from saved figures, measuring nothing")
    parser.add_argument("--out", type=Path, default=DOCS / "benchmarks.md")
    args = parser.parse_args()
    if args.from_json:
        results = json.loads(args.from_json.read_text())
    else:
        print(f"machine: {describe_machine()}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        runs = args.runs or (1 if args.quick else 3)
        # Byte-code for the package, as pip writes it when it installs one: with an editable install
        # under PYTHONDONTWRITEBYTECODE every process of every benchmark compiled reconciler's modules
        # again (~0.12 s of CPU each), a cost no installed copy pays.
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "reconciler")], check=True)
        results = measure(args.quick, runs, args.curve_runs or runs)
        (args.out.with_suffix(".json")).write_text(json.dumps(results, indent=1) + "\n")
    notes = args.notes.read_text() if args.notes else ""
    args.out.write_text(report.render(results, notes, (BENCH / "notes.md").read_text()))
    saved = "" if args.from_json else f" and {args.out.with_suffix('.json').name}, plot docs/plan-time.png"
    print(f"\nwrote {args.out}{saved}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
