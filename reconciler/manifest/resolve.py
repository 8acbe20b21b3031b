"""`${env:NAME}` and `instructions_file` in a document's spec: the values the checks see, the
references left unset, and the resolved spec a resource is built from.

Every problem found (an unset variable, a malformed reference, an instructions file that cannot be
read) is added to the caller's list at the position of the value that holds it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from reconciler.errors import ManifestProblem
from reconciler.manifest import environments
from reconciler.manifest import files as files_mod
from reconciler.manifest.schema import dotted, findings
from reconciler.manifest.yamlpos import Document, Path
from reconciler.model import ENV_REF, SensitiveStr, resolve_env


def with_env_values(doc: Document, env: Mapping[str, str]) -> Document:
    """The document as the schema checks must see it: in `spec`, a string whose `${env:NAME}`
    references are all set becomes a SensitiveStr of its value (a reference to an enum-typed field is
    valid when its value is). Messages print a SensitiveStr as the reference text, never the value.
    Unset variables stay as written; the resolver reports them, at their own line."""
    data = doc.data
    if doc.dollar_free or not isinstance(data, dict) or "${env:" not in repr(data.get("spec")):  # no rebuild
        return doc

    def values(node: Any) -> Any:
        if isinstance(node, str) and "${env:" in node:
            value, missing = resolve_env(node, env)
            return node if missing else value
        if isinstance(node, dict):
            return {k: values(v) for k, v in node.items()}
        if isinstance(node, list):
            return [values(v) for v in node]
        return node

    return doc.replaced(data={**data, "spec": values(data["spec"])})


def unset_paths(doc: Document, env: Mapping[str, str]) -> frozenset[Path]:
    """Where in `spec` a string references a variable that `env` does not set."""
    found: set[Path] = set()

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, str):
            if any(name not in env for name in ENV_REF.findall(node)):
                found.add(path)
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, (*path, i))

    data = doc.data
    if not doc.dollar_free and isinstance(data, dict) and "${env:" in repr(data.get("spec")):
        walk(data["spec"], ("spec",))
    return frozenset(found)


class Resolver:
    """Resolves `${env:NAME}` into SensitiveStr and `instructions_file` into `instructions` (with the
    `${var:NAME}` of `settings` in its text)."""

    def __init__(
        self, doc: Document, env: Mapping[str, str], problems: list[ManifestProblem], refs: files_mod.References,
        root: str, *, report_unset: bool = True, settings: environments.Settings | None = None,
    ) -> None:
        self.doc = doc
        self.settings = settings or environments.Settings()
        self.report_unset = report_unset
        self.env = env
        self.problems = problems
        self.refs = refs
        self.root = root
        self.base = os.path.dirname(doc.file) or "."
        # The API key's variables, which no value may reference (`string`).
        self.key_names = frozenset({"TELNYX_API_KEY", *(e.api_key_env for e in self.settings.environments)})

    def spec(self, spec: dict[str, Any], path: Path, assistant: bool) -> dict[str, Any]:
        # A document whose text holds no `$` holds no `${env:`: its values are their own resolution
        # (shared, not copied: trees are read-only once loaded). An instructions file may hold one.
        plain = self.doc.dollar_free
        out: dict[str, Any] = {}
        for key, value in spec.items():
            if plain and key not in ("instructions_file", "versions"):
                out[key] = value
            elif not assistant:
                out[key] = self.value(value, (*path, key))
            elif key == "instructions_file":
                if isinstance(value, str):
                    out["instructions"] = self.instructions(value, (*path, key))
                # `instructions_file: null` only says "no file": it never reaches the API.
            elif key == "versions" and isinstance(value, list):
                if plain and not any(_resolvable(e) for e in value):
                    out[key] = value  # no overlay names a file (or nests versions): shared as they are
                    continue
                out[key] = [
                    {**e, "spec": self.spec(e["spec"], (*path, key, i, "spec"), True)}
                    if isinstance(e, dict) and isinstance(e.get("spec"), dict)
                    else e
                    for i, e in enumerate(value)
                ]
            else:
                out[key] = self.value(value, (*path, key))
        return out

    def instructions(self, name: str, path: Path) -> str:
        try:
            text = self.refs.read(name, self.base, self.root)
        except files_mod.Refused as exc:
            # The reason never holds the file's content: only the path as written and why.
            self.problems.append(self.doc.problem(path, f"{dotted(path)}: '{name}' {exc}"))
            return ""
        # The file's content counts as if written inline, so `${var:…}` and `${env:…}` work the same in it.
        text = environments.in_text(text, self.settings, self.doc, path, self.problems)
        resolved = self.value(text, path)
        if all(n in self.env for n in ENV_REF.findall(text)):  # else reported (or allowed) as written inline
            self.as_inline(name, resolved, path)
        return str(resolved) if not isinstance(resolved, SensitiveStr) else resolved

    def as_inline(self, name: str, text: str, path: Path) -> None:
        """Hold a file's text to the schema of the inline value it stands for (an AssistantTest's
        `instructions` has 1 to 5,000 characters): the schema checks saw only the file's name, and
        the API would refuse the text at apply, after earlier writes. A problem is reported at the
        `*_file` value, never with the text (it may hold a secret from `${env:}`)."""
        kind = self.doc.data.get("kind") if isinstance(self.doc.data, dict) else None
        if not isinstance(kind, str):
            return
        inline = str(path[-1]).removesuffix("_file")
        for found in findings(kind, text, path, f"/$defs/Spec/properties/{inline}"):
            self.problems.append(self.doc.problem(path, f"{dotted(path)}: the text of '{name}' {found.detail} "
                                                  f"(as for {inline} written inline)"))

    def value(self, value: Any, path: Path) -> Any:
        if isinstance(value, str):
            return self.string(value, path) if "${env:" in value else value
        if isinstance(value, dict):
            return {k: self.value(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def string(self, text: str, path: Path) -> str:
        refused = self.key_names.intersection(ENV_REF.findall(text))
        for name in sorted(refused):
            # The API key sent as a value (a greeting, a header) would be stored in the account and
            # spoken or sent on: a pull request could hand it to anyone who calls the assistant.
            self.problems.append(self.doc.problem(path, f"${{env:{name}}} is the API key's variable: a manifest "
                                                  f"may not send the API key as a value"))
        value, missing = resolve_env(text, self.env)
        for name in [n for n in missing if n not in refused] if self.report_unset else ():
            self.problems.append(self.doc.problem(path, f"environment variable {name} is not set "
                                                  f"(referenced as ${{env:{name}}})"))
        if "${env:" in ENV_REF.sub("", text):
            self.problems.append(self.doc.problem(path, "malformed ${env:…} reference; write ${env:NAME} "
                                                  "with NAME made of letters, digits and _"))
        return value


def _resolvable(entry: Any) -> bool:
    """Whether a version entry of a document without `$` has anything for `Resolver.spec` to do."""
    overlay = entry.get("spec") if isinstance(entry, dict) else None
    return isinstance(overlay, dict) and ("instructions_file" in overlay or "versions" in overlay)
