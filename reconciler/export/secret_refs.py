"""Export never writes a secret value (issue #11): each becomes an `${env:NAME}` reference.

What is a secret is decided by the plan's own rule (`planning.secrets.secret_paths`: a string under a
secret-named key, a URL carrying credentials, or a header value but of a few standard headers), so
export hides what a plan would (but for values under the scrubber's MIN_LENGTH).
A value is kept as it is when it already holds no secret: an integration-secret reference
(`{{#integration_secret}}name{{/integration_secret}}`, resolved by Telnyx), or nothing but a mustache
template (`{{token}}`, a dynamic variable) after an auth scheme. Otherwise the value is written as
`${env:NAME}`, keeping a leading HTTP auth scheme in clear (`Bearer ${env:NAME}`: the scheme is no
secret and the reviewer sees how the header is built); NAME is then to be set to the rest.

NAME is derived from the resource and the field (`BOT_LOOKUP_AUTHORIZATION`: assistant `bot`, its
tool `lookup`, header `Authorization`), is a valid environment variable name, and is unique across
the export: the same place with the same value reuses its name (a version repeating main's tools),
another value gets a numbered one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import ENV_REF
from reconciler.planning.secrets import AUTH_SCHEMES, secret_paths
from reconciler.tree import dotted, map_strings

INTEGRATION_SECRET = re.compile(r"\{\{#integration_secret\}\}.*?\{\{/integration_secret\}\}", re.DOTALL)
MUSTACHE_ONLY = re.compile(r"^(?:\s*\{\{[^{}]*\}\}\s*)+$")
# An HTTP authentication scheme (planning/secrets.py's AUTH_SCHEMES) is kept in clear when a value starts
# with one and a space: only then, so a password that happens to hold a space is never cut.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9-]*) +(\S.*)$", re.DOTALL)


@dataclass
class Variable:
    """One `${env:NAME}` that export wrote in place of a secret value."""

    name: str
    where: str  # `assistant 'bot' tools[0].webhook.headers[0].value`
    scheme: str = ""  # the auth scheme kept in clear before the reference, if any


@dataclass
class SecretRefs:
    """The variables of one export, so that names stay unique and a warning can list them all."""

    variables: list[Variable] = field(default_factory=list)
    _values: dict[str, str] = field(default_factory=dict)  # NAME -> the value it stands for (in memory only)

    def replace(self, spec: dict[str, Any], resource: str, where: str, version: str | None = None) -> dict[str, Any]:
        """`spec` with every secret value replaced by a reference (a new object; `spec` is not changed)."""
        paths = set(secret_paths(spec))

        def rewrite(value: str, path: tuple[Any, ...]) -> str:
            if path not in paths or ENV_REF.search(value) or INTEGRATION_SECRET.search(value):
                return value
            scheme, secret = _split_scheme(value)
            if not secret or MUSTACHE_ONLY.match(secret):
                return value
            name = self._name(_name_parts(spec, path, resource), secret, resource, version)
            if name not in {v.name for v in self.variables}:
                self.variables.append(Variable(name, f"{where} {dotted(path)}", scheme.strip()))
            return f"{scheme}${{env:{name}}}"

        out: dict[str, Any] = map_strings(spec, rewrite) if paths else spec
        return out

    def warnings(self) -> list[str]:
        """One line saying what to set, then one per variable saying where it is used."""
        if not self.variables:
            return []
        names = ", ".join(v.name for v in self.variables)
        lines = [f"{len(self.variables)} secret value(s) written as ${{env:NAME}} references, not in clear: set "
                 f"{names} to the live values before plan"]
        for v in self.variables:
            what = f" (the credential after `{v.scheme} `)" if v.scheme else ""
            lines.append(f"{v.name}: {v.where}{what}")
        return lines

    def _name(self, parts: list[str], value: str, resource: str, version: str | None) -> str:
        base = env_name(parts)
        candidates = [base]
        if version is not None:  # a version's own value: first try a name that says which version
            candidates.append(env_name([resource, version, *parts[1:]]))
        for name in candidates:
            if self._values.get(name, value) == value:
                self._values[name] = value
                return name
        n = 2
        while self._values.get(f"{base}_{n}", value) != value:
            n += 1
        self._values[f"{base}_{n}"] = value
        return f"{base}_{n}"


def env_name(parts: list[str]) -> str:
    """`parts` as an environment variable name: upper case letters, digits and `_`, never starting
    with a digit."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", "_".join(parts)).strip("_").upper()
    return name if name and not name[0].isdigit() else f"SECRET_{name}".rstrip("_")


def _split_scheme(value: str) -> tuple[str, str]:
    match = _SCHEME.match(value)
    if match and match.group(1).lower() in AUTH_SCHEMES:
        return value[: match.start(2)], match.group(2)
    return "", value


def _name_parts(spec: dict[str, Any], path: tuple[Any, ...], resource: str) -> list[str]:
    """The resource, then what names each list item on the way (a header's or a tool's name), then the
    last key unless it is a header's `value` (already named by the header's name)."""
    parts = [resource]
    node: Any = spec
    for i, part in enumerate(path):
        if isinstance(node, list) and isinstance(part, int):
            node = node[part]
            label = _item_label(node)
            if label:
                parts.append(label)
        elif isinstance(node, dict):
            node = node[part]
            if i == len(path) - 1 and part != "value":
                parts.append(str(part))
    if len(parts) == 1:
        parts.append("secret")
    return parts


def _item_label(item: Any) -> str:
    if not isinstance(item, dict):
        return ""
    if isinstance(item.get("name"), str):
        return str(item["name"])
    payload = item.get(str(item.get("type")))  # an inline tool: {type: webhook, webhook: {name: ...}}
    return str(payload["name"]) if isinstance(payload, dict) and isinstance(payload.get("name"), str) else ""
