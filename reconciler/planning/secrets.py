"""Which live values are probably secrets, told by shape, and the masking that keeps them out of a
plan: reconciler keeps no state saying which fields came from `${env:}`, so a plan must not print the
old value of a field that looks like it held one. `export` uses the same rules (`secret_paths`), so
what a plan would hide is what export never writes."""

from __future__ import annotations

import json
import re
from typing import Any

from reconciler.model import SensitiveStr, contains_sensitive
from reconciler.scrub import MIN_LENGTH, SECRET_QUERY_NAMES
from reconciler.tree import at

# Live values that are probably secrets: a plan must not print the old value of a field that held
# one (reconciler keeps no state saying which fields came from ${env:}, so it is told by shape).
_SECRET_KEY = re.compile(r"password|secret|token|authorization|api_key|apikey|credential", re.IGNORECASE)
_SECRET_HEADER = re.compile(r"auth|token|key|secret|cookie|password|signature", re.IGNORECASE)
_HEADER_LISTS = ("headers", "custom_headers", "sip_headers")


# A URL can carry a credential whatever key holds it: `user:password@`, or a query parameter named
# like one (`?token=...`, `&api_key=...`, `&sig=...`).
_URL_USERINFO = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]+@", re.IGNORECASE)
_URL_SECRET_QUERY = re.compile(r"^[a-z][a-z0-9+.-]*://[^?#]*\?(?:[^#]*&)?[^=&#]*(?:" + SECRET_QUERY_NAMES
                               + r")[^=&#]*=[^&#]", re.IGNORECASE)


def _secret_url(value: str) -> bool:
    return bool(_URL_USERINFO.match(value) or _URL_SECRET_QUERY.match(value))


def _secret_key(key: Any) -> bool:
    # `*_ref` names a secret kept by Telnyx (`api_key_ref`), `*_url` says where one is fetched from
    # (`external_llm.token_retrieval_url`): neither is a secret value, and export must keep them.
    return isinstance(key, str) and not key.endswith(("_ref", "_url")) and bool(_SECRET_KEY.search(key))


def holds_secret(value: Any, key: Any = None) -> bool:
    """Whether `value` (found under `key`) is or contains a probable secret."""
    if isinstance(value, str):
        return _secret_key(key) or _secret_url(value)
    if isinstance(value, dict):
        if _SECRET_HEADER.search(str(value.get("name", ""))) and "value" in value:
            return True  # a header entry such as {name: Authorization, value: ...}
        return any(holds_secret(v, k) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_secret(v, key) for v in value)
    return False


def secret_path(root: Any, path: list[Any]) -> bool:
    """Whether the value at `path` of `root` is a probable secret: under a secret-named key, or the
    value of a credential header."""
    # A key right under a JSON Schema's `properties` (a tool's parameters) names a parameter, not a
    # value: `properties.password.type` is the word "string".
    if any(_secret_key(part) and not (i and path[i - 1] == "properties") for i, part in enumerate(path)):
        return True
    value = at(root, path)
    if isinstance(value, str) and _secret_url(value):
        return True
    if len(path) >= 2 and path[-1] == "value" and any(p in _HEADER_LISTS for p in path if isinstance(p, str)):
        entry = at(root, path[:-1])
        return isinstance(entry, dict) and bool(_SECRET_HEADER.search(str(entry.get("name", ""))))
    return False


# Header values the plan shows as they are live: standard HTTP headers that describe the content or
# the client, which no API takes a credential in. Any other name, custom (`X-Custom`) or credential
# (`Authorization`), may hold one.
_PLAIN_HEADERS = frozenset({"accept", "accept-charset", "accept-encoding", "accept-language", "cache-control",
                            "content-encoding", "content-language", "content-type", "pragma", "user-agent"})
# HTTP authentication schemes (IANA's registry, plus the common `Token` and `Bot`): a value may start
# with one and a space (`Bearer ...`); the scheme is no secret (export keeps it in clear too).
AUTH_SCHEMES = frozenset({"basic", "bearer", "digest", "negotiate", "oauth", "token", "bot", "hoba", "mutual"})
# Nothing but Telnyx templates (`{{reason}}`, `{{#integration_secret}}name{{/integration_secret}}`),
# perhaps after an auth scheme (`Bearer {{token}}`): resolved by Telnyx at call time, names and no
# value. Only a scheme: any other word before a template may be the secret (`s3cr3t {{call_id}}`).
_TEMPLATES_ONLY = re.compile(r"\s*(?:(?i:" + "|".join(sorted(AUTH_SCHEMES)) + r")\s+)?"
                             r"(?:(?:\{\{#integration_secret\}\}[^{}]*\{\{/integration_secret\}\}|\{\{[^{}#/]*\}\})\s*)+")
