"""Hostile manifests, generated (issue 17): random YAML structures with tags, anchors and aliases,
control characters, huge numbers and file references that escape the project. Whatever the input,
`reconciler validate` exits 0, or 1 with every problem at FILE:LINE:COL; never a traceback (exit 3),
a hang (each example has a deadline) or a memory blow-up.

The run is derandomised (the same examples every time, so CI is stable) and bounded: 200
examples, ~10 s on a loaded 2-core machine.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import main

LOCATED = re.compile(r"^.+:\d+:\d+: \S")
SUMMARY = re.compile(r"^\d+ error\(s\) in manifests$")
KEYS = ["apiVersion", "kind", "metadata", "name", "spec", "instructions", "instructions_file", "model",
        "greeting", "telephony_settings", "time_limit_secs", "voice_settings", "voice", "tools", "type",
        "dynamic_variables", "versions", "canary", "version", "percentage", "tags", "<<", "on", "1"]
FILES = ["/proc/self/environ", "/etc/passwd", "/dev/zero", "../../outside", "../../../../etc/hostname",
         "prompt.md", "loop.md", "fifo.md", "out.md", "zero.md", ".env", "sub", "", "prompt.md\x00x"]
WORDS = ["x", "1", "-0", "1.5", "~", "null", "yes", "maybe", "1.0e+400", ".inf", ".nan", "0x1F", "0o17",
         "1:30", "2001-12-14", "'quoted'", "''", "reconciler/v1", "Assistant", "Tool", "Project", "McpServer",
         "${env:FUZZ_SECRET}", "${env:UNSET_VAR}", "${env:", "openai/gpt-4o", "{{company}}"]
TAGS = ["", "", "", "!!str ", "!!int ", "!!float ", "!!bool ", "!!null ", "!!binary ", "!custom ", "!!map ",
        "!!seq ", "!!set ", "!!omap ", "!!timestamp ", "!<tag:example.com,1:x> "]

scalars = st.one_of(
    st.sampled_from(WORDS),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.tuples(st.sampled_from("-+1"), st.integers(1, 5000)).map(lambda t: t[0] + "7" * t[1]),  # huge
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=10).map(lambda t: json.dumps(t)),  # double-quoted, escapes included
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=6),  # raw: control characters too
    st.sampled_from(FILES).map(json.dumps),
)


@st.composite
def nodes(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(st.sampled_from(TAGS))
    anchor = f"&a{draw(st.integers(0, 3))} " if draw(st.integers(0, 9)) == 0 else ""
    choice = draw(st.integers(0, 9 if depth < 4 else 4))
    if choice <= 3:
        return tag + anchor + str(draw(scalars))
    if choice == 4:
        return f"*a{draw(st.integers(0, 3))}"
    if choice <= 6:
        items = draw(st.lists(nodes(depth + 1), max_size=4))
        return tag + anchor + "[" + ", ".join(items) + "]"
    pairs = draw(st.lists(st.tuples(st.sampled_from(KEYS), nodes(depth + 1)), max_size=5))
    return tag + anchor + "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs) + "}"


@st.composite
def manifests(draw: st.DrawFn) -> str:
    form = draw(st.integers(0, 3))
    if form == 0:  # anything at all
        return draw(st.text(max_size=200))
    spec = draw(nodes())
    ref, greeting = json.dumps(draw(st.sampled_from(FILES))), draw(nodes(3))
    head = ("apiVersion: reconciler/v1\nkind: Assistant\nmetadata: {name: fuzz}\n"
            f"spec: {{model: openai/gpt-4o, instructions_file: {ref}, greeting: {greeting}}}\n")
    if form == 1:
        return head
    if form == 2:
        return head + "---\n" + "apiVersion: reconciler/v1\nkind: Assistant\nmetadata: {name: f2}\nspec: " + spec
    bomb = "x: &b0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"x{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 9) + "]\n" for i in range(1, draw(st.integers(1, 9))))
    return "spec: " + spec + "\n" + bomb


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose neighbourhood holds every kind of hostile target the generator names."""
    (tmp_path / "outside").write_text("outside the project\n")
    root = tmp_path / "proj"
    (root / "sub").mkdir(parents=True)
    (root / "prompt.md").write_text("You help. ${env:FUZZ_SECRET}\n")
    (root / ".env").write_text("TELNYX_API_KEY=fuzz\n")
    (root / "loop.md").symlink_to("loop.md")
    (root / "out.md").symlink_to(tmp_path / "outside")
    (root / "zero.md").symlink_to("/dev/zero")
    os.mkfifo(root / "fifo.md")
    return root


@settings(max_examples=200, deadline=3000, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=manifests())
def test_validate_never_crashes_on_hostile_manifests(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                     text: str) -> None:
    # The fixture's folder is reused by every example on purpose: each one overwrites the manifest.
    monkeypatch.setenv("FUZZ_SECRET", "fuzz-secret-value-5c1a")
    manifest = project / "m.yaml"
    manifest.write_text(text, encoding="utf-8", errors="surrogatepass")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["validate", str(project)])
    stderr = err.getvalue()
    assert code in (0, 1), stderr
    assert "Traceback" not in stderr and "fuzz-secret-value-5c1a" not in stderr + out.getvalue()
    if code == 0:
        assert out.getvalue().startswith("OK: ")
    else:
        lines = stderr.splitlines()
        assert lines and SUMMARY.match(lines[-1]), stderr
        assert all(LOCATED.match(line) for line in lines[:-1]), stderr


def test_the_fuzz_run_stays_within_bounded_memory() -> None:
    """A guard on the run above: the peak resident size of this process stays far from a blow-up (the
    alias bombs in it would take gigabytes unbounded). The strict 200 MiB bound is asserted by the
    kernel in test_yaml_bounds.py."""
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert peak_mib < 1024
