"""Benchmark (issue 17): two applies of one project started together, N trials, against one emulator.

A `reconciler emulator` process with injected latency; a generated project of 100 resources (10
shared tools, 6 MCP servers, 28 assistants each with a named version and a canary). Each trial resets
the emulator, starts two `reconciler apply --auto-approve` processes at once, waits for both, counts
duplicated names per kind through the API, then runs `plan --detailed-exitcode` (0 = converged).
Prints one line per trial and a summary; exit status 1 if any trial duplicated or did not converge.

    .venv/bin/python bench/concurrent_apply.py [--trials 10] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KEY = "bench-key"

from tests.support.project import generate_project  # noqa: E402  (after the path is set)


def _names(http: httpx.Client) -> dict[str, Counter[str]]:
    assistants = http.get("/ai/assistants").json()["data"]
    tools = http.get("/ai/tools", params={"page[size]": 100}).json()["data"]
    mcps = http.get("/ai/mcp_servers", params={"page[size]": 100}).json()
    versions: Counter[str] = Counter()
    for a in assistants:
        for v in http.get(f"/ai/assistants/{a['id']}/versions").json()["data"]:
            if v.get("version_id") != a.get("version_id"):
                versions[f"{a['name']}/{v.get('version_name')}"] += 1
    return {"assistants": Counter(a["name"] for a in assistants), "tools": Counter(t["display_name"] for t in tools),
            "mcp_servers": Counter(m["name"] for m in mcps), "versions": versions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args(argv)
    emulator = subprocess.Popen([sys.executable, "-m", "reconciler", "emulator", "--port", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    assert emulator.stdout is not None
    url = emulator.stdout.readline().split("listening on ")[1].split()[0]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TELNYX_API_KEY": KEY, "TELNYX_BASE_URL": f"{url}/v2"}
    bad = 0
    outcomes: Counter[str] = Counter()
    try:
        with tempfile.TemporaryDirectory() as tmp, httpx.Client(base_url=f"{url}/v2", timeout=30,
                                                                headers={"Authorization": f"Bearer {KEY}"}) as http:
            project = Path(tmp) / "proj"
            declared = generate_project(project, tools=10, mcp_servers=6, assistants=28, prefix="race")
            for trial in range(1, args.trials + 1):
                httpx.post(f"{url}/_emulator/reset", json={}).raise_for_status()
                httpx.post(f"{url}/_emulator/faults", json={"latency_ms": args.latency_ms}).raise_for_status()
                started = time.perf_counter()
                runs = [subprocess.Popen([sys.executable, "-m", "reconciler", "apply", str(project), "--auto-approve"],
                                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                        for _ in range(2)]
                results: list[Any] = [(r.wait(timeout=600), *r.communicate()) for r in runs]
                took = time.perf_counter() - started
                httpx.post(f"{url}/_emulator/faults", json={"latency_ms": 0}).raise_for_status()
                names = _names(http)
                duplicates = sum(c - 1 for counter in names.values() for c in counter.values() if c > 1)
                plan = subprocess.run([sys.executable, "-m", "reconciler", "plan", str(project), "--detailed-exitcode"],
                                      env=env, capture_output=True, text=True, timeout=600)
                kinds = []
                for code, out, err in results:
                    kind = ("applied" if "Apply complete!" in out else "nothing to do" if "No changes." in out
                            else "stopped: concurrent run" if "another run of reconciler" in err else "OTHER")
                    kinds.append(f"{code} ({kind})")
                    outcomes[kind] += 1
                honest = all(not k.endswith("(OTHER)") for k in kinds)
                ok = duplicates == 0 and plan.returncode == 0 and honest
                bad += not ok
                print(f"trial {trial:2d}: {declared} resources, exits {kinds[0]}, {kinds[1]}; duplicates {duplicates}; "
                      f"plan --detailed-exitcode {plan.returncode}; {took:.1f} s{'' if ok else '  <-- FAILED'}",
                      flush=True)
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    print(f"{args.trials - bad}/{args.trials} trials: 0 duplicates, honest exit codes, converged; outcomes "
          + ", ".join(f"{k} x{n}" for k, n in sorted(outcomes.items())))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
