"""Requests per second the emulator serves over real loopback HTTP, with no injected latency.

By default the emulator runs as its own process (`python -m reconciler emulator --port 0`), as it does in
use, so client and server do not share one interpreter lock; `--in-process` serves it from a thread of
this process instead. Client processes (`--processes`, 2 by default), each with a few threads with their
own keep-alive httpx client, send a mix of assistant reads, tool list pages and assistant updates for a
bounded duration. httpx costs two to three times the emulator's CPU per request, so clients sharing one
interpreter lock (`--processes 0`, how this benchmark ran before) measure the client, not the emulator.

Besides requests/s (wall clock, which moves with whatever else the machine runs) it prints the CPU
(user + sys) each side spent per request during the timed window: the server's from /proc (Linux, the
emulator in its own process), the client's from `time.process_time`. CPU per request is the figure
that stays comparable on a loaded machine; when the client's is the larger, the client bounds req/s.

    .venv/bin/python bench/emulator_throughput.py [--seconds 3] [--processes 2] [--threads 2] [--in-process]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {"Authorization": "Bearer bench-key"}


def process_cpu_s(pid: int) -> float | None:
    """User + sys CPU seconds of process `pid` so far (all its threads), or None where /proc is absent."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime and stime are fields 14 and 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ServerCost:
    """What the emulator process spent in the timed window: CPU (user + sys, from /proc), and with
    `callgrind_out` (the emulator runs under valgrind's callgrind) the user-space instructions it executed,
    a figure other load on the machine does not move."""

    def __init__(self, pid: int | None, callgrind_out: Path | None = None) -> None:
        self.pid = pid
        self.callgrind_out = callgrind_out
        self.cpu_s: float | None = None
        self.instructions: int | None = None
        self._cpu_before: float | None = None

    def start(self) -> None:
        """The window opens: note the CPU so far and zero callgrind's counters."""
        if self.pid is None:
            return
        if self.callgrind_out is not None:
            subprocess.run(["callgrind_control", "--zero", str(self.pid)], check=True, capture_output=True)
        self._cpu_before = process_cpu_s(self.pid)

    def stop(self) -> None:
        """The window closes: CPU since `start`, and callgrind's count (dumped to a numbered file)."""
        if self.pid is None:
            return
        after = process_cpu_s(self.pid)
        if after is not None and self._cpu_before is not None:
            self.cpu_s = after - self._cpu_before
        if self.callgrind_out is not None:
            subprocess.run(["callgrind_control", "--dump", str(self.pid)], check=True, capture_output=True)
            dumps = sorted(self.callgrind_out.parent.glob(self.callgrind_out.name + ".*"))
            found = re.search(r"^(?:totals|summary): (\d+)", dumps[-1].read_text(), re.MULTILINE) if dumps else None
            self.instructions = int(found.group(1)) if found else None


