"""Test runs that take time and can fail on purpose: what the emulator's test-run handlers build on.

A run starts `pending`, is `running` after `pending_s`, and reaches its outcome after another
`running_s` (TestStatus: pending, running, then passed / failed / error). Its status is worked out from
the time it was created whenever it is read, so no clock thread is needed and a persisted state
resumes where it was. `detail_status` (one `{name, status}` per rubric item) and `completed_at` appear
once the run is final.

Outcomes are scripted through `POST /_emulator/test-outcomes`:

    {"outcomes": [{"test": "refunds", "version": "candidate", "status": "failed",
                   "criteria": {"Empathy": "failed"}, "logs": "..."}],
     "timing": {"pending_s": 0.1, "running_s": 0.3}}

Each rule matches a run by `test` (its name or test_id; absent: any test) and `version` (the
`destination_version_id`, or that version's `version_name`; `main` for a run without one; absent:
any). The first rule that matches decides, when the run is created; no match means passed. `status`
is `passed`, `failed`, `error`, or `running` (never finishes: for deadlines). `criteria` sets the
verdict of rubric items by name; the others are `passed`, unless no criteria are given, in which case
a failed run fails every item. The script lives in the state (reset clears it); `GET` returns it.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from reconciler.emulator.store import State, new_id

SCRIPT = "test_script"  # the State collection holding the script (see store.COLLECTIONS)
DEFAULT_TIMING = {"pending_s": 0.1, "running_s": 0.3}
STATUSES = ("passed", "failed", "error", "running")
_RULE_KEYS = {"test", "version", "status", "criteria", "logs"}


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _script(st: State) -> dict[str, Any]:
    script: dict[str, Any] = st.data.setdefault(SCRIPT, {})
    return script


def _version_names(st: State, version_id: str | None) -> set[str]:
    if version_id is None:
        return {"main"}
    for rec in st.assistants.values():
        version = rec["versions"].get(version_id)
        if version is not None:
            return {version_id, str(version.get("version_name"))}
    return {version_id}


def _outcome(st: State, test: dict[str, Any], version_id: str | None) -> dict[str, Any]:
    names = _version_names(st, version_id)
    for rule in _script(st).get("outcomes", []):
        if "test" in rule and rule["test"] not in (test.get("name"), test.get("test_id")):
            continue
        if "version" in rule and rule["version"] not in names:
            continue
        return dict(rule)
    return {"status": "passed"}


def new_run(st: State, test: dict[str, Any], suite_run: str | None, version_id: str | None) -> dict[str, Any]:
    """Create a pending run of `test` (against `version_id`, or main) and store it; return the run."""
    now = time.time()
    outcome = _outcome(st, test, version_id)
    status = outcome.get("status", "passed")
    criteria: dict[str, str] = outcome.get("criteria") or {}
    rubric = [str(r.get("name")) for r in test.get("rubric", [])]
    default = "passed" if criteria or status == "passed" else status
    timing = {**DEFAULT_TIMING, **(_script(st).get("timing") or {})}
    run: dict[str, Any] = {"run_id": new_id(), "test_id": test["test_id"], "status": "pending", "triggered_by": "api",
                           "created_at": _iso(now), "updated_at": _iso(now)}
    if suite_run is not None:
        run["test_suite_run_id"] = suite_run
    st.runs[run["run_id"]] = {
        "run": run, "suite": test.get("test_suite") if suite_run else None, "version_id": version_id,
        "started_s": now, "pending_s": float(timing["pending_s"]), "running_s": float(timing["running_s"]),
        "final": status, "detail": [{"name": n, "status": criteria.get(n, default)} for n in rubric],
        "logs": outcome.get("logs") or f"Emulated run: {status}.",
    }
    return current(st.runs[run["run_id"]])


def current(entry: dict[str, Any]) -> dict[str, Any]:
    """The stored run brought up to date with the clock (mutates the stored run; call under the lock)."""
    run: dict[str, Any] = entry["run"]
    if "started_s" not in entry:
        return run  # a run stored before runs took time: final already
    elapsed = time.time() - entry["started_s"]
    running_at = entry["started_s"] + entry["pending_s"]
    done_at = running_at + entry["running_s"]
    if elapsed < entry["pending_s"]:
        return run
    if entry["final"] == "running" or elapsed < entry["pending_s"] + entry["running_s"]:
        if run["status"] != "running":
            run.update(status="running", updated_at=_iso(running_at), conversation_id=run.get("conversation_id")
                       or new_id())
        return run
    if run["status"] != entry["final"]:
        run.update(status=entry["final"], updated_at=_iso(done_at), completed_at=_iso(done_at),
                   conversation_id=run.get("conversation_id") or new_id(), detail_status=entry["detail"],
                   logs=entry["logs"])
    return run


def _problems(body: Any) -> list[str]:
    if not isinstance(body, dict) or set(body) - {"outcomes", "timing"}:
        return ["the body is an object with `outcomes` (a list) and `timing` (an object)"]
    out: list[str] = []
    for i, rule in enumerate(body.get("outcomes") or []):
        if not isinstance(rule, dict) or set(rule) - _RULE_KEYS:
            out.append(f"outcomes[{i}]: an object with keys among {', '.join(sorted(_RULE_KEYS))}")
        elif rule.get("status", "passed") not in STATUSES:
            out.append(f"outcomes[{i}].status: one of {', '.join(STATUSES)}")
        elif not isinstance(rule.get("criteria", {}), dict):
            out.append(f"outcomes[{i}].criteria: an object of rubric name -> status")
    timing = body.get("timing") or {}
    if not isinstance(timing, dict) or any(k not in DEFAULT_TIMING or not isinstance(v, int | float) or v < 0
                                           for k, v in timing.items()):
        out.append("timing: an object of pending_s and running_s, numbers >= 0")
    return out


def control(st: State, method: str, raw: bytes) -> tuple[int, Any]:
    """`GET|POST /_emulator/test-outcomes` (call under the lock): read or replace the script."""
    if method == "GET":
        return 200, {"outcomes": [], "timing": DEFAULT_TIMING, **_script(st)}
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return 422, {"detail": [{"loc": ["body"], "msg": "not JSON", "type": "json_invalid"}]}
    problems = _problems(body)
    if problems:
        return 422, {"detail": [{"loc": ["body"], "msg": p, "type": "value_error"} for p in problems]}
    st.data[SCRIPT] = {"outcomes": list(body.get("outcomes") or []), "timing": {**DEFAULT_TIMING,
                                                                                 **(body.get("timing") or {})}}
    return 200, st.data[SCRIPT]
