"""The planner's shortcuts give what their definitions give: `whole.canonical`'s one walk is
`_drop_empty(strip_defaults(_known(...)))` in three passes, and `diff.field_changes`, which asks
deepdiff only about the keys holding a changed object or list, reports what deepdiff says of the two
whole objects. Checked on random variations of the example manifests' specs, with their defaults
filled in as live objects carry them, against the real schemas."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from reconciler.export.schema import spec_schema, strip_defaults
from reconciler.manifest import load
from reconciler.model import SensitiveStr
from reconciler.planning import diff, whole
from reconciler.planning.plan import FieldChange
from reconciler.tree import merge
from tests.support.paths import EXAMPLES

LEAVES: list[Any] = [None, {}, [], True, False, 0, 1, 1.0, 0.0, 2.5, "x", "", "webhook", [1, 2], ["b", "a"],
                     {"a": 1}, {"type": "webhook"}, SensitiveStr("x", "${env:A}")]


def _seeds() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for folder in (EXAMPLES, EXAMPLES.parent / "rollout"):
        for res in load([folder]).resources:
            if res.kind in ("Assistant", "Tool", "McpServer"):
                found += [(res.kind, res.spec), (res.kind, whole.fill_defaults(res.kind, res.spec))]
    return found


def _vary(rng: random.Random, value: Any) -> Any:
    """`value` with keys dropped, leaves replaced, unknown keys added, at every depth."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            roll = rng.random()
            if roll < 0.1:
                continue
            out[key] = copy.deepcopy(rng.choice(LEAVES)) if roll < 0.25 else _vary(rng, item)
        if rng.random() < 0.1:
            out["zz_unknown"] = rng.choice(LEAVES)
        return out
    if isinstance(value, list):
        return [_vary(rng, item) for item in value if rng.random() > 0.1]
    return copy.deepcopy(rng.choice(LEAVES)) if rng.random() < 0.1 else value


def _three_passes(kind: str, spec: dict[str, Any], live: bool) -> Any:
    node, base = spec_schema(kind)
    value = whole.drop_server_set(kind, spec)
    if live:
        value = whole._known(value, node, base)
    return whole._drop_empty(strip_defaults(value, node, base))


def _whole_deepdiff(live: dict[str, Any], desired: dict[str, Any]) -> list[FieldChange]:
    """deepdiff asked about the two whole objects, read as `field_changes` reads it."""
    if diff.equal(live, desired):
        return []
    before, after = diff.normalize(live), diff.normalize(desired)
    changes: dict[str, FieldChange] = {}
    diff._explain(changes, before, after, before, after)
    return [changes[k] for k in sorted(changes)]


def _typed(value: Any) -> Any:
    """`value` with each leaf's type beside it (== alone takes True for 1 and a SensitiveStr for its text)."""
    if isinstance(value, FieldChange):
        return ("change", value.path, _typed(value.before), _typed(value.after), value.sensitive)
    if isinstance(value, dict):
        return ("dict", [(k, _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value).__name__, getattr(value, "reference", None), value)


@pytest.mark.parametrize("seed", range(4))
def test_shortcuts_match_their_definitions(seed: int) -> None:
    rng = random.Random(seed)
    seeds = _seeds()
    for _ in range(150):
        kind, spec = rng.choice(seeds)
        have = _vary(rng, copy.deepcopy(spec))
        want = _vary(rng, copy.deepcopy(have if rng.random() < 0.4 else rng.choice(seeds)[1]))
        live_c, want_c = whole.canonical(kind, have, live=True), whole.canonical(kind, want)
        assert _typed(live_c) == _typed(_three_passes(kind, have, live=True))
        assert _typed(want_c) == _typed(_three_passes(kind, want, live=False))
        for a, b in ((live_c, want_c), (have, want)):
            assert _typed(diff.field_changes(a, b)) == _typed(_whole_deepdiff(a, b))


@pytest.mark.parametrize("seed", range(2))
def test_shared_canonical_forms_match_fresh_ones(seed: int) -> None:
    # A version's spec is its main spec with an overlay merged on, sharing main's objects: the
    # canonical forms kept in `shared` must be what each spec gives alone, overlaid keys included.
    rng = random.Random(seed)
    seeds = [s for s in _seeds() if s[0] == "Assistant"]
    for _ in range(100):
        kind, spec = rng.choice(seeds)
        main = _vary(rng, copy.deepcopy(spec))
        overlay = {k: v for k, v in _vary(rng, copy.deepcopy(rng.choice(seeds)[1])).items() if rng.random() < 0.3}
        shared: whole.Shared = {}
        for want in (main, merge(main, overlay), merge(main, overlay), main):
            assert _typed(whole.canonical(kind, want, shared=shared)) == _typed(whole.canonical(kind, want))
