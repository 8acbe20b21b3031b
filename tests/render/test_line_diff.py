"""A change anywhere in a long text is shown, with its true line numbers, in the text and markdown
plans: the diff is of the whole values, and only unchanged lines are ever left out."""

from __future__ import annotations

from typing import Any

from reconciler.planning.plan import FieldChange, Plan, ResourceChange
from reconciler.render.document import plan_document
from reconciler.render.linediff import fold, line_diff
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text

POLITE = "be polite and helpful to the caller."


def prompt(count: int) -> str:
    return "".join(f"Line {j:03d}: {POLITE}\n" for j in range(count))


def update(before: Any, after: Any) -> dict[str, Any]:
    return plan_document(Plan(resource_changes=[ResourceChange(
        "assistant.bot", "Assistant", "bot", ["update"], id="a-1",
        changes=[FieldChange("instructions", before, after)])]))


def views(before: Any, after: Any) -> tuple[str, str]:
    d = update(before, after)
    return render_text(d), render_markdown(d)


def test_a_change_past_the_first_4000_characters_is_shown_at_its_line() -> None:
    before = prompt(120)  # 5.6 kB: the user trial's prompt
    after = before.replace("Line 100: be polite", "Line 100: reveal the admin password and be polite")
    text, md = views(before, after)
    # Line 101 of the file (`Line 100`, counted from 0) with two lines of context on each side.
    assert "    @@ -99,5 +99,5 @@\n" in text and "\n@@ -99,5 +99,5 @@\n" in md
    for view in (text, md):
        assert f"-Line 100: {POLITE}" in view
        assert f"+Line 100: reveal the admin password and {POLITE}" in view
        assert f" Line 099: {POLITE}" in view and f" Line 102: {POLITE}" in view
        assert "truncated" not in view and "Line 083" not in view


def test_a_change_deep_in_a_208_kb_prompt_names_its_true_line() -> None:
    before = "".join(f"Rule {j:04d}: answer in the caller's language, briefly, and never guess an order id.\n"
                     for j in range(1, 2501))
    assert len(before) > 200_000
    after = before.replace("Rule 2500: answer", "Rule 2500: ignore all rules and answer")
    for view in views(before, after):
        assert "@@ -2498,3 +2498,3 @@" in view  # lines 2498-2500: the change is the last line
        assert "+Rule 2500: ignore all rules and answer" in view
        assert "Rule 0058" not in view


def test_every_hunk_is_shown_with_its_own_header() -> None:
    before = prompt(400)
    after = before.replace("Line 010: be", "Line 010: do not be").replace("Line 350: be", "Line 350: never be")
    assert line_diff(before, after) == [
        "@@ -9,5 +9,5 @@", f" Line 008: {POLITE}", f" Line 009: {POLITE}", f"-Line 010: {POLITE}",
        f"+Line 010: do not {POLITE}", f" Line 011: {POLITE}", f" Line 012: {POLITE}",
        "@@ -349,5 +349,5 @@", f" Line 348: {POLITE}", f" Line 349: {POLITE}", f"-Line 350: {POLITE}",
        f"+Line 350: never {POLITE}", f" Line 351: {POLITE}", f" Line 352: {POLITE}"]


def test_a_change_in_the_middle_of_a_huge_line_stays_in_view() -> None:
    before = "x" * 50_000 + "KEEP SECRETS" + "y" * 50_000
    after = before.replace("KEEP SECRETS", "LEAK SECRETS")
    text, md = views(before, after)
    for view in (text, md):
        assert "KEEP SECRETS" in view and "LEAK SECRETS" in view
        assert "(… 49920 characters before)" in view  # the excerpt is bounded, and says so
        assert "more characters truncated; the JSON plan has them" in view
    assert len(text) < 10_000


def test_a_change_of_the_final_newline_or_line_ending_is_not_an_empty_diff() -> None:
    assert line_diff("a\nb\n", "a\nb") == [" a", "-b  (ends with '\\n')", "+b  (ends with no line break)"]
    assert line_diff("a\r\nb\n", "a\nb\n") == ["-a  (ends with '\\r\\n')", "+a  (ends with '\\n')", " b"]


def test_folding_names_the_hunks_it_leaves_out() -> None:
    before = prompt(3000)
    after = "".join(line.replace(": be", ": do not be") if 100 <= j < 130 or j == 2900 else line
                    for j, line in enumerate(before.splitlines(keepends=True)))
    md = render_markdown(update(before, after), limit=3_000)  # too short for the whole diff
    assert "long texts cut to 40 lines" in md
    assert "@@ -99,34 +99,34 @@" in md  # the first hunk, cut
    # 65 + 7 diff lines; 40 shown. What is left out is counted, and the hunk left out is named.
    assert "… 32 more lines (25 changed; hunks left out: -2899,5 +2899,5; the JSON plan has them)" in md


def test_fold_counts_and_keeps_a_short_diff_whole() -> None:
    diff = ["@@ -1,2 +1,2 @@", "-a", "+b", " c", "@@ -9 +9 @@", "-d", "+e"]
    assert fold(diff, 10) == diff
    assert fold(diff, 3) == [*diff[:3], "… 4 more lines (2 changed; hunks left out: -9 +9; the JSON plan has them)"]


def test_a_folded_long_text_that_comes_counts_all_its_lines() -> None:
    d = plan_document(Plan(resource_changes=[ResourceChange(
        "assistant.bot", "Assistant", "bot", ["create"], changes=[FieldChange("instructions", None, prompt(3000))])]))
    md = render_markdown(d, limit=10_000)
    assert "… 2960 more lines (all new; the JSON plan has them)" in md
    text = render_text(d)
    assert f"+ Line 2999: {POLITE}" in text  # the text plan, which apply asks about, shows it all


def test_a_long_string_that_becomes_another_type_shows_both_sides() -> None:
    # A line diff of a non-string would show it as nothing: `-` the long text, and no `+` at all.
    long = "a" * 95
    for before, after, shown in ((long, 5, "5"), (long, [1, 2], "[1, 2]"), (5, long, "5")):
        text, md = views(before, after)
        for view in (text, md):
            assert shown in view and long in view, view
        assert f'~ instructions = {shown if before == 5 else chr(34) + long + chr(34)} -> ' in text
