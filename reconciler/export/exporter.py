"""Live objects -> manifest files: the pure half of `reconciler export`.

`export(live)` turns what the API returned (a LiveState with every assistant's versions and canary)
into the text of one manifest file per resource, so that `plan` on the result shows no change. What
it writes is only what the user owns: no ids, timestamps or server-created ids, no value equal to the
API's declared default (read from the schemas, see schema.py), references by name rather than id
(`shared_tools`, `mcp_servers[].server`, canary versions), versions as overlays holding only what
differs from the main version, and long instructions in their own file. How each object is named
and pinned is naming.py.

The output is deterministic: the same account exports to the same bytes (keys in a fixed order, lists
that compare as sets sorted), and a change in the account shows as a small, readable git diff.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from reconciler import canary as canary_rules
from reconciler.api.endpoints import tool_spec
from reconciler.export.dump import dump_document
from reconciler.export.naming import Identity, identities, metadata, slugify
from reconciler.export.schema import spec_keys, strip_spec, type_enum
from reconciler.export.secret_refs import SecretRefs
from reconciler.export.tests import test_spec
from reconciler.kinds import (
    DEFAULT_OWNER_TAG,
    DEFAULT_VERSION_NAME,
    KINDS,
    PROTECT_TAG,
    REFERENCE_KEYS,
    RESOURCE_KINDS,
    SERVER_FIELDS,
    SET_LIKE_KEYS,
)
from reconciler.manifest.loader import problems_of
from reconciler.model import ENV_REF, LiveState

API_VERSION = "reconciler/v1"
# Output folder of each kind; prompts hold instructions too long to read inline.
FOLDERS = {"Assistant": "assistants", "Tool": "tools", "McpServer": "mcp_servers", "AssistantTest": "tests"}
PROMPTS = "prompts"
# Instructions longer than this, or on several lines, go to prompts/<slug>.md.
INLINE_INSTRUCTIONS_MAX = 200


@dataclass
class ExportResult:
    """The files to write (path relative to the output folder -> text) and what the user should know."""

    files: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _sorted_sets(value: Any, key: str | None = None) -> Any:
    """Sort the lists the planner compares as sets, wherever they are."""
    if isinstance(value, dict):
        return {k: _sorted_sets(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted_sets(v) for v in value]
        if key in SET_LIKE_KEYS and all(isinstance(i, str) for i in items):
            return sorted(set(items))
        return items
    return value


class _Exporter:
    """One export: names for every live object first (references need them), then the files."""

    def __init__(self, live: LiveState, kinds: Collection[str], owner_tag: str) -> None:
        self.live = live
        self.kinds = set(kinds)
        self.owner_tag = owner_tag
        self.result = ExportResult()
        self.warnings = self.result.warnings
        self.secrets = SecretRefs()  # secret values become ${env:NAME} references (secret_refs.py)
        self.tools = identities("Tool", live.tools, self.warnings)
        self.servers = identities("McpServer", live.mcp_servers, self.warnings)
        self.assistants = identities("Assistant", live.assistants, self.warnings)
        # Names are chosen as for the other kinds; a test's id is its `test_id`.
        self.tests = identities("AssistantTest", [{**t, "id": t.get(KINDS["AssistantTest"].id_field)}
                                                   for t in live.tests], self.warnings)

    # --- output --------------------------------------------------------------------------------------

    def _write(self, kind: str, ident: Identity, metadata: dict[str, Any], spec: dict[str, Any]) -> None:
        doc = {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}
        path = f"{FOLDERS[kind]}/{ident.slug}.yaml"
        self.result.files[path] = dump_document(doc, [ident.note] if ident.note else [])
        self.result.counts[kind] = self.result.counts.get(kind, 0) + 1

    def _check_strings(self, where: str, value: Any) -> None:
        if isinstance(value, str) and ENV_REF.search(value):
            self.warnings.append(f"{where}: holds text of the form ${{env:NAME}}, which manifests read as an "
                                 f"environment variable reference")
        elif isinstance(value, dict):
            for v in value.values():
                self._check_strings(where, v)
        elif isinstance(value, list):
            for v in value:
                self._check_strings(where, v)

    # --- shared tools and MCP servers ------------------------------------------------------------------

    def tool(self, obj: dict[str, Any]) -> None:
        """One shared tool as a Tool manifest."""
        ident = self.tools[str(obj["id"])]
        if obj.get("type") not in type_enum("Tool"):
            # Assistants still refer to it by its live name, which the plan resolves.
            self.warnings.append(f"tool {ident.name!r}: type {obj.get('type')!r} has no manifest form; not exported")
            return
        spec = _sorted_sets(strip_spec("Tool", tool_spec(obj)))
        spec.pop(KINDS["Tool"].name_field, None)
        allowed = spec_keys("Tool")
        dropped = sorted(k for k in spec if k not in allowed)
        if dropped:
            self.warnings.append(f"tool {ident.name!r}: fields {', '.join(dropped)} have no manifest form; "
                                 "left out (plan ignores them)")
            spec = {k: v for k, v in spec.items() if k in allowed}
        # The API takes shared-tool payloads as free-form objects; a manifest holds them to the inline
        # tool shapes. A tool that would not validate is left live and said so, never written broken.
        problems = problems_of({"apiVersion": "reconciler/v1", "kind": "Tool",
                                "metadata": {"name": ident.name}, "spec": spec})
        if problems:
            self.warnings.append(f"tool {ident.name!r}: not exported: its live definition does not fit a Tool "
                                 f"manifest ({problems[0]}); assistants still refer to it by name")
            return
        self._check_strings(f"tool {ident.name!r}", spec)
        spec = self.secrets.replace(spec, ident.name, f"tool {ident.name!r}")
        self._write("Tool", ident, metadata(ident, str(obj["id"]), KINDS["Tool"].name_field), spec)

    def mcp_server(self, obj: dict[str, Any]) -> None:
        """One MCP server as an McpServer manifest: type, url, api_key_ref, allowed_tools."""
        ident = self.servers[str(obj["id"])]
        spec = {k: obj[k] for k in sorted(spec_keys("McpServer")) if obj.get(k) is not None}
        spec = _sorted_sets(strip_spec("McpServer", spec))
        self._check_strings(f"MCP server {ident.name!r}", spec)
        spec = self.secrets.replace(spec, ident.name, f"MCP server {ident.name!r}")
        self._write("McpServer", ident, metadata(ident, str(obj["id"]), "name"), spec)

    # --- assistants ------------------------------------------------------------------------------------

    def _reference_name(self, kind: str, obj_id: Any, where: str) -> str:
        known = self.tools if kind == "Tool" else self.servers
        ident = known.get(str(obj_id))
        if ident is None:
            self.warnings.append(f"{where}: refers to {kind} {obj_id}, which does not exist; kept as its id")
            return str(obj_id)
        if ident.pinned and kind not in self.kinds:
            self.warnings.append(f"{where}: refers to {kind} {ident.name!r}, whose live name is shared; export "
                                 f"{kind} too so that the name resolves")
        return ident.name

    def assistant_spec(self, obj: dict[str, Any], where: str, *, strip: bool = True) -> dict[str, Any]:
        """A live assistant (or version) as a manifest spec, before instructions move to files.
        `strip`: drop values equal to the API's declared defaults (not when the spec is one side of a
        version overlay: a version may hold the default where main does not)."""
        allowed = spec_keys("Assistant") - {"versions", "canary", "instructions_file", *REFERENCE_KEYS}
        spec = {k: v for k, v in obj.items() if k in allowed}
        tools = spec.get("tools")
        known = type_enum("Assistant", "tools")
        if isinstance(tools, list) and any(not isinstance(t, dict) or t.get("type") not in known for t in tools):
            kinds = sorted({str(t.get("type")) if isinstance(t, dict) else "?" for t in tools} - known)
            self.warnings.append(f"{where}: inline tools of type {', '.join(kinds)} have no manifest form; "
                                 "`tools` left out (plan leaves them alone)")
            spec.pop("tools")
        # Server-created ids: the server owns them and keeps them through updates.
        for parent, key in (("telephony_settings", "default_texml_app_id"),
                            ("messaging_settings", "default_messaging_profile_id")):
            if isinstance(spec.get(parent), dict) and key in spec[parent]:
                rest = {k: v for k, v in spec[parent].items() if k != key}
                if rest:
                    spec[parent] = rest
                else:
                    del spec[parent]  # the server made the whole object: nothing of it is the user's
        spec["shared_tools"] = [self._reference_name("Tool", t, where) for t in obj.get("tool_ids") or []]
        spec["mcp_servers"] = sorted(
            ({"server": self._reference_name("McpServer", e.get("id"), where),
              **{k: v for k, v in e.items() if k != "id" and v is not None}}
             for e in obj.get("mcp_servers") or [] if isinstance(e, dict)),
            key=lambda e: str(e["server"]))
        tags = [t for t in obj.get("tags") or [] if t not in (self.owner_tag, PROTECT_TAG)]
        spec["tags"] = tags
        unknown = sorted(k for k, v in obj.items()
                         if k not in allowed and k not in _NOT_EXPORTED and v not in (None, [], {}, ""))
        if unknown:
            self.warnings.append(f"{where}: fields {', '.join(unknown)} have no manifest form; left out")
        if strip:
            spec = strip_spec("Assistant", spec)
        for key in (*REFERENCE_KEYS, "tags"):
            if spec.get(key) == []:
                del spec[key]  # nothing attached: same as the API's empty default
        out: dict[str, Any] = _sorted_sets(spec)
        return out

    def assistant(self, obj: dict[str, Any]) -> None:
        """One assistant as an Assistant manifest, with its named versions and canary."""
        aid = str(obj["id"])
        ident = self.assistants[aid]
        where = f"assistant {ident.name!r}"
        main = self.assistant_spec(obj, where)
        self._check_strings(where, main)
        main = self.secrets.replace(main, ident.name, where)
        if "instructions" not in main:
            self.warnings.append(f"{where}: has no instructions; written as an empty string")
            main["instructions"] = ""
        versions, canary = self._versions(obj, main, where)
        spec = self._instructions(main, ident.slug, None)
        main_name = obj.get("version_name")
        if versions is not None and isinstance(main_name, str) and main_name not in (DEFAULT_VERSION_NAME, "") \
                and all(name != main_name for name, _ in versions):
            # A named main (a promotion made it so): written as `main_version`, so rollback stays one edit.
            spec["main_version"] = main_name
            versions = sorted([*versions, (main_name, {})])
        if versions is not None:
            for name, overlay in versions:
                self._check_strings(f"{where} version {name!r}", overlay)
            versions = [(name, self.secrets.replace(overlay, ident.name, f"{where} version {name!r}", name))
                        for name, overlay in versions]
            spec["versions"] = [
                {"name": name, "spec": self._instructions(overlay, ident.slug, name)} for name, overlay in versions
            ]
        if canary is not None:
            spec["canary"] = canary
        protect = PROTECT_TAG in (obj.get("tags") or [])
        meta = metadata(ident, aid, "name", protect)
        if self.owner_tag not in (obj.get("tags") or []) and "id" not in meta:
            # Not this project's yet: `adopt: true` confirms the adoption (issue #11), so the
            # exported manifests plan clean instead of as adoptions that apply refuses.
            meta["adopt"] = True
        self._write("Assistant", ident, meta, spec)

    def assistant_test(self, obj: dict[str, Any]) -> None:
        """One assistant test as an AssistantTest manifest; its assistant by name."""
        test_id = str(obj.get(KINDS["AssistantTest"].id_field))
        ident = self.tests[test_id]
        where = f"assistant test {ident.name!r}"
        spec, unknown = test_spec(obj, {aid: i.name for aid, i in self.assistants.items()})
        if unknown:
            self.warnings.append(f"{where}: fields {', '.join(unknown)} have no manifest form; left out")
        self._check_strings(where, spec)
        spec = self.secrets.replace(spec, ident.name, where)
        spec = self._instructions(spec, f"test-{ident.slug}", None)
        self._write("AssistantTest", ident, metadata(ident, test_id, "name"), spec)

    def _instructions(self, spec: dict[str, Any], slug: str, version: str | None) -> dict[str, Any]:
        """Long or multi-line instructions move to prompts/<slug>[.<version>].md, referenced by
        `instructions_file` (relative to the manifest). Text with a carriage return stays inline: a
        file is read with universal newlines, which would change it."""
        text = spec.get("instructions")
        if not isinstance(text, str) or "\r" in text:
            return spec
        if len(text) <= INLINE_INSTRUCTIONS_MAX and "\n" not in text:
            return spec
        name = slug if version is None else f"{slug}.{slugify(version) or 'version'}"
        path = f"{PROMPTS}/{name}.md"
        while path in self.result.files:  # two version names with the same slug
            name += "-1"
            path = f"{PROMPTS}/{name}.md"
        self.result.files[path] = text
        out = {k: v for k, v in spec.items() if k != "instructions"}
        out["instructions_file"] = f"../{path}"
        return dict(sorted(out.items()))

    def _versions(self, obj: dict[str, Any], main: dict[str, Any], where: str
                  ) -> tuple[list[tuple[str, dict[str, Any]]] | None, list[dict[str, Any]] | dict[str, Any] | None]:
        """Named versions as overlays on the main spec, and the canary by version name. None where
        they cannot be declared faithfully (then the plan leaves them alone)."""
        aid = str(obj["id"])
        main_id = obj.get("version_id")
        others = [v for v in self.live.versions.get(aid, []) if main_id is None or v.get("version_id") != main_id]
        live_canary = self.live.canaries.get(aid)
        split = canary_rules.from_live(live_canary, {})
        if not others:
            if split:
                self.warnings.append(f"{where}: its canary names versions that are not listed; canary not exported")
            return None, None
        names = [str(v.get("version_name") or "") for v in others]
        clashes = sorted({n for n in names if names.count(n) > 1 or not n})
        if clashes:
            self.warnings.append(f"{where}: version names {', '.join(repr(n) for n in clashes)} are not unique; "
                                 "versions and canary not exported (plan leaves them alone)")
            return None, None
        # By name, not by date: a folder applied to a new account creates versions in any order.
        others.sort(key=lambda v: str(v.get("version_name")))
        # Overlays compare unstripped specs: a version may hold an API default where main holds
        # another value, and stripping first would turn that into a null (a clear) in the overlay.
        base = {k: v for k, v in self.assistant_spec(obj, where, strip=False).items() if k != "tags"}
        versions = []
        for v in others:
            label = f"{where} version {v.get('version_name')!r}"
            full = {k: val for k, val in self.assistant_spec(v, label, strip=False).items() if k != "tags"}
            versions.append((str(v["version_name"]), overlay_diff(base, full)))
        by_id = {str(v.get("version_id")): str(v.get("version_name")) for v in others}
        if not split:
            return versions, None
        if any(str(vid) not in by_id for vid in canary_rules.served(split)):
            self.warnings.append(f"{where}: its canary names a version that is not a named version; "
                                 "canary not exported")
            return versions, None
        # Rules by version name; one catch-all rollout in the short form, as a person would write it.
        # Slots stay in the live order, as rules do: the API stores and answers a rollout as a list,
        # the plan compares it by position (docs/api-assumptions.md, "Canary rules"), and a sorted
        # export would plan a reorder of an account it was just read from.
        rules = canary_rules.from_live(live_canary, by_id)
        short = canary_rules.as_short_form(rules)
        if short is not None:
            return versions, short
        return versions, {"rules": list(rules)}

    def run(self) -> ExportResult:
        """Every resource of the wanted kinds, files sorted by path."""
        for kind, objects, export in (("Tool", self.live.tools, self.tool),
                                      ("McpServer", self.live.mcp_servers, self.mcp_server),
                                      ("Assistant", self.live.assistants, self.assistant),
                                      ("AssistantTest", self.live.tests, self.assistant_test)):
            if kind in self.kinds:
                for obj in objects:
                    export(obj)
        self.result.files = dict(sorted(self.result.files.items()))
        self.warnings.extend(self.secrets.warnings())
        # Versions repeat what their main version says (a dangling reference, an unknown field): once is enough.
        self.result.warnings[:] = list(dict.fromkeys(self.result.warnings))
        return self.result


# API fields that are the server's, or are written in another form: never reported as left out.
_NOT_EXPORTED = SERVER_FIELDS["Assistant"] | {"name", "tool_ids", "mcp_servers", "tags"}


def overlay_diff(base: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """The overlay that turns `base` into `target` under `tree.merge`: objects differ key by
    key, lists and scalars whole, and a key `target` lacks is `null`."""
    out: dict[str, Any] = {}
    for key in sorted(set(base) | set(target)):
        if key not in target:
            out[key] = None
        elif key not in base:
            out[key] = target[key]
        elif isinstance(base[key], dict) and isinstance(target[key], dict):
            inner = overlay_diff(base[key], target[key])
            if inner:
                out[key] = inner
        elif base[key] != target[key] or type(base[key]) is not type(target[key]):
            out[key] = target[key]
    return out


def export(live: LiveState, kinds: Iterable[str] = RESOURCE_KINDS, owner_tag: str = DEFAULT_OWNER_TAG
           ) -> ExportResult:
    """Manifest files for the live resources of `kinds`.

    `live` must hold every assistant's versions and canary (`LiveState.versions` / `.canaries`) for
    versions to be exported. References to resources of kinds not exported still use their names.
    The owner and protect tags are not written as tags: the planner keeps the owner tag where it is
    and `metadata.protect: true` stands for the protect tag.
    """
    return _Exporter(live, tuple(kinds), owner_tag).run()
