"""Issue #11's property: after any sequence of manifest edits and portal edits, `apply` then `plan` is
clean, and what apply sent equals what the plan showed. Sequences are random but seeded (bounded:
a few seeds of a few steps); the emulator's requests are recorded over real loopback HTTP."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.promise.support import Account, Sent, account, cli, plan_doc

__all__ = ["account"]

NAME = "prop-bot"
HOOK: dict[str, Any] = {"type": "webhook", "webhook": {"name": "lookup", "description": "Look up", "url": "https://api.example.com/x",
                                       "method": "GET"}}
Spec = dict[str, Any]


def _hook(headers: list[dict[str, str]] | None, description: str = "Look up") -> dict[str, Any]:
    tool = copy.deepcopy(HOOK)
    tool["webhook"]["description"] = description
    if headers is not None:
        tool["webhook"]["headers"] = headers
    return tool


# Manifest edits: each sets or deletes one line (or one list item) of the spec.
MANIFEST_EDITS: list[Callable[[Spec, random.Random], None]] = [
    lambda s, r: s.__setitem__("greeting", f"Hello {r.randint(0, 9)}"),
    lambda s, r: s.pop("greeting", None),
    lambda s, r: s.setdefault("telephony_settings", {}).__setitem__("noise_suppression", "krisp"),
    lambda s, r: s.get("telephony_settings", {}).pop("noise_suppression", None),
    lambda s, r: s.setdefault("telephony_settings", {}).__setitem__("time_limit_secs", r.choice([600, 1200])),
    lambda s, r: s.pop("telephony_settings", None),
    lambda s, r: s.setdefault("voice_settings", {"voice": "Telnyx.KokoroTTS.af_heart"}).__setitem__(
        "voice_speed", r.choice([0.8, 1.2])),
    lambda s, r: s.get("voice_settings", {}).pop("voice_speed", None),
    lambda s, r: s.__setitem__("tools", [_hook([{"name": "X-Key", "value": f"k{r.randint(0, 9)}"}])]),
    lambda s, r: s.__setitem__("tools", [_hook(None, r.choice(["Look up", "Find it"]))]),
    lambda s, r: s.__setitem__("tools", [{"type": "hangup", "hangup": {"description": "Bye."}}, _hook(None)]),
    lambda s, r: s.pop("tools", None),
    lambda s, r: s.__setitem__("tags", sorted(r.sample(["a", "b", "c"], r.randint(1, 2)))),
    lambda s, r: s.pop("tags", None),
    lambda s, r: s.__setitem__("dynamic_variables", {"x": str(r.randint(0, 9))}),
    lambda s, r: s.pop("dynamic_variables", None),
]


# Portal edits: what someone does to the live assistant behind reconciler's back.
def _portal_edits(live: dict[str, Any], r: random.Random) -> dict[str, Any]:
    choices: list[dict[str, Any]] = [
        {"greeting": f"Portal {r.randint(0, 9)}"},
        {"voice_settings": {"voice": "Telnyx.KokoroTTS.af_heart", **(live.get("voice_settings") or {}),
                            "voice_speed": 1.5}},
        {"tags": sorted({*(live.get("tags") or []), "portal"})},
        {"telephony_settings": {**(live.get("telephony_settings") or {}), "noise_suppression": "deepfilternet"}},
        {"dynamic_variables": {"y": "portal"}},
        {"description": "Set in the portal"},
    ]
    tools = copy.deepcopy(live.get("tools") or [])
    if tools and tools[-1].get("type") == "webhook":
        tools[-1]["webhook"]["headers"] = [{"name": "X-Portal", "value": "p"}]
        choices.append({"tools": tools})
    picked: dict[str, Any] = r.choice(choices)
    return picked


def _write(folder: Path, spec: Spec) -> None:
    doc = {"apiVersion": "reconciler/v1", "kind": "Assistant", "metadata": {"name": NAME}, "spec": spec}
    (folder / "bot.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """path -> leaf value, paths in the plan's form (`a.b`, `tools[0].webhook.url`)."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(_leaves(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def _covered(path: str, shown: list[str]) -> bool:
    return any(path == p or path.startswith(p + ".") or path.startswith(p + "[") or p.startswith(path + ".")
               or p.startswith(path + "[") for p in shown)


