"""What an apply reports: each step's outcome, the whole run's result, and the hooks that hear about
them as they happen (re-exported by apply/applier.py, which produces them).

A step is `done`, `failed`, `skipped` (nothing was sent for it), or `unknown`: a write was sent and
no answer, nor any read since, could tell whether it landed (a 5xx or a timeout after sending, an
apply cut short by Ctrl-C or its deadline). Apply reads again after the other steps to settle each
unknown one; what stays unknown is reported as such, never as failed, because it may have landed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from reconciler.planning.plan import ResourceChange


class Outcome(StrEnum):
    """How a step ended (see the module docstring)."""

    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class StepResult:
    """How one resource change ended. `id` is the resource's id afterwards (None after a delete)."""

    change: ResourceChange
    outcome: Outcome
    duration: float
    error: str | None = None
    id: str | None = None

    @property
    def address(self) -> str:
        return self.change.address


@dataclass
class ApplyResult:
    """Every step's result, in the order the steps finished (a settled step where it was first
    reported), and the wall time of the apply."""

    steps: list[StepResult] = field(default_factory=list)
    duration: float = 0.0

    def _with(self, outcome: Outcome) -> list[StepResult]:
        return [s for s in self.steps if s.outcome is outcome]

    @property
    def done(self) -> list[StepResult]:
        return self._with(Outcome.DONE)

    @property
    def failed(self) -> list[StepResult]:
        return self._with(Outcome.FAILED)

    @property
    def skipped(self) -> list[StepResult]:
        return self._with(Outcome.SKIPPED)

    @property
    def unknown(self) -> list[StepResult]:
        return self._with(Outcome.UNKNOWN)

    @property
    def ok(self) -> bool:
        """True when every step was done."""
        return all(s.outcome is Outcome.DONE for s in self.steps)

    def replace(self, step: StepResult) -> None:
        """Put a settled step where the same address was first reported."""
        for i, old in enumerate(self.steps):
            if old.address == step.address:
                self.steps[i] = step
                return
        self.steps.append(step)


class ApplyHooks(Protocol):
    """What the applier reports, as it happens (terraform's `hook.go`, reduced to what we need)."""

    def pre_apply(self, change: ResourceChange) -> None:
        """A step starts."""

    def post_apply(self, change: ResourceChange, outcome: Outcome, duration: float, error: str | None) -> None:
        """A step ended (done, failed or unknown), or was skipped because something it needs failed
        (then `pre_apply` was never called and `error` says which step failed). A step reported
        unknown is reported again once reading settles it (done, failed, or still unknown)."""

    def summary(self, result: ApplyResult) -> None:
        """The apply is over."""


class NoHooks:
    """Hooks that report nothing (for library use and tests that only look at the result)."""

    def pre_apply(self, change: ResourceChange) -> None:
        """Report nothing."""

    def post_apply(self, change: ResourceChange, outcome: Outcome, duration: float, error: str | None) -> None:
        """Report nothing."""

    def summary(self, result: ApplyResult) -> None:
        """Report nothing."""
