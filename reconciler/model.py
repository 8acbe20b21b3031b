"""Desired and live state: the data that flows from `manifest` and `live` into `planner`.

Field names inside every `spec` are the Telnyx API's own. Manifest-only keys of an assistant spec
(`shared_tools`, `mcp_servers[].server`) stay in `spec` in their manifest form; the planner turns
them into `tool_ids` and `mcp_servers[].id`. `versions` and `canary` are lifted out of `spec`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler import scrub
from reconciler.kinds import DEFAULT_OWNER_TAG, KINDS
from reconciler.tree import merge

ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


class SensitiveStr(str):
    """A string whose value came from `${env:NAME}`.

    It compares and hashes as its value (so the diff sees the real value) but remembers the text
    with the references (`reference`), which is what a saved plan stores. Every renderer prints
    `(sensitive)` for it; `repr` never shows the value, so it cannot leak through a traceback.
    """

    reference: str

    def __new__(cls, value: str, reference: str) -> SensitiveStr:
        obj = super().__new__(cls, value)
        obj.reference = reference
        return obj

    def __repr__(self) -> str:
        return "SensitiveStr('(sensitive)')"

    def __deepcopy__(self, memo: dict[int, Any]) -> SensitiveStr:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (SensitiveStr, (str(self), self.reference))


def resolve_env(text: str, env: Mapping[str, str]) -> tuple[SensitiveStr, list[str]]:
    """`text` with each `${env:NAME}` replaced by its value, as a SensitiveStr that remembers `text`;
    and the names that are not set (replaced by nothing). Each value is registered with the
    scrubber: from now on no message of this process can show it."""
    missing: list[str] = []

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            missing.append(name)
            return ""
        scrub.register_env(name, env[name])
        return env[name]

    value = ENV_REF.sub(value_of, text)
    scrub.register_composite(value)
    return SensitiveStr(value, text), missing


def contains_sensitive(value: Any) -> bool:
    """True if any string inside `value` is a SensitiveStr."""
    if isinstance(value, SensitiveStr):
        return True
    if isinstance(value, dict):
        return any(contains_sensitive(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_sensitive(v) for v in value)
    return False


def to_references(value: Any) -> Any:
    """A copy of `value` with every SensitiveStr replaced by its `${env:…}` text (for saved plans)."""
    if isinstance(value, SensitiveStr):
        return value.reference
    if isinstance(value, dict):
        return {k: to_references(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_references(v) for v in value]
    return value


@dataclass(frozen=True)
class SourcePos:
    """Where a document (or a node of it) was written."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Metadata:
    name: str
    id: str | None = None
    previous_names: tuple[str, ...] = ()
    protect: bool = False
    # Confirms taking over a live assistant of this name that lacks the owner tag (issue #11).
    adopt: bool = False
    ignore_changes: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, meta: Mapping[str, Any]) -> Metadata:
        """From a manifest's `metadata` block (checked) or a saved plan's copy of it."""
        return cls(name=meta["name"], id=meta.get("id"), previous_names=tuple(meta.get("previous_names", ())),
                   protect=bool(meta.get("protect", False)), adopt=bool(meta.get("adopt", False)),
                   ignore_changes=tuple(meta.get("ignore_changes", ())))


@dataclass(frozen=True)
class Gate:
    """A suite that must pass against a version before the traffic it receives may rise."""

    suite: str
    timeout_s: float = 900.0


@dataclass(frozen=True)
class VersionSpec:
    """A named assistant version: an overlay deep-merged onto the main spec."""

    name: str
    overlay: dict[str, Any]
    source: SourcePos | None = None
    gate: Gate | None = None