_LIVE_HEADER = "(live header value)"  # the `reference` of a masked live header value: no ${env:}
_LIVE_VALUE = "(live value)"  # the same for any other masked live value


def _hidden_header(entry: Any) -> bool:
    """Whether the value of a header entry ({name, value}) is never shown from live."""
    if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
        return False
    return (str(entry.get("name", "")).strip().lower() not in _PLAIN_HEADERS
            and not _TEMPLATES_ONLY.fullmatch(entry["value"]))


def header_value(root: Any, path: list[Any]) -> bool:
    """Whether `path` of `root` is the value of a header (`...headers[2].value`) whose live value the
    plan never shows: headers are where an API credential goes, and with no state saying a value once
    came from `${env:}`, the plan cannot tell a secret in `X-Custom` from plain text. It shows that
    the value changes, not what it was."""
    return (len(path) >= 3 and path[-1] == "value" and isinstance(path[-2], int) and path[-3] in _HEADER_LISTS
            and _hidden_header(at(root, path[:-1])))


def owner_key(path: list[Any]) -> Any:
    """The key the value at `path` is under: an entry of a list is under the list's key (a header
    entry under `headers`)."""
    return next((p for p in reversed(path) if not isinstance(p, int)), None)


def mask_header_values(value: Any, key: Any = None) -> Any:
    """`value` (found under `key`) with each header value inside it that `header_value` hides made a
    SensitiveStr, which every view shows as `(sensitive)`: a changed or removed object still shows
    the rest of what it holds. `value` itself when it holds no such header (no copy)."""
    if isinstance(value, dict):
        if key in _HEADER_LISTS and _hidden_header(value) and not isinstance(value["value"], SensitiveStr):
            return {**value, "value": SensitiveStr(value["value"], _LIVE_HEADER)}
        masked = {k: mask_header_values(v, k) for k, v in value.items()}
        return value if all(masked[k] is value[k] for k in value) else masked
    if isinstance(value, list):
        items = [mask_header_values(v, key) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def mask_secrets(root: Any, path: list[Any], like: Any = None) -> Any:
    """A copy of the object or list at `path` of `root` (live) with each probable-secret leaf made a
    SensitiveStr, which every view shows as `(sensitive)`, and everything else as it is: a removed or
    replaced tool shows its name, url and header names, and no header value. A leaf is hidden by
    the rules that hide a value of its own (`holds_secret`, `secret_path`, `header_value`), and so
    is one where `like` (the value replacing it) holds a secret at the same place, the same path: the
    old value of a field that now holds a secret is most likely the old secret."""

    def walk(node: Any, where: list[Any], key: Any, twin: Any, hidden: bool) -> Any:
        if isinstance(node, dict):
            # A credential entry anywhere ({name: Authorization, value: ...}), as holds_secret tells one.
            entry = "value" in node and bool(_SECRET_HEADER.search(str(node.get("name", ""))))
            return {k: walk(v, [*where, k], k, twin.get(k) if isinstance(twin, dict) else None,
                            hidden or (entry and k == "value")) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, [*where, i], key, twin[i] if isinstance(twin, list) and i < len(twin) else None, hidden)
                    for i, v in enumerate(node)]
        if node is None or isinstance(node, SensitiveStr):
            return node  # nothing to hide, or hidden already
        if (hidden or contains_sensitive(twin) or _secret_key(key) or secret_path(root, where)
                or (isinstance(node, str) and (_secret_url(node) or header_value(root, where)))):
            # A number or a boolean under a secret-named key is hidden as well; its type goes with it.
            return SensitiveStr(node if isinstance(node, str) else json.dumps(node), _LIVE_VALUE)
        return node

    return walk(at(root, path), list(path), owner_key(path), like, False)


def secret_paths(root: Any) -> list[tuple[Any, ...]]:
    """Where in `root` a string is a probable secret, by the rules the plan masks old values with
    (`secret_path`, and `header_value`: any header but a few standard ones). `export` uses it too, so
    what a plan would hide is what export never writes: a file written to be committed must not hold
    a credential that a header not named like one carries. (A header value shorter than the
    scrubber's MIN_LENGTH is no secret worth the name, there as here: `1`, `abc` stay in clear.)"""
    found: list[tuple[Any, ...]] = []

    def walk(node: Any, path: list[Any]) -> None:
        if isinstance(node, str):
            if secret_path(root, path) or (len(node) >= MIN_LENGTH and header_value(root, path)):
                found.append(tuple(path))
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, key])
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, [*path, i])

    walk(root, [])
    return found
