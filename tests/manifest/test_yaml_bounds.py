"""YAML as untrusted input (issue 17): every bad value is one located problem, never a traceback, and
no document can make reading take unbounded memory or time (alias bombs, depth, size)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.manifest.limits import MAX_BUILT_NODES, MAX_COMPOSED_NODES, MAX_DEPTH
from tests.manifest.test_manifest_load import ASSISTANT
from tests.support.paths import REPO

Write = Callable[[str, str], Path]
ProblemsOf = Callable[..., list[tuple[str, int, int, str]]]

HEAD = ASSISTANT.format(name="a")
SEXAGESIMAL = sum(d * 60 ** (8 - i) for i, d in enumerate(range(1, 10)))
OUT_OF_RANGE = "number out of range: numbers must fit in a JSON number (at most about 1.8e308, finite)"


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("extra", "line", "col", "message"), [
    ("  greeting: !!float x\n", 7, 13, "'x' is not a valid !!float"),
    ("  telephony_settings: {time_limit_secs: !!int x}\n", 7, 41, "'x' is not a valid !!int"),
    ("  dynamic_variables: {on: !!bool maybe}\n", 7, 27, "'maybe' is not a valid !!bool"),
    ("  dynamic_variables: {n: !!null x}\n", 7, 26, "'x' is not a valid !!null"),
    (f"  telephony_settings: {{time_limit_secs: {'9' * 5000}}}\n", 7, 41, OUT_OF_RANGE),
    (f"  telephony_settings: {{time_limit_secs: 1{'0' * 309}}}\n", 7, 41, OUT_OF_RANGE),
    ("  telephony_settings: {time_limit_secs: 1.0e+400}\n", 7, 41, OUT_OF_RANGE),
    ("  telephony_settings: {time_limit_secs: .nan}\n", 7, 41, OUT_OF_RANGE),
    ("  telephony_settings: {time_limit_secs: !!int 1:2:3:4:5:6:7:8:9}\n", 7, 41,
     f"spec.telephony_settings.time_limit_secs: {SEXAGESIMAL} is above the maximum of 14400"),
    ("  dynamic_variables: !custom {a: b}\n", 7, 22, "unsupported YAML tag !custom: only JSON's types are "
     "allowed (mappings, lists, strings, numbers, booleans, null)"),
    ("  tags: !!set {a, b}\n", 7, 9, "unsupported YAML tag !!set: only JSON's types are allowed (mappings, "
     "lists, strings, numbers, booleans, null)"),
    ("  tags: !custom [a]\n", 7, 9, "unsupported YAML tag !custom: only JSON's types are allowed (mappings, "
     "lists, strings, numbers, booleans, null)"),
    ("  dynamic_variables: {!custom k: v}\n", 7, 23, "unsupported YAML tag !custom: only JSON's types are "
     "allowed (mappings, lists, strings, numbers, booleans, null)"),
    ("  model: null\n", 7, 10, "spec.model: cannot be null: the API requires a model on every assistant "
     "(leave model out to keep the current one)"),
])
def test_a_bad_value_is_one_located_problem(write: Write, problems_of: ProblemsOf, extra: str, line: int,
                                            col: int, message: str) -> None:
    path = write("a.yaml", HEAD + extra)
    assert problems_of([path]) == [(str(path), line, col, message)]


@pytest.mark.parametrize(("text", "line", "col", "char"), [
    ('  greeting: "a\x01b"\n', 7, 15, "U+0001"),
    ("  greeting: a\x1bb\n", 7, 14, "U+001B"),
    ("  greeting: ok\n# \x7f in a comment\n", 8, 3, "U+007F"),
])
def test_control_characters_are_reported_where_they_are(write: Write, problems_of: ProblemsOf, text: str,
                                                        line: int, col: int, char: str) -> None:
    path = write("c.yaml", HEAD + text)
    ((_, got_line, got_col, message),) = problems_of([path])
    assert (got_line, got_col) == (line, col)
    assert message == (f"control character {char} is not allowed in YAML; write it as an escape (such as \\x01) "
                       "inside a double-quoted string")
    assert "\n" not in message


def test_an_alias_bomb_is_refused_before_it_is_built(write: Write, problems_of: ProblemsOf) -> None:
    path = write("bomb.yaml", billion_laughs())
    ((_, line, col, message),) = problems_of([path])
    assert (line, col) == (6, 4)  # the anchor that first expands beyond the limit
    assert message.startswith("YAML document expands to 490,329,064 nodes (keys and aliases included); at most "
                              f"{MAX_BUILT_NODES:,} are allowed")


def test_aliases_cannot_nest_a_document_deeper_than_the_limit(write: Write, problems_of: ProblemsOf) -> None:
    # Each anchor is shallow where it is written, but the chain nests 400 deep once expanded.
    chain = ["- &a0 [x]"] + [f"- &a{i} [*a{i - 1}]" for i in range(1, 400)]
    path = write("chain.yaml", "\n".join(chain) + "\n")
    ((_, _, _, message),) = problems_of([path])
    assert message == f"YAML nesting deeper than {MAX_DEPTH} levels (aliases included)"


def test_deep_and_large_documents_are_refused(write: Write, problems_of: ProblemsOf) -> None:
    deep = write("deep.yaml", "a: " + "[" * 60 + "]" * 60 + "\n")
    ((_, _, _, message),) = problems_of([deep])
    assert "nesting deeper than" in message
    block = "\n".join("  " * i + f"k{i}:" for i in range(60)) + " v\n"
    deep_block = write("deep_block.yaml", block)
    ((_, _, _, message),) = problems_of([deep_block])
    assert "nesting deeper than" in message
    # Larger than libyaml's composer is given: counted while composing.
    wide = write("wide.yaml", "a: [" + ",".join(["1"] * (MAX_COMPOSED_NODES + 10)) + "]\n")
    ((_, line, _, message),) = problems_of([wide])
    assert line == 1 and message == f"YAML document has more than {MAX_COMPOSED_NODES:,} nodes"


def test_a_recursive_alias_and_an_undefined_one_are_located(write: Write, problems_of: ProblemsOf) -> None:
    recursive = write("r.yaml", HEAD + "  dynamic_variables: &d {self: *d}\n")
    assert problems_of([recursive]) == [(str(recursive), 7, 22, "recursive YAML alias")]
    undefined = write("u.yaml", HEAD + "  greeting: *nowhere\n")
    ((_, line, col, message),) = problems_of([undefined])
    assert (line, col) == (7, 13) and "found undefined alias" in message


def test_large_legitimate_documents_still_load(write: Write, problems_of: ProblemsOf) -> None:
    """Anchors used as intended, in a file too large for libyaml's composer (the bounded one reads it)."""
    text = "---\n".join(
        f"apiVersion: reconciler/v1\nkind: Assistant\nmetadata: {{name: a{i}}}\nspec:\n  instructions: hi\n"
        "  voice_settings: &v {voice: Telnyx.KokoroTTS.af_heart}\n  dynamic_variables: {a: *v}\n"
        for i in range(2000))
    many = write("many.yaml", text)
    assert many.stat().st_size > 256 * 1024
    assert problems_of([many]) == []


def test_the_alias_bomb_stays_under_200_mib(tmp_path: Path) -> None:
    """The must-show bound, asserted by the kernel: the CLI runs with its address space capped at
    200 MiB (RLIMIT_AS), so going over it would be a MemoryError (exit 3), not exit 1."""
    (tmp_path / "bomb.yaml").write_text(textwrap.dedent(HEAD) + "  dynamic_variables:\n" +
                                        textwrap.indent(billion_laughs(), "    "))
    limit = 200 * 1024 * 1024
    script = ("import resource, sys\n"
              f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
              "from reconciler.cli import main\n"
              "sys.exit(main(['validate', 'bomb.yaml']))\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1, done.stderr
    assert "bomb.yaml:13:8: YAML document expands to" in done.stderr and "Traceback" not in done.stderr
    assert resource.getrlimit(resource.RLIMIT_AS)[0] != limit  # the cap was the child's alone
