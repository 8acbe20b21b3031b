"""`plan --format json` writes exactly json.dumps(doc, indent=2): its faster writer of no-op entries
(render/document.py, plan_json) is compared with json's own text over plans of every shape."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model import SensitiveStr
from reconciler.planning.plan import FieldChange, Orphan, Plan, ResourceChange
from reconciler.render.document import Origin, plan_document, plan_json

# Strings a name, an id or a path could hold, the awkward ones included: quotes, backslashes,
# control characters, `%` (the layout is a format string), non-ASCII and astral characters.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12) | st.sampled_from(
    ['"', "\\", "%s", "%%", "\x00address", "\n", "\u2028", "é", "\U0001f600", ""])
VALUE: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)


@st.composite
def changes(draw: st.DrawFn) -> ResourceChange:
    actions = draw(st.sampled_from([["no-op"], ["no-op"], ["update"], ["create"], ["delete"], ["delete", "create"]]))
    fields = [] if actions == ["no-op"] and draw(st.booleans()) else draw(st.lists(
        st.builds(FieldChange, TEXT, VALUE, VALUE, st.booleans()), max_size=2))
    return ResourceChange(
        draw(TEXT), draw(TEXT), draw(TEXT), actions, id=draw(st.none() | TEXT), changes=fields,
        depends_on=draw(st.lists(TEXT, max_size=2) if draw(st.integers(0, 3)) == 0 else st.just([])),
        reason=draw(st.none() | TEXT) if draw(st.integers(0, 3)) == 0 else None)


@settings(max_examples=300, deadline=None)
@given(st.lists(changes(), max_size=8), st.lists(TEXT, max_size=2), st.none() | TEXT, st.booleans())
def test_the_text_is_json_dumps_own(rcs: list[ResourceChange], warnings: list[str], commit: str | None,
                                    orphan: bool) -> None:
    orphans = [Orphan("assistant.x", "Assistant", "x", "a-1", "kept")] if orphan else []
    doc = plan_document(Plan(resource_changes=rcs, orphans=orphans, warnings=warnings),
                        Origin("project", None, commit))
    assert plan_json(doc) == json.dumps(doc, indent=2)


def test_a_plan_of_many_no_ops_and_a_few_changes() -> None:
    rcs = [ResourceChange(f"assistant.bot-{i}", "Assistant", f"bot-{i}", ["no-op"], id=f"a-{i}") for i in range(50)]
    rcs.insert(7, ResourceChange("assistant.x", "Assistant", "x", ["update"], id="a-x",
                                 changes=[FieldChange("voice_settings.speed", 1, 1.0), FieldChange("on", 1, True),
                                          FieldChange("api_key", None, SensitiveStr("s3cret", "${env:KEY}"),
                                                      sensitive=True)]))
    rcs.append(ResourceChange("tool.new", "Tool", "new", ["create"]))
    doc = plan_document(Plan(resource_changes=rcs), Origin("p", "prod", "abc123"))
    text = plan_json(doc)
    assert text == json.dumps(doc, indent=2)
    assert "s3cret" not in text and '"before": 1,\n' in text and '"after": 1.0\n' in text and '"after": true' in text


def test_entries_that_only_look_like_no_ops_are_written_by_json() -> None:
    """A subclass of str, a key added or reordered: never the no-op layout's business."""
    class Name(str):
        pass

    entries = [
        {"address": Name("a"), "kind": "Assistant", "name": "a", "actions": ["no-op"], "id": None, "changes": []},
        {"kind": "Assistant", "address": "b", "name": "b", "actions": ["no-op"], "id": None, "changes": []},
        {"address": "c", "kind": "Assistant", "name": "c", "actions": ["no-op"], "id": 7, "changes": []},
        {"address": "d", "kind": "Assistant", "name": "d", "actions": ["no-op"], "id": "x", "changes": [],
         "reason": "kept"},
    ]
    doc = {"format_version": "1", "summary": {}, "resource_changes": entries, "orphans": [], "warnings": []}
    assert plan_json(doc) == json.dumps(doc, indent=2)


def test_an_empty_plan() -> None:
    doc = plan_document(Plan(), Origin("p"))
    assert plan_json(doc) == json.dumps(doc, indent=2)
    assert '"resource_changes": [],' in plan_json(doc)
