"""The planner's shortcuts give what their definitions give: `whole.canonical`'s one walk is
`_drop_empty(strip_defaults(_known(...)))` in three passes, and `diff.field_changes`, which asks
deepdiff only about the keys holding a changed object or list, reports what deepdiff says of the two
whole objects; canonical forms shared between compares (by identity on the desired side, by equal
JSON on the live side, one form per content for objects of scalars) are the ones made afresh, and
`fill_defaults` of some keys fills them as the whole does. Checked on random variations of the
example manifests' specs, with their defaults filled in as live objects carry them, against the
real schemas."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from reconciler import canary
from reconciler.export.schema import spec_schema, strip_defaults
from reconciler.manifest import load
from reconciler.model import SensitiveStr
from reconciler.planning import defaults, diff, whole
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
                found += [(res.kind, res.spec), (res.kind, defaults.fill_defaults(res.kind, res.spec))]
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
    """`value` with each leaf's type beside it (== alone takes True for 1, a SensitiveStr for its text
    and -0.0 for 0.0)."""
    if isinstance(value, FieldChange):
        return ("change", value.path, _typed(value.before), _typed(value.after), value.sensitive)
    if isinstance(value, dict):
        return ("dict", [(k, _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value).__name__, getattr(value, "reference", None), repr(value) if isinstance(value, float) else value)


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
        shared = whole.Shared()
        for want in (main, merge(main, overlay), merge(main, overlay), main):
            assert _typed(whole.canonical(kind, want, shared=shared)) == _typed(whole.canonical(kind, want))


# Values that `==` takes for one another, though the canonical form (and JSON) keeps them apart.
_LOOKALIKES: list[list[Any]] = [[1, 1.0, True], [0, 0.0, -0.0, False], [900, 900.0]]


def _lookalike(rng: random.Random, value: Any) -> Any:
    """`value` with one leaf, at any depth, replaced by a value `==` to it (often of another type), and
    sometimes an object on the way with its keys in another order (also `==`, but shown in that order)."""
    if isinstance(value, dict | list) and value:
        out: Any = dict(value) if isinstance(value, dict) else list(value)
        at = rng.choice(list(out) if isinstance(out, dict) else range(len(out)))
        out[at] = _lookalike(rng, out[at])
        if isinstance(out, dict) and len(out) > 1 and rng.random() < 0.3:
            out = dict(reversed(out.items()))
        return out
    group = next((g for g in _LOOKALIKES if type(value) in (int, float, bool) and value in g), None)
    return value if group is None else rng.choice(group)


@pytest.mark.parametrize("seed", range(3))
def test_live_forms_shared_only_with_the_same_json(seed: int) -> None:
    # Each live version is its own JSON, mostly main's: a value kept in `shared` is reused only for
    # one that is the same JSON, so a version's `1.0`, `true` or `-0.0` where main has `1`, `1` or
    # `0.0` keeps its own canonical form.
    rng = random.Random(seed)
    for _ in range(100):
        kind, spec = rng.choice(_seeds())
        main = _vary(rng, copy.deepcopy(spec))
        shared = whole.Shared()
        for step in range(4):
            have = main if step == 0 else copy.deepcopy(main)
            for _ in range(rng.randrange(4)):
                have = _lookalike(rng, have)
            assert _typed(whole.canonical(kind, have, live=True, shared=shared)) == _typed(
                whole.canonical(kind, have, live=True))
            assert _typed(whole.canonical(kind, have, live=True)) == _typed(_three_passes(kind, have, live=True))


def test_forms_of_scalars_shared_and_never_changed() -> None:
    # The same settings on both sides get one canonical form (the diff passes over it by identity),
    # so `drop_path` (ignore_changes) must copy what it goes through rather than change it.
    live = {"voice_settings": {"voice": "Telnyx.KokoroTTS.af_heart", "speed": 1.0}, "tags": ["a", "b"]}
    want = {"voice_settings": {"voice": "Telnyx.KokoroTTS.af_heart"}, "tags": ["a", "b"]}
    live_c, want_c = whole.canonical("Assistant", live, live=True), whole.canonical("Assistant", want)
    assert live_c["voice_settings"] is want_c["voice_settings"]
    assert live_c["tags"] is want_c["tags"]
    diff.drop_path(live_c, "voice_settings.voice")
    assert live_c["voice_settings"] == {} and want_c["voice_settings"] == {"voice": "Telnyx.KokoroTTS.af_heart"}
    assert whole.canonical("Assistant", want) == want_c
    # -0.0 and 0.0 are == but not one JSON value: each keeps its own form.
    zero, negative = ({"telephony_settings": {"time_limit_secs": z}} for z in (0.0, -0.0))
    shown = whole.canonical("Assistant", negative, live=True)["telephony_settings"]["time_limit_secs"]
    assert whole.canonical("Assistant", zero, live=True) and repr(shown) == "-0.0"


@pytest.mark.parametrize("seed", range(2))
def test_fill_defaults_of_some_keys_as_of_the_whole(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        kind, spec = rng.choice(_seeds())
        want = _vary(rng, copy.deepcopy(spec))
        keys = [k for k in [*want, "voice_settings", "telephony_settings", "zz"] if rng.random() < 0.4]
        part, whole_filled = defaults.fill_defaults(kind, want, keys), defaults.fill_defaults(kind, want)
        assert _typed({k: part.get(k) for k in keys}) == _typed({k: whole_filled.get(k) for k in keys})


def test_set_like_strings_sorted_by_their_json_text() -> None:
    rng = random.Random(7)
    for _ in range(300):
        strings = [rng.choice(["a", "b", "B", "é", '"q', "\\b", "", "Z", "\u2028", "\x01", "~"])
                   for _ in range(rng.randrange(7))]
        unique = {diff._sort_key(s): s for s in strings}  # the general rule, by JSON text
        assert diff.normalize(strings, "tags") == [unique[k] for k in sorted(unique)]
        assert diff.normalize({"mcp_servers": [{"allowed_tools": strings}]}) == {
            "mcp_servers": [{"allowed_tools": [unique[k] for k in sorted(unique)]}]}
        assert diff.normalize(strings, "instructions") == strings  # not a set: order kept


def test_strings_at_their_default_left_out_as_by_definition() -> None:
    # `_canonical` tells a string without isinstance() and a key without a default by `in`: a string
    # (or a SensitiveStr) equal to its declared default is still left out, any other kept.
    for value, kept in (("disabled", False), ("enabled", True), (SensitiveStr("disabled", "${env:S}"), False)):
        spec = {"observability_settings": {"status": value}, "greeting": "hi"}
        for live in (False, True):
            got = whole.canonical("Assistant", spec, live=live)
            assert _typed(got) == _typed(_three_passes("Assistant", spec, live=live))
            assert ("observability_settings" in got) is kept and got["greeting"] == "hi"


def test_property_defaults_kept_by_the_identity_of_their_schemas() -> None:
    # `_prop_default` answers from its memo only for the very list of schemas it was asked about: a
    # list that took the id of one gone must not get that one's default.
    mine = [({"default": 1}, "x.json")]
    other = [({"default": 2}, "x.json")]
    defaults._DEFAULTS[id(mine)] = (other, 2)  # as if `other` had been at this id before
    assert defaults._prop_default(mine) == 1
    assert defaults._prop_default(mine) == 1 and defaults._DEFAULTS[id(mine)][0] is mine


@pytest.mark.parametrize("seed", range(2))
def test_fill_defaults_memoised_as_resolved_each_time(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    specs = [(kind, _vary(rng, copy.deepcopy(spec))) for kind, spec in rng.choices(_seeds(), k=150)]
    memoised = [_typed(defaults.fill_defaults(kind, spec)) for kind, spec in specs]
    monkeypatch.setattr(defaults, "_prop_default", defaults._default)
    assert memoised == [_typed(defaults.fill_defaults(kind, spec)) for kind, spec in specs]


def test_live_canary_rules_read_in_one_pass_as_in_two() -> None:
    # `from_live` reads each rule and names its versions in one pass: the same rules, keys in the
    # same order, as `_rule` then `rename` give, whatever the answer holds.
    rng = random.Random(3)
    names = {"v1": "short", "v2": "formal", "3": "three"}
    ids: list[Any] = ["v1", "v2", "v9", 3, None, True]
    for _ in range(400):
        def slot() -> Any:
            if rng.random() < 0.1:
                return rng.choice(["x", 1, None])
            entry = {"version_id": rng.choice(ids), "weight": rng.choice([5, 5.0, True, None, "7"])}
            return {k: v for k, v in entry.items() if rng.random() < 0.9}
        def rule() -> Any:
            if rng.random() < 0.05:
                return "not a rule"
            out: dict[str, Any] = {}
            if rng.random() < 0.4:
                out["match"] = [{"attribute": "caller", "operator": "in", "values": ["+1"]}, "odd"][:rng.randrange(3)]
            roll = rng.random()
            if roll < 0.5:
                out["serve"] = {"rollout": [slot() for _ in range(rng.randrange(3))]}
            elif roll < 0.6:
                out["serve"] = {"rollout": None, "version_id": rng.choice(ids)}
            elif roll < 0.9:
                out["serve"] = {"version_id": rng.choice(ids)}
            return dict(reversed(out.items())) if rng.random() < 0.3 else out
        live = {"rules": [rule() for _ in range(rng.randrange(4))]}
        def to_name(vid: Any) -> str:
            return names.get(str(vid), str(vid))
        rules = [r for r in live["rules"] if isinstance(r, dict)]
        two = tuple(canary.rename(canary._rule(r, "version_id"), "version_id", "version", to_name) for r in rules)
        assert _typed(list(canary.from_live(live, names))) == _typed(list(two))
