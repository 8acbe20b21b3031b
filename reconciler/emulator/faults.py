"""Request statistics and injected faults (latency, seeded 5xx errors, a per-second rate limit).

`Meter` keeps all of it behind its own small lock, separate from the state lock, so counting and
fault decisions never wait for a handler. Nothing here sleeps: latency is returned to the front-end,
which sleeps outside every lock.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from reconciler.emulator.apierrors import Invalid

INJECTED = {
    500: ("10007", "Unexpected error", "An unexpected error occurred (injected by the emulator)"),
    502: ("10007", "Bad gateway", "The upstream service failed (injected by the emulator)"),
    503: ("10007", "Service unavailable", "The service is temporarily unavailable (injected by the emulator)"),
}


@dataclass
class Faults:
    """The active faults; `rate_limit_per_s` None (or 0) means no limit."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit_per_s: int | None = None
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        """The faults as the control endpoint reports them."""
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    """What the meter decided for one /v2 request before it runs."""

    delay_s: float
    limited: bool
    rate_headers: tuple[tuple[str, str], ...]
    error_status: int | None  # an injected 5xx, or None
    error_after_apply: bool  # for a mutating request: apply the change, then answer the error


def parse_faults(body: Any, current: Faults) -> Faults:
    """A new Faults from a control request body (any subset of the fields), or a 422."""
    if not isinstance(body, dict):
        raise Invalid.one(["body"], "Input should be a valid object", "dict_type")
    unknown = sorted(set(body) - {"latency_ms", "error_rate", "rate_limit_per_s", "seed"})
    if unknown:
        raise Invalid([{"loc": ["body", k], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
                       for k in unknown])
    new = Faults(**current.to_json())
    limits = {"latency_ms": (0, 600_000), "error_rate": (0, 1), "rate_limit_per_s": (0, 10**9),
              "seed": (-(2**63), 2**63)}
    for key, value in body.items():
        if key == "rate_limit_per_s" and value is None:
            new.rate_limit_per_s = None
            continue
        low, high = limits[key]
        integral = key in ("rate_limit_per_s", "seed")
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or (integral and not isinstance(value, int)) or not low <= value <= high):
            raise Invalid.one(["body", key], f"Input should be a number between {low} and {high}")
        setattr(new, key, value)
    if new.rate_limit_per_s == 0:
        new.rate_limit_per_s = None
    return new


class Meter:
    """Counts /v2 requests and decides injected faults; thread-safe."""

    def __init__(self, base: Faults) -> None:
        self._lock = threading.Lock()
        self._base = base
        self.faults = Faults(**base.to_json())
        self._rng = random.Random(self.faults.seed)
        self._total = 0
        self._by_route: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        self._window = -1
        self._count = 0

    def set_faults(self, faults: Faults) -> None:
        """Make `faults` active; a changed seed restarts the error sequence."""
        with self._lock:
            if faults.seed != self.faults.seed:
                self._rng = random.Random(faults.seed)
            self.faults = faults
            self._window, self._count = -1, 0

    def reset(self, *, stats_only: bool) -> None:
        """Clear the counters, and unless `stats_only` also the faults (back to the startup ones)."""
        with self._lock:
            self._total = 0
            self._by_route.clear()
            self._by_status.clear()
            if not stats_only:
                self.faults = Faults(**self._base.to_json())
                self._rng = random.Random(self.faults.seed)
                self._window, self._count = -1, 0

    def decide(self, mutating: bool) -> Decision:
        """Latency, rate limit and injected error for one authenticated /v2 request."""
        with self._lock:
            f = self.faults
            limited = False
            headers: tuple[tuple[str, str], ...] = ()
            if f.rate_limit_per_s:
                now = time.monotonic()
                window = math.floor(now)
                if window != self._window:
                    self._window, self._count = window, 0
                limited = self._count >= f.rate_limit_per_s
                if not limited:
                    self._count += 1
                reset = max(1, math.ceil(window + 1 - now))
                headers = (("x-ratelimit-limit", str(f.rate_limit_per_s)),
                           ("x-ratelimit-remaining", str(max(0, f.rate_limit_per_s - self._count))),
                           ("x-ratelimit-reset", str(reset)))
            error: int | None = None
            after = False
            if not limited and f.error_rate > 0 and self._rng.random() < f.error_rate:
                error = self._rng.choice(sorted(INJECTED))
                after = mutating and self._rng.random() < 0.5
            return Decision(f.latency_ms / 1000.0, limited, headers, error, after)

    def rate_headers(self) -> tuple[tuple[str, str], ...]:
        """The x-ratelimit-* headers for a response that did not pass through `decide` (e.g. a 401)."""
        with self._lock:
            limit = self.faults.rate_limit_per_s
            if not limit:
                return ()
            now = time.monotonic()
            count = self._count if math.floor(now) == self._window else 0
            return (("x-ratelimit-limit", str(limit)), ("x-ratelimit-remaining", str(max(0, limit - count))),
                    ("x-ratelimit-reset", str(max(1, math.ceil(math.floor(now) + 1 - now)))))

    def latency_s(self) -> float:
        """The active latency in seconds."""
        with self._lock:
            return self.faults.latency_ms / 1000.0

    def record(self, route_key: str, status: int) -> None:
        """Count one finished /v2 request."""
        with self._lock:
            self._total += 1
            self._by_route[route_key] += 1
            self._by_status[str(status)] += 1

    def stats(self) -> dict[str, Any]:
        """`{"total", "by_route", "by_status"}`."""
        with self._lock:
            return {"total": self._total, "by_route": dict(self._by_route), "by_status": dict(self._by_status)}
