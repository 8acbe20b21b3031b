"""Requests per second the emulator serves over real loopback HTTP, with no injected latency.

By default the emulator runs as its own process (`python -m reconciler emulator --port 0`), as it does in
use, so client and server do not share one interpreter lock; `--in-process` serves it from a thread of
this process instead. A few client threads, each with its own keep-alive httpx client, send a mix of
assistant reads, tool list pages and assistant updates for a bounded duration.

    .venv/bin/python bench/emulator_throughput.py [--seconds 3] [--threads 3] [--in-process]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {"Authorization": "Bearer bench-key"}


@contextlib.contextmanager
def subprocess_emulator() -> Iterator[str]:
    """Start `reconciler emulator --port 0` and yield its base URL; SIGTERM it afterwards."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", "emulator", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    try:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=15):
            raise RuntimeError("the emulator did not start within 15 s")
        found = re.search(r"http://[\d.]+:\d+", proc.stdout.readline())
        if found is None:
            raise RuntimeError("the emulator did not print its URL")
        yield found.group(0)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextlib.contextmanager
def thread_emulator() -> Iterator[str]:
    """Serve the emulator from a thread of this process."""
    from reconciler.emulator.server import serve_in_thread

    url, stop = serve_in_thread()
    try:
        yield url
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


def worker(base: str, assistant: str, deadline: float, counts: list[int], index: int,
           failures: list[str]) -> None:
    """Send requests until the deadline on one keep-alive connection.

    Requests are built once and re-sent: httpx spends about as long building a request (URL merging,
    header normalisation) as the round trip takes, and that cost belongs to the client, not the emulator.
    """
    done = 0
    with httpx.Client(base_url=f"{base}/v2", headers=HEADERS, timeout=10) as client:
        requests = [
            client.build_request("GET", f"/ai/assistants/{assistant}"),
            client.build_request("GET", f"/ai/assistants/{assistant}"),
            client.build_request("GET", "/ai/tools", params={"page[size]": 10}),
            client.build_request("POST", f"/ai/assistants/{assistant}", json={"greeting": f"hi {index}"}),
        ]
        while time.perf_counter() < deadline:
            response = client.send(requests[done % len(requests)])
            if response.status_code != 200:
                failures.append(f"{response.request.method} {response.request.url}: {response.status_code}")
                return
            done += 1
    counts[index] = done


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print requests/s."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--in-process", action="store_true", help="serve from a thread of this process")
    args = parser.parse_args(argv)
    with (thread_emulator() if args.in_process else subprocess_emulator()) as base:
        _, assistant = seed(base)
        counts = [0] * args.threads
        failures: list[str] = []
        start = time.perf_counter()
        deadline = start + args.seconds
        threads = [threading.Thread(target=worker, args=(base, assistant, deadline, counts, i, failures))
                   for i in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.seconds + 30)
        elapsed = time.perf_counter() - start
    if failures:
        print(f"failed: {failures[0]}", file=sys.stderr)
        return 1
    total = sum(counts)
    mode = "in-process thread" if args.in_process else "separate process"
    print(f"{total / elapsed:.0f} requests/s ({total} requests in {elapsed:.2f} s, {args.threads} keep-alive "
          f"clients, emulator in a {mode}, {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