def _check_sent_equals_shown(doc: dict[str, Any], before: dict[str, Any] | None, writes: list[Sent]) -> None:
    """Every write is in the plan, and everything it changes is a field change of the plan."""
    changed = [rc for rc in doc["resource_changes"] if rc["actions"] != ["no-op"]]
    if not changed:
        assert writes == [], [(w.method, w.path) for w in writes]
        return
    assert len(writes) == sum(1 for rc in changed for _ in [rc]), [(w.method, w.path, w.body) for w in writes]
    rc = changed[0]
    shown = [c["path"] for c in rc["changes"]]
    (write,) = writes
    assert isinstance(write.body, dict)
    if before is None:  # a create: every top-level field sent is shown
        assert set(write.body) - {"name"} <= set(shown) | {"tags"}, (write.body, shown)
        return
    for key, value in write.body.items():
        old, new = _leaves(before.get(key), key), _leaves(value, key)
        for path in sorted(set(old) | set(new)):
            if json.dumps(old.get(path), sort_keys=True) != json.dumps(new.get(path), sort_keys=True):
                assert _covered(path, shown), f"apply sent {path}: {old.get(path)!r} -> {new.get(path)!r}, " \
                                              f"but the plan showed only {shown}"
    for change in rc["changes"]:
        top = change["path"].split(".")[0].split("[")[0]
        assert top in write.body, f"the plan showed {change['path']}, apply did not send {top}"


# Fields the server sets on every write: never part of a plan.
SERVER_SET = ("id", "created_at", "updated_at", "version_id", "version_created_at", "version_name")


def _check_effect_equals_shown(doc: dict[str, Any], before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    """What changed live is what the plan showed, and each shown change landed as shown."""
    if before is None:
        return
    rc = next(r for r in doc["resource_changes"] if r["address"] == f"assistant.{NAME}")
    shown = [c["path"] for c in rc["changes"]]
    old, new = _leaves({k: v for k, v in before.items() if k not in SERVER_SET}), \
        _leaves({k: v for k, v in after.items() if k not in SERVER_SET})
    for path in sorted(set(old) | set(new)):
        if json.dumps(old.get(path), sort_keys=True) != json.dumps(new.get(path), sort_keys=True):
            assert _covered(path, shown), f"{path} changed live ({old.get(path)!r} -> {new.get(path)!r}) " \
                                          f"but the plan showed only {shown}"


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_apply_then_plan_is_clean_and_apply_sends_what_the_plan_shows(
        account: Account, capsys: pytest.CaptureFixture[str], tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    spec: Spec = {"instructions": "Be helpful.", "greeting": "Hello", "tools": [_hook(None)]}
    for step in range(10):
        if step and rng.random() < 0.4:
            live = account.assistant(NAME)
            with account.api() as http:
                edit = _portal_edits(live, rng)
                answer = http.post(f"/ai/assistants/{live['id']}", json=edit)
                assert answer.status_code == 200, (edit, answer.text)
        else:
            rng.choice(MANIFEST_EDITS)(spec, rng)
            spec = {k: v for k, v in spec.items() if v not in ({}, None)}
        _write(tmp_path, spec)
        doc = plan_doc(capsys, str(tmp_path))
        try:
            before: dict[str, Any] | None = account.assistant(NAME)
        except AssertionError:
            before = None
        account.app.clear_log()
        code, out, err = cli(capsys, "apply", "--auto-approve", str(tmp_path))
        assert code == 0, out + err
        _check_sent_equals_shown(doc, before, account.app.writes())
        _check_effect_equals_shown(doc, before, account.assistant(NAME))
        after = plan_doc(capsys, str(tmp_path))
        pending = [(rc["address"], rc["changes"]) for rc in after["resource_changes"] if rc["actions"] != ["no-op"]]
        assert after["_exit"] == 0 and not pending, f"step {step}: not clean after apply: {pending}"
