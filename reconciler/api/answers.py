"""Reading the API's error answers: one line saying what went wrong, from either error shape, and
the wait a server asked for before a retry."""

from __future__ import annotations

import json as jsonlib

import httpx

from reconciler import scrub
from reconciler.api.pacing import reset_seconds


def server_wait(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait, from the headers Telnyx and common gateways send."""
    headers = response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                seconds = float(value) * scale
            except ValueError:
                continue
            if 0 <= seconds <= 60:
                return seconds
    if response.status_code == 429:
        reset = reset_seconds(headers.get("x-ratelimit-reset"), date=headers.get("date"))
        if reset is not None:
            return min(reset, 60.0)
    return None


def describe_error(response: httpx.Response) -> str:
    """One line from either error shape: Telnyx's `errors[]` or FastAPI's 422 `detail[]`, naming
    the field where the body says which one. Scrubbed: a server may echo a value that was secret."""
    return scrub.scrub_echo(_describe(response))


def _describe(response: httpx.Response) -> str:
    status = response.status_code
    try:
        body = response.json()
    except (ValueError, jsonlib.JSONDecodeError):
        text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        return f"HTTP {status}" + (f": {text}" if text else "")
    parts: list[str] = []
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        for err in body["errors"]:
            if not isinstance(err, dict):
                continue
            msg = " - ".join(str(err[k]) for k in ("title", "detail") if err.get(k))
            source = err.get("source") or {}
            where = source.get("pointer") or source.get("parameter") if isinstance(source, dict) else None
            parts.append(f"{msg} (field {where})" if where else msg)
    elif isinstance(body, dict) and isinstance(body.get("detail"), list):
        for err in body["detail"]:
            if not isinstance(err, dict):
                continue
            loc = [str(x) for x in err.get("loc", []) if x != "body"]
            field = ".".join(loc)
            parts.append(f"{field}: {err.get('msg', 'invalid')}" if field else str(err.get("msg", "invalid")))
    elif isinstance(body, dict) and isinstance(body.get("detail"), str):
        parts.append(body["detail"])
    return f"HTTP {status}" + (": " + "; ".join(parts) if parts else "")
