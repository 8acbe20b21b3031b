"""The text and markdown views, built from the JSON plan document."""

from __future__ import annotations

from typing import Any

from reconciler.model import SensitiveStr
from reconciler.planning.plan import FieldChange, Plan, ResourceChange
from reconciler.render.document import plan_document
from reconciler.render.linediff import line_diff
from reconciler.render.markdown import LIMIT, render_markdown
from reconciler.render.text import render_text


def doc(*changes: ResourceChange, warnings: list[str] | None = None) -> dict[str, Any]:
    return plan_document(Plan(resource_changes=list(changes), warnings=warnings or []))


def test_summary_line_and_symbols() -> None:
    text = render_text(doc(
        ResourceChange("tool.a", "Tool", "a", ["create"], changes=[FieldChange("type", None, "webhook")]),
        ResourceChange("assistant.b", "Assistant", "b", ["update"], id="assistant-1",
                       changes=[FieldChange("greeting", "Hello", "Hi")]),
        ResourceChange("mcp_server.c", "McpServer", "c", ["delete"], id="m-1"),
        ResourceChange("assistant.d", "Assistant", "d", ["no-op"], id="assistant-2"),
    ))
    assert "  + tool.a {" in text and '+ type = "webhook"' in text
    assert '~ greeting = "Hello" -> "Hi"' in text
    assert "  - mcp_server.c {" in text and "will be destroyed" in text
    assert "assistant.d" not in text  # no-ops are not shown
    assert text.rstrip().endswith("Plan: 1 to add, 1 to change, 1 to destroy.")
    assert "\033[" not in text


def test_colour_only_when_asked() -> None:
    d = doc(ResourceChange("tool.a", "Tool", "a", ["create"], changes=[FieldChange("type", None, "x")]))
    assert "\033[32m" in render_text(d, color=True)
    assert "\033[" not in render_text(d, color=False)


def test_long_strings_are_shown_as_a_line_diff() -> None:
    before = "You are helpful.\nAlways be brief.\nNever share secrets.\nEnd politely."
    after = "You are helpful.\nAlways be very brief.\nNever share secrets.\nEnd politely."
    text = render_text(doc(ResourceChange("assistant.a", "Assistant", "a", ["update"], id="x",
                                          changes=[FieldChange("instructions", before, after)])))
    assert "~ instructions:" in text
    assert "-Always be brief." in text and "+Always be very brief." in text
    assert "End politely." in text.split("~ instructions:")[1]  # context lines
    assert "You are helpful.\\n" not in text  # not one escaped JSON string


def test_a_line_diff_of_a_long_repetitive_text_shows_only_the_change_with_its_context() -> None:
    lines = [f"rule {i % 7}" for i in range(3000)]  # repeated lines: the slow case for difflib
    before, after = "\n".join(lines), "\n".join([*lines[:1500], "a new rule", *lines[1500:]])
    # Each hunk says where it is, in unified diff's line numbers (1-based, `first,count`).
    hunk = [" rule 0", " rule 1", "+a new rule", " rule 2", " rule 3"]
    assert line_diff(before, after) == ["@@ -1499,4 +1499,5 @@", *hunk]
    assert line_diff(after, before) == ["@@ -1499,5 +1499,4 @@", *(line.replace("+", "-") for line in hunk)]
    assert line_diff("a\nb\n", "a\nb\nc\n") == [" a", " b", "+c"]  # nothing left out: no header
    assert line_diff("x\n" + before, "y\n" + before)[:3] == ["@@ -1,3 +1,3 @@", "-x", "+y"]


def test_sensitive_values_never_rendered() -> None:
    secret = SensitiveStr("hunter2", "${env:PASSWORD}")
    d = doc(ResourceChange("tool.a", "Tool", "a", ["update"], id="t",
                           changes=[FieldChange("webhook.headers[0].value", "old-hunter1", secret, sensitive=True)]))
    for view in (str(d), render_text(d), render_markdown(d)):
        assert "hunter" not in view
        assert "(sensitive)" in view


def test_markdown_summary_first_and_destroy_warning() -> None:
    md = render_markdown(doc(
        ResourceChange("assistant.old", "Assistant", "old", ["delete"], id="assistant-9"),
        ResourceChange("assistant.b", "Assistant", "b", ["update"], id="assistant-1",
                       changes=[FieldChange("greeting", "Hello", "Hi")]),
        warnings=["tool.x: not deleted: still used by assistant y (assistant-3)"],
    ))
    assert md.startswith("### Plan: 0 to add, 1 to change, 1 to destroy.")
    assert "> [!WARNING]" in md and "<code>assistant.old</code>" in md
    assert "still used by assistant y" in md
    # Diff marks in column 0, so that GitHub colours the lines of a ```diff block.
    assert md.count("<details>") == 2 and '\n- greeting = "Hello"\n+ greeting = "Hi"\n' in md


def test_markdown_diff_lines_start_with_a_mark() -> None:
    before = "\n".join(f"line {i}" for i in range(10))
    md = render_markdown(doc(
        ResourceChange("assistant.a", "Assistant", "a", ["create"],
                       changes=[FieldChange("voice_settings", None, {"voice": "v", "voice_speed": 1.2} | {
                           f"k{i}": "x" * 10 for i in range(10)})]),
        ResourceChange("assistant.b", "Assistant", "b", ["update"], id="x",
                       changes=[FieldChange("instructions", before, before.replace("line 5", "line five"))]),
    ))
    block_lines = [line for block in md.split("```diff\n")[1:] for line in block.split("\n```")[0].split("\n")]
    assert all(line[:1] in "+-!@ " for line in block_lines), block_lines  # `@@`: a hunk header
    assert "-line 5" in block_lines and "+line five" in block_lines and "! instructions:" in block_lines
    assert all(line.startswith("+ ") for line in block_lines[:12])  # a created object, line by line


def test_markdown_stays_under_the_comment_limit() -> None:
    big = "line of a long prompt\n" * 400
    changes = [ResourceChange(f"assistant.a{i:04d}", "Assistant", f"a{i:04d}", ["update"], id=f"x{i}",
                              changes=[FieldChange("instructions", big, big + "one more line\n"),
                                       FieldChange("greeting", "Hello", "Hi")])
               for i in range(600)]
    md = render_markdown(doc(*changes))
    assert len(md) <= LIMIT
    assert md.startswith("### Plan: 0 to add, 600 to change, 0 to destroy.")
    assert "folded to keep this comment under" in md
    assert "assistant.a0000" in md


def test_markdown_limit_with_more_resources_than_lines_fit() -> None:
    changes = [ResourceChange(f"assistant.{'n' * 80}{i}", "Assistant", "n", ["create"]) for i in range(2000)]
    md = render_markdown(doc(*changes))
    assert len(md) <= LIMIT
    assert "more\n" in md and "resources omitted" in md


def test_markdown_small_plan_is_not_folded() -> None:
    md = render_markdown(doc(ResourceChange("tool.a", "Tool", "a", ["create"], changes=[FieldChange("t", None, 1)])))
    assert "folded" not in md


def test_markdown_folds_many_warnings() -> None:
    warnings = [f"tool.t{i}: not deleted: still used by assistant a{i} (assistant-{i})" for i in range(3000)]
    md = render_markdown(doc(ResourceChange("tool.x", "Tool", "x", ["delete"], id="t"), warnings=warnings))
    assert len(md) <= LIMIT and "and 2980 more warnings" in md
