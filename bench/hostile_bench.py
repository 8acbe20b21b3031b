"""Benchmark: how fast and how small the refusal of hostile manifests is (issue 17).

Runs the real CLI (`python -m reconciler validate`) in a fresh process per case, with its address space
capped at 200 MiB (RLIMIT_AS), and prints the time `main()` takes to exit (and the process's, with
interpreter start and imports) and the peak resident size, for: the
9-level billion-laughs alias bomb, a 400-deep alias chain, a document over the composed-node limit,
`instructions_file: /dev/zero` through a symlink, and a FIFO. Targets: exit 1, under 200 MiB, under 1 s (10 s for the
document over the node limit, composed up to the limit first).

    .venv/bin/python bench/hostile_bench.py [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 200 * 1024 * 1024
CHILD = f"""
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({LIMIT}, {LIMIT}))
from reconciler.cli import main
import reconciler.commands.validate  # imports are timed apart, in the process figure
started = time.perf_counter()
code = main(sys.argv[1:])
took = time.perf_counter() - started
sys.stderr.write("PEAK %d %.4f\\n" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, took))
sys.exit(code)
"""
HEAD = "apiVersion: reconciler/v1\nkind: Assistant\nmetadata: {name: a}\nspec:\n"


def bomb() -> str:
    lines = ['  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"  {cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return HEAD + "  instructions: hi\n  dynamic_variables:\n" + "\n".join("  " + line for line in lines) + "\n"


def cases(folder: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    (folder / "bomb.yaml").write_text(bomb())
    out["billion laughs (9 levels)"] = folder / "bomb.yaml"
    chain = ["- &a0 [x]"] + [f"- &a{i} [*a{i - 1}]" for i in range(1, 400)]
    (folder / "chain.yaml").write_text("\n".join(chain) + "\n")
    out["alias chain 400 deep"] = folder / "chain.yaml"
    (folder / "wide.yaml").write_text("a: [" + ",".join(["1"] * 250_000) + "]\n")
    out["250,000-node document"] = folder / "wide.yaml"
    dev = folder / "dev"
    dev.mkdir()
    (dev / "zero.md").symlink_to("/dev/zero")
    (dev / "a.yaml").write_text(HEAD + "  instructions_file: zero.md\n")
    out["instructions_file -> /dev/zero"] = dev / "a.yaml"
    fifo = folder / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / "p.md")
    (fifo / "a.yaml").write_text(HEAD + "  instructions_file: p.md\n")
    out["instructions_file: a FIFO"] = fifo / "a.yaml"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best is reported")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in cases(Path(tmp)).items():
            best, wall, peak, code = float("inf"), float("inf"), 0, None
            for _ in range(args.repeat):
                started = time.perf_counter()
                done = subprocess.run([sys.executable, "-c", CHILD, "validate", str(path)], env=env,
                                      capture_output=True, text=True, timeout=60)
                wall = min(wall, time.perf_counter() - started)
                code = done.returncode
                if "PEAK " in done.stderr:
                    kib, seconds = done.stderr.rsplit("PEAK ", 1)[1].split()
                    peak, best = max(peak, int(kib) // 1024), min(best, float(seconds))
            # A document over the node limit is composed up to the limit by the Python composer first.
            budget = 10.0 if name.endswith("document") else 1.0
            ok = code == 1 and best < budget and 0 < peak < 200
            results.append({"case": name, "exit": code, "seconds": round(best, 3), "process_seconds": round(wall, 3),
                            "peak_mib": peak, "ok": ok})
    if args.json:
        print(json.dumps(results))
    else:
        for r in results:
            print(f"{r['case']:<32} exit {r['exit']}  {r['seconds']:.3f} s in main() "
                  f"({r['process_seconds']:.2f} s with interpreter start)  peak {r['peak_mib']} MiB  "
                  f"{'ok' if r['ok'] else 'OVER TARGET'}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
