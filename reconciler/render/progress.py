"""Apply progress, as it happens: the two `applier.ApplyHooks` implementations.

`TextProgress` writes a line per resource when it starts and when it ends (with its duration), then a
summary of what was done, what failed and why, and what was skipped. `JsonProgress` writes the same
events as JSON lines, one object per line with a `type` key, so CI can follow an apply with `jq`.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any, TextIO

from reconciler.apply.results import ApplyResult, Outcome
from reconciler.planning.plan import ResourceChange, action_word
from reconciler.scrub import one_line

_STARTING = {"create": "creating", "update": "updating", "delete": "deleting", "replace": "replacing"}
_ENDED = {"create": "created", "update": "updated", "delete": "deleted", "replace": "replaced"}
# Steps that are not resources, by kind: a gate runs a test suite, a promotion makes a version main.
_KIND_STARTING = {"Gate": "running test suite", "Promotion": "promoting"}
_KIND_ENDED = {"Gate": "test suite passed", "Promotion": "promoted"}


def _starting(change: ResourceChange) -> str:
    return _KIND_STARTING.get(change.kind) or _STARTING.get(action_word(change.actions), "applying")


def _ended(change: ResourceChange) -> str:
    return _KIND_ENDED.get(change.kind) or _ENDED.get(action_word(change.actions), "applied")


_COLORS = {Outcome.DONE: "\033[32m", Outcome.FAILED: "\033[31m", Outcome.SKIPPED: "\033[33m",
           Outcome.UNKNOWN: "\033[35m"}
_RESET = "\033[0m"


class _Writer:
    """Whole lines, flushed at once: progress must show up while the apply runs, not at its end."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self._lock = threading.Lock()

    def line(self, text: str, color: str = "") -> None:
        """One line of `text`, its terminal controls and line breaks escaped (it holds addresses and
        API errors: text from elsewhere), in `color` if one is given."""
        shown = one_line(text)
        with self._lock:
            self.stream.write(f"{color}{shown}{_RESET}\n" if color else shown + "\n")
            self.stream.flush()


class TextProgress:
    """Human-readable progress: `tool.crm: creating…`, `tool.crm: created in 0.12s`."""

    def __init__(self, stream: TextIO | None = None, color: bool = False) -> None:
        self._out = _Writer(stream)
        self.color = color


    def pre_apply(self, change: ResourceChange) -> None:
        """`ADDRESS: creating...`"""
        self._out.line(f"{change.address}: {_starting(change)}...")

    def post_apply(self, change: ResourceChange, outcome: Outcome, duration: float, error: str | None) -> None:
        """`ADDRESS: created in 0.12s`, `ADDRESS: FAILED after 0.40s: why`, `ADDRESS: skipped (why)`,
        `ADDRESS: outcome UNKNOWN after 0.40s: why` (a settled step is reported again, with a note)."""
        if outcome is Outcome.DONE:
            text = f"{change.address}: {_ended(change)} in {duration:.2f}s" + (f" ({error})" if error else "")
        elif outcome is Outcome.FAILED:
            text = f"{change.address}: FAILED after {duration:.2f}s: {error}"
        elif outcome is Outcome.UNKNOWN:
            text = f"{change.address}: outcome UNKNOWN after {duration:.2f}s: {error}"
        else:
            text = f"{change.address}: skipped ({error})"
        self._out.line(text, _COLORS[outcome] if self.color else "")

    def summary(self, result: ApplyResult) -> None:
        """Counts first; after a partial failure, what was done, every failure with its reason, every
        step whose outcome is unknown and every skipped step."""
        done, failed, skipped, unknown = result.done, result.failed, result.skipped, result.unknown
        head = ("Apply complete!" if result.ok else "Apply FAILED." if failed or skipped
                else "Apply incomplete: outcome UNKNOWN.")
        self._out.line("")
        self._out.line(f"{head} {len(done)} done, {len(failed)} failed, {len(skipped)} skipped"
                       + (f", {len(unknown)} unknown" if unknown else "") + f" in {result.duration:.2f}s.")
        if done and not result.ok:
            # After a partial failure, what did happen matters as much as what did not.
            self._out.line("Done:")
            for step in done:
                self._out.line(f"  {step.address}: {_ENDED.get(action_word(step.change.actions), 'applied')}")
        for title, steps in (("Failed:", failed),
                             ("Unknown (sent, and it may have landed; no read could tell):", unknown),
                             ("Skipped (nothing was sent for them):", skipped)):
            if steps:
                self._out.line(title)
                for step in steps:
                    self._out.line(f"  {step.address}: {step.error}")
        if unknown:
            self._out.line("Run plan to see whether the unknown steps landed, then apply again.")
        elif not result.ok:
            self._out.line("Fix the failures and run apply again: what was done is not repeated.")


class JsonProgress:
    """The same events as JSON lines: `apply_start`, `apply_complete` / `apply_errored` /
    `apply_skipped`, and a final `apply_summary`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._out = _Writer(stream)

    def _emit(self, event: dict[str, Any]) -> None:
        self._out.line(json.dumps(event, separators=(",", ":"), sort_keys=False))

    @staticmethod
    def _resource(change: ResourceChange) -> dict[str, Any]:
        return {"address": change.address, "kind": change.kind, "name": change.name,
                "actions": list(change.actions), "action": action_word(change.actions)}

    def pre_apply(self, change: ResourceChange) -> None:
        """`{"type": "apply_start", "address": …}`"""
        self._emit({"type": "apply_start", **self._resource(change)})

    def post_apply(self, change: ResourceChange, outcome: Outcome, duration: float, error: str | None) -> None:
        """`{"type": "apply_complete" | "apply_errored" | "apply_skipped" | "apply_unknown", "duration_s": …,
        "error": …}`; an unknown step settled by reading is reported again (`apply_complete` with a `note`,
        `apply_errored`, or `apply_unknown`)."""
        kind = {Outcome.DONE: "apply_complete", Outcome.FAILED: "apply_errored",
                Outcome.SKIPPED: "apply_skipped", Outcome.UNKNOWN: "apply_unknown"}[outcome]
        event: dict[str, Any] = {"type": kind, **self._resource(change), "outcome": str(outcome),
                                 "duration_s": round(duration, 3)}
        if error is not None:
            event["note" if outcome is Outcome.DONE else "error"] = error
        self._emit(event)

    def summary(self, result: ApplyResult) -> None:
        """`{"type": "apply_summary", "ok": …, "counts": {done, failed, skipped, unknown}, "done": [...],
        "failed": [{address, error}], "unknown": [{address, error}], "skipped": [...]}`"""
        self._emit({
            "type": "apply_summary",
            "ok": result.ok,
            "duration_s": round(result.duration, 3),
            "counts": {"done": len(result.done), "failed": len(result.failed), "skipped": len(result.skipped),
                       "unknown": len(result.unknown)},
            "done": [{"address": s.address, "action": action_word(s.change.actions), "id": s.id} for s in result.done],
            "failed": [{"address": s.address, "error": s.error} for s in result.failed],
            "unknown": [{"address": s.address, "error": s.error} for s in result.unknown],
            "skipped": [{"address": s.address, "reason": s.error} for s in result.skipped],
        })