@dataclass
class DesiredResource:
    """One resource as the manifests declare it."""

    kind: str  # "Assistant" | "Tool" | "McpServer"
    metadata: Metadata
    spec: dict[str, Any]
    source: SourcePos | None = None
    # Assistant only. None means "not declared": live versions / canary are then left alone.
    versions: tuple[VersionSpec, ...] | None = None
    # The canary as ordered rules naming versions (reconciler/canary.py); () declares none.
    canary: tuple[dict[str, Any], ...] | None = None
    # Assistant only: the entry of `versions` that is the main version (None: `spec` itself is main).
    main_version: str | None = None
    # Assistant and AssistantTest: its document as loaded (manifest/yamlpos.Document: the data as written, and the
    # positions of its values, found only when first asked for), for where a reference is written when
    # a plan error needs it (`reference_source`); nothing is located otherwise. Not part of what a
    # saved plan holds or compares.
    written: Any = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def address(self) -> str:
        return f"{KINDS[self.kind].address_prefix}.{self.metadata.name}"

    def reference_source(self, key: str, name: str) -> SourcePos | None:
        """Where the main spec's document writes the reference `name` under `key` (`shared_tools`, or
        `mcp_servers` by `server`; a test's `assistant`), if it writes it there as the resolved spec holds it (an
        environment's overlay may have put another list in its place)."""
        doc = self.written
        data = getattr(doc, "data", None)
        spec = data.get("spec") if isinstance(data, dict) else None
        items, resolved = spec.get(key) if isinstance(spec, dict) else None, self.spec.get(key)
        if isinstance(items, str) and items == name == resolved:  # one name (a test's `assistant`)
            line, col = doc.pos(("spec", key))
            return SourcePos(doc.file, line, col)
        if not isinstance(items, list) or not isinstance(resolved, list):
            return None
        for i, item in enumerate(items):
            if (item.get("server") if isinstance(item, dict) else item) == name and (
                    items is resolved or (i < len(resolved) and resolved[i] == item)):
                line, col = doc.pos(("spec", key, i))
                return SourcePos(doc.file, line, col)
        return None

    def main_entry(self) -> VersionSpec | None:
        """The entry of `versions` that `main_version` names (None without one)."""
        return next((v for v in self.versions or () if v.name == self.main_version), None)

    def version_spec(self, version: VersionSpec) -> dict[str, Any]:
        """The full spec of a named version: the main spec with the version's overlay merged on (a
        new dict; the values it shares with the main spec are not to be changed)."""
        out: dict[str, Any] = merge(self.spec, version.overlay)
        return out


@dataclass(frozen=True)
class PrunePolicy:
    """What `--prune` may delete. Assistants are proven owned by the owner tag; tools and MCP servers
    have no tags, so their ownership is proven by a name prefix the project reserves."""

    kinds: tuple[str, ...] = ("Assistant",)
    enabled: bool = False  # prune on every plan/apply, as if --prune were given
    tool_name_prefix: str | None = None
    mcp_server_name_prefix: str | None = None
    test_name_prefix: str | None = None  # AssistantTest: tests carry no tags either


@dataclass(frozen=True)
class EnvironmentSpec:
    """One environment the Project declares (docs/manifests.md, "Environments"): the account it is
    bound to (the variable holding its API key, its base URL) and the owner tag that marks what it owns."""

    name: str
    owner_tag: str
    api_key_env: str = "TELNYX_API_KEY"
    base_url: str | None = None


@dataclass(frozen=True)
class ProjectSpec:
    """The Project document. With environments, the state is loaded for one of them: `environment`
    names it and `owner_tag` is that environment's; `environments` lists them all, so that the live
    marks of the others can be recognised (an account that holds them is the wrong account)."""

    name: str = "default"
    owner_tag: str = DEFAULT_OWNER_TAG
    prune: PrunePolicy = field(default_factory=PrunePolicy)
    # Owner tags this project used before: an assistant carrying one is still ours, and the plan
    # moves it to `owner_tag` (the old tag goes, the new one comes, in one apply).
    previous_owner_tags: tuple[str, ...] = ()
    environment: str | None = None
    environments: tuple[EnvironmentSpec, ...] = ()

    @property
    def current(self) -> EnvironmentSpec | None:
        """The environment this state was loaded for (None without environments)."""
        return next((e for e in self.environments if e.name == self.environment), None)

    @property
    def owner_tags(self) -> frozenset[str]:
        """Every tag that proves this project owns a live assistant: the owner tag and the previous ones."""
        return frozenset({self.owner_tag, *self.previous_owner_tags})

    def foreign_marks(self) -> dict[str, str]:
        """Owner tag -> environment, for every environment of this project but the current one."""
        return {e.owner_tag: e.name for e in self.environments if e.name != self.environment}


@dataclass
class DesiredState:
    resources: list[DesiredResource] = field(default_factory=list)
    project: ProjectSpec = field(default_factory=ProjectSpec)

    def of_kind(self, kind: str) -> list[DesiredResource]:
        return [r for r in self.resources if r.kind == kind]


@dataclass
class LiveState:
    """What the API returned, as it returned it (bare objects, wrappers already removed).

    `versions` and `canaries` hold entries only for the assistants whose versions / canary the plan
    needs; a canary value of None means the assistant has no canary configuration.
    `fingerprints` maps each read (a "GET /path" string) to a hash of what it returned, so that a
    saved plan can prove the live objects have not changed since.
    """

    assistants: list[dict[str, Any]] = field(default_factory=list)
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    canaries: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    tools: list[dict[str, Any]] = field(default_factory=list)
    mcp_servers: list[dict[str, Any]] = field(default_factory=list)
    tests: list[dict[str, Any]] = field(default_factory=list)  # read only when the plan needs them
    fingerprints: dict[str, str] = field(default_factory=dict)