@contextlib.contextmanager
def subprocess_emulator(wrapper: tuple[str, ...] = ()) -> Iterator[tuple[str, int | None]]:
    """Start `reconciler emulator --port 0` (under `wrapper`, e.g. valgrind) and yield its base URL and pid;
    SIGTERM it afterwards."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([*wrapper, sys.executable, "-m", "reconciler", "emulator", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    try:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=120 if wrapper else 15):
            raise RuntimeError("the emulator did not start in time")
        found = re.search(r"http://[\d.]+:\d+", proc.stdout.readline())
        if found is None:
            raise RuntimeError("the emulator did not print its URL")
        yield found.group(0), proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextlib.contextmanager
def thread_emulator() -> Iterator[tuple[str, int | None]]:
    """Serve the emulator from a thread of this process (its CPU is not told apart from the client's)."""
    from reconciler.emulator.server import serve_in_thread

    url, stop = serve_in_thread()
    try:
        yield url, None
    finally:
        stop()


def seed(base: str) -> tuple[str, str]:
    """Create one tool and one assistant to read; returns their ids."""
    with httpx.Client(base_url=f"{base}/v2", headers=HEADERS, timeout=10) as client:
        tool = client.post("/ai/tools", json={"type": "webhook", "display_name": "bench",
                                              "webhook": {"name": "w", "description": "d", "url": "https://x"}})
        bot = client.post("/ai/assistants", json={"name": "bench", "instructions": "Be quick.",
                                                  "tool_ids": [tool.json()["id"]]})
        return tool.json()["id"], bot.json()["id"]


def worker(base: str, assistant: str, index: int) -> tuple[httpx.Client, list[httpx.Request]]:
    """One keep-alive client, connected, and the mix of requests it repeats.

    Requests are built once and re-sent: httpx spends about as long building a request (URL merging,
    header normalisation) as the round trip takes, and that cost belongs to the client, not the emulator.
    """
    client = httpx.Client(base_url=f"{base}/v2", headers=HEADERS, timeout=10)
    requests = [
        client.build_request("GET", f"/ai/assistants/{assistant}"),
        client.build_request("GET", f"/ai/assistants/{assistant}"),
        client.build_request("GET", "/ai/tools", params={"page[size]": 10}),
        client.build_request("POST", f"/ai/assistants/{assistant}", json={"greeting": f"hi {index}"}),
    ]
    for request in requests:  # connect, and every first-use cost (a validator built), before the timed window
        client.send(request).raise_for_status()
    return client, requests


def run_threads(pairs: list[tuple[httpx.Client, list[httpx.Request]]], seconds: float) -> tuple[int, float, list[str]]:
    """Each client sends its mix from its own thread for `seconds`; returns (requests, wall s, failures)."""
    counts = [0] * len(pairs)
    failures: list[str] = []

    def loop(index: int) -> None:
        client, requests = pairs[index]
        done = 0
        while time.perf_counter() < deadline:
            response = client.send(requests[done % len(requests)])
            if response.status_code != 200:
                failures.append(f"{response.request.method} {response.request.url}: {response.status_code}")
                break
            done += 1
        counts[index] = done

    start = time.perf_counter()
    deadline = start + seconds
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(pairs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 30)
    return sum(counts), time.perf_counter() - start, failures


def client_process(base: str, assistant: str, seconds: float, threads: int, index: int, ready: Any,
                   results: Any) -> None:
    """A client process: connect `threads` clients, wait for every process (`ready`), send for `seconds`,
    and put (requests, wall s, CPU s, failures) on `results`."""
    pairs = [worker(base, assistant, index * threads + i) for i in range(threads)]
    ready.wait(timeout=120)
    cpu = time.process_time()
    done, wall, failures = run_threads(pairs, seconds)
    results.put((done, wall, time.process_time() - cpu, failures))
    for client, _ in pairs:
        client.close()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print requests/s and CPU (or instructions) per request."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--processes", type=int, default=2,
                        help="client processes (0: client threads in this process, sharing its interpreter lock)")
    parser.add_argument("--threads", type=int, default=2, help="keep-alive clients (threads) per client process")
    parser.add_argument("--in-process", action="store_true", help="serve from a thread of this process")
    parser.add_argument("--callgrind", action="store_true",
                        help="run the emulator under valgrind's callgrind and count its instructions per request "
                             "(about 50x slower: requests/s is then meaningless, instructions are exact)")
    args = parser.parse_args(argv)
    if args.callgrind and (args.in_process or shutil.which("valgrind") is None):
        print("--callgrind needs valgrind on PATH and the emulator in its own process", file=sys.stderr)
        return 2
    with contextlib.ExitStack() as stack:
        if args.in_process:
            base, pid = stack.enter_context(thread_emulator())
            cost = ServerCost(None)
        elif args.callgrind:
            out = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "callgrind.out"
            base, pid = stack.enter_context(subprocess_emulator(
                ("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no")))
            cost = ServerCost(pid, out)
        else:
            base, pid = stack.enter_context(subprocess_emulator())
            cost = ServerCost(pid)
        _, assistant = seed(base)
        if args.processes:
            total, elapsed, client_cpu, failures = in_processes(base, assistant, args, cost)
        else:
            pairs = [worker(base, assistant, i) for i in range(args.threads)]
            client_before = time.process_time()
            cost.start()
            total, elapsed, failures = run_threads(pairs, args.seconds)
            cost.stop()
            client_cpu = time.process_time() - client_before
    if failures:
        print(f"failed: {failures[0]}", file=sys.stderr)
        return 1
    mode = "in-process thread" if args.in_process else "separate process" + (" under callgrind" * args.callgrind)
    clients = (f"{args.processes} client processes x {args.threads} keep-alive clients" if args.processes
               else f"{args.threads} keep-alive clients in one process")
    print(f"{total / elapsed:.0f} requests/s ({total} requests in {elapsed:.2f} s, {clients}, emulator in a {mode}, "
          f"{os.cpu_count()} CPUs)")
    if total:
        cpu = [f"client {client_cpu / total * 1e6:.0f}"]
        if cost.cpu_s is not None:
            cpu.insert(0, f"server {cost.cpu_s / total * 1e6:.0f}")
        print(f"CPU (user+sys) per request: {', '.join(cpu)} us; load average {os.getloadavg()[0]:.1f}")
        if cost.instructions is not None:
            print(f"emulator: {cost.instructions / total / 1000:.0f} k instructions (user space) per request")
    return 0


def in_processes(base: str, assistant: str, args: argparse.Namespace,
                 cost: ServerCost) -> tuple[int, float, float, list[str]]:
    """Run the clients in `args.processes` processes; (requests, wall s, client CPU s, failures)."""
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Barrier(args.processes + 1)
    results = ctx.Queue()
    procs = [ctx.Process(target=client_process, args=(base, assistant, args.seconds, args.threads, i, ready, results))
             for i in range(args.processes)]
    for proc in procs:
        proc.start()
    try:
        cost.start()
        ready.wait(timeout=120)  # every client connected: the window starts now for all of them
        got = [results.get(timeout=args.seconds + 60) for _ in procs]
        cost.stop()
    finally:
        for proc in procs:
            proc.join(timeout=30)
    return (sum(g[0] for g in got), max(g[1] for g in got), sum(g[2] for g in got), [f for g in got for f in g[3]])


if __name__ == "__main__":
    sys.exit(main())
