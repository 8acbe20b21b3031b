"""Checks that a JSON Schema cannot express: one document's internal rules (instructions, versions,
canary, tool payloads, prune policy) and rules across documents (duplicate names, one Project).

Every check reads the raw document defensively: the schema has already reported wrong types, so a
check only looks at values of the shape it expects and stays silent otherwise (one problem, one line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.errors import ManifestProblem
from reconciler.kinds import DEFAULT_TEST_CHANNEL, TEST_ASSISTANT_CHANNELS, TOOL_PAYLOAD_KEYS
from reconciler.manifest.schema import did_you_mean, dotted, findings, message, to_problem, unknown_null_keys
from reconciler.manifest.yamlpos import Document, Path
from reconciler.model import SensitiveStr
from reconciler.tree import merge

_INSTRUCTIONS = ("instructions", "instructions_file")
_LIFTED = ("versions", "canary", "main_version")  # not part of a version's merged spec
# Assistant fields that `null` cannot clear: required in the API's assistant object (the 2026-04-29
# snapshot's `inference-embedding_Assistant` requires id, name, created_at, model, instructions; the
# SDK types model as `str`, never None). name is metadata.name and instructions has its own rule.
NOT_CLEARABLE = ("model",)


def shown(value: str) -> str:
    """A value as a message may show it: one from `${env:…}` as the reference written, never its value."""
    return value.reference if isinstance(value, SensitiveStr) else value


def _secret(value: str) -> bool:
    return isinstance(value, SensitiveStr)


def document_checks(doc: Document, kind: str) -> list[ManifestProblem]:
    """The rules of one document beyond its schema."""
    spec = doc.data.get("spec")
    if not isinstance(spec, dict):
        return []
    if kind == "Assistant":
        return _assistant(doc, spec)
    if kind == "Tool":
        return _tool(doc, spec)
    if kind == "AssistantTest":
        return _assistant_test(doc, spec)
    if kind == "Project":
        return _project(doc, spec)
    return []


def _instructions(doc: Document, spec: dict[str, Any]) -> list[ManifestProblem]:
    # `instructions: null` beside a file would clear what the file gives: both keys count as given.
    if "instructions" in spec and spec.get("instructions_file") is not None:
        return [doc.problem(("spec", "instructions_file"), "spec: give instructions or instructions_file, "
                            "not both", at_key=True)]
    if spec.get("instructions") is None and spec.get("instructions_file") is None:
        return [doc.problem(("spec",), "spec: missing instructions (or instructions_file); "
                            "the API requires instructions", at_key=True)]
    return []


def _assistant_test(doc: Document, spec: dict[str, Any]) -> list[ManifestProblem]:
    out = _instructions(doc, spec)
    channel = spec.get("telnyx_conversation_channel", DEFAULT_TEST_CHANNEL)
    if "assistant" in spec and "destination" in spec:
        out.append(doc.problem(("spec", "destination"), "spec: give assistant or destination, not both",
                               at_key=True))
    elif "assistant" not in spec and "destination" not in spec:
        out.append(doc.problem(("spec",), "spec: missing assistant (an Assistant by name) or destination; "
                               "the API requires a destination", at_key=True))
    elif "assistant" in spec and isinstance(channel, str) and channel not in TEST_ASSISTANT_CHANNELS:
        out.append(doc.problem(("spec", "assistant"), f"spec.assistant: a {channel} test reaches the assistant "
                               f"through a phone number: give it as destination (assistant works with "
                               f"{' and '.join(TEST_ASSISTANT_CHANNELS)})", at_key=True))
    rubric = spec.get("rubric")
    seen: dict[str, int] = {}
    for i, item in enumerate(rubric if isinstance(rubric, list) else []):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            # Results name the criterion (`detail_status[].name`): two of one name could not be told apart.
            out.append(doc.problem(("spec", "rubric", i, "name"), f"spec.rubric[{i}].name: '{shown(name)}' is already "
                                   f"the name of rubric[{seen[name]}]; results are reported by name"))
        else:
            seen[name] = i
    return out


def _assistant(doc: Document, spec: dict[str, Any]) -> list[ManifestProblem]:
    out = _instructions(doc, spec)
    for key in NOT_CLEARABLE:
        if key in spec and spec[key] is None and ("spec", key) not in doc.refused:
            out.append(doc.problem(("spec", key), f"spec.{key}: cannot be null: the API requires a {key} on "
                                   f"every assistant (leave {key} out to keep the current one)"))
    versions = spec.get("versions")
    names: dict[str, Path] = {}
    if isinstance(versions, list):
        for i, entry in enumerate(versions):
            if not isinstance(entry, dict):
                continue
            name = entry.get("name")
            if isinstance(name, str):
                if name in names:
                    first = doc.pos(names[name])[0]
                    out.append(doc.problem(("spec", "versions", i, "name"),
                                           f"duplicate version name '{shown(name)}' (first at line {first})"))
                else:
                    names[name] = ("spec", "versions", i, "name")
            if isinstance(entry.get("spec"), dict):
                out.extend(_version_spec(doc, spec, i, entry["spec"]))
    if "canary" in spec:
        out.extend(_canary(doc, spec.get("canary"), names, bool(versions)))
    main = spec.get("main_version")
    if isinstance(main, str):
        if main not in names:
            known = ", ".join(sorted(names)) or "none"
            out.append(doc.problem(("spec", "main_version"), f"spec.main_version: '{main}' names no entry of "
                                   f"spec.versions (declared: {known}){did_you_mean(main, list(names))}"))
        canary = spec.get("canary")
        for i, entry in enumerate(canary if isinstance(canary, list) else []):
            if isinstance(entry, dict) and entry.get("version") == main:
                out.append(doc.problem(("spec", "canary", i, "version"), f"spec.canary[{i}].version: '{main}' is "
                                       "the main version (spec.main_version); the canary splits traffic away "
                                       "from main"))
    return out


def merge_overlay(spec: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """An overlay (a version's or an environment's) merged onto a spec: `tree.merge`, except that the
    overlay's instructions, inline or from a file, replace the spec's in either form."""
    if any(overlay.get(k) is not None for k in _INSTRUCTIONS):
        spec = {k: v for k, v in spec.items() if k not in _INSTRUCTIONS}
    merged: dict[str, Any] = merge(spec, overlay)  # two objects merge into an object
    return merged


def _version_spec(doc: Document, spec: dict[str, Any], i: int, overlay: dict[str, Any]) -> list[ManifestProblem]:
    """A version's overlay merged onto the main spec must be a valid Assistant spec on its own."""
    at: Path = ("spec", "versions", i, "spec")
    out: list[ManifestProblem] = []
    for key in ("versions", "canary", "tags", "main_version"):
        if key in overlay:
            why = " (tags belong to the assistant, not to a version)" if key == "tags" else ""
            text = f"spec.versions[{i}].spec: a version cannot declare {key}{why}"
            out.append(doc.problem((*at, key), text, at_key=True))
    # The overlay merged onto the main spec (both without versions, canary and main_version), as
    # merge_overlay does it, but only at the top-level keys the overlay touches: the rest of the
    # merged spec is the main spec's own, and copying it for every version is most of the cost.
    replaces = any(overlay.get(k) is not None for k in _INSTRUCTIONS)  # merge_overlay's instructions rule
    touched: dict[str, Any] = {}
    for key, value in overlay.items():
        if value is not None and key not in _LIFTED:
            touched[key] = merge(None if replaces and key in _INSTRUCTIONS else spec.get(key), value)
    removed = any(k in overlay and overlay[k] is None for k in _INSTRUCTIONS)
    if removed or all(touched.get(k) is None if k in overlay else spec.get(k) is None for k in _INSTRUCTIONS):
        out.append(doc.problem(at, f"spec.versions[{i}].spec: a version cannot remove the instructions",
                               at_key=True))
    # What is wrong with the main spec is reported there once; report only what the overlay adds.
    # The Spec schema has no object-level rule besides closed keys (the instructions rule is above),
    # so checking the top-level keys the overlay touches, as merged, is checking the whole merged
    # spec, at a fraction of the cost for large projects. Neither holds a null where the document
    # holds none (merge drops the keys an overlay sets to null).
    if not doc.null_free:
        # `key: null` removes a key from the version, so merging drops it before the check below
        # (deeper ones reach it): a top-level typo set to null (`greetng: null`) is looked for here.
        out.extend(to_problem(doc, f) for f in unknown_null_keys("Assistant", "/$defs/Spec", overlay, at)
                   if len(f.path) == len(at) + 1)
    merged_findings = findings("Assistant", touched, at, "/$defs/Spec", null_free=doc.null_free)
    if not merged_findings:
        return out
    main = {k: v for k, v in spec.items() if k not in _LIFTED}
    seen = {(f.path[1:], f.detail) for f in findings("Assistant", main, ("spec",), "/$defs/Spec")}
    for finding in merged_findings:
        if (finding.path[len(at):], finding.detail) in seen:
            continue
        problem = to_problem(doc, finding, where=("spec", "versions", i))
        if finding.path not in doc.values:
            # Not written in the overlay: say it is the merged result that fails.
            problem = ManifestProblem(problem.file, problem.line, problem.col,
                                      f"{message(finding)} (after merging the overlay onto the main spec)")
        out.append(problem)
    return out


def _canary(doc: Document, canary: Any, versions: dict[str, Path], declared: bool) -> list[ManifestProblem]:
    """The short form `[{version, percentage}]` or the rules form `{rules: [...]}` (reconciler/canary.py)."""
    at: Path = ("spec", "canary")
    if isinstance(canary, list):
        slots = [(i, e.get("version"), e.get("percentage")) for i, e in enumerate(canary) if isinstance(e, dict)]
        if slots and not declared:
            return [_needs_versions(doc)]
        return _rollout(doc, at, slots, versions, "canary", "percentages")
    rules = canary.get("rules") if isinstance(canary, dict) else None
    if not isinstance(rules, list):
        return []
    out: list[ManifestProblem] = []
    catch_all: int | None = None
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or not isinstance(rule.get("serve"), dict):
            continue
        where: Path = (*at, "rules", i)
        if catch_all is not None:
            out.append(doc.problem(where, f"spec.canary.rules[{i}]: never reached: rules[{catch_all}] before it "
                                   "has no match and so takes every call (the first rule that matches wins)"))
        if not rule.get("match"):
            catch_all = i if catch_all is None else catch_all
        serve = rule["serve"]
        if ("version" in serve) == ("rollout" in serve):
            out.append(doc.problem((*where, "serve"), f"spec.canary.rules[{i}].serve: give exactly one of "
                                   "version (serve one version) or rollout (a weighted split)", at_key=True))
            continue
        if not declared:
            return [_needs_versions(doc)]
        if isinstance(serve.get("version"), str):
            out.extend(_version_ref(doc, (*where, "serve", "version"), serve["version"], versions))
        elif isinstance(serve.get("rollout"), list):
            slots = [(k, s.get("version"), s.get("weight")) for k, s in enumerate(serve["rollout"])
                     if isinstance(s, dict)]
            out.extend(_rollout(doc, (*where, "serve", "rollout"), slots, versions, "rollout", "weights"))
    return out


def _needs_versions(doc: Document) -> ManifestProblem:
    return doc.problem(("spec", "canary"), "spec.canary: canary needs versions; declare the versions it "
                       "names under spec.versions", at_key=True)


def _version_ref(doc: Document, path: Path, name: str, versions: dict[str, Path]) -> list[ManifestProblem]:
    if name in versions:
        return []
    known = ", ".join(sorted(shown(v) for v in versions)) or "none"
    hint = did_you_mean(name, list(versions)) if not any(map(_secret, (name, *versions))) else ""
    return [doc.problem(path, f"{dotted(path)}: '{shown(name)}' names no entry of spec.versions "
                              f"(declared: {known}){hint}")]


def _rollout(doc: Document, at: Path, slots: list[tuple[int, Any, Any]], versions: dict[str, Path],
             label: str, what: str) -> list[ManifestProblem]:
    """Versions of one split (the short form or a rule's rollout): declared, each once, sum below 100."""
    out: list[ManifestProblem] = []
    total = 0.0
    listed: dict[str, int] = {}
    for i, name, share in slots:
        if isinstance(name, str):
            if name in listed:
                text = f"{dotted((*at, i, 'version'))}: version '{shown(name)}' is already in {label}[{listed[name]}]"
                out.append(doc.problem((*at, i, "version"), text))
            elif not (found := _version_ref(doc, (*at, i, "version"), name, versions)):
                listed[name] = i
            else:
                out.extend(found)
        if isinstance(share, int | float) and not isinstance(share, bool):
            total += share
    if total >= 100:
        out.append(doc.problem(at, f"{dotted(at)}: {what} sum to {total:g}; the sum must be below 100 (the rest "
                               "goes to the main version)", at_key=True))
    return out


def _tool(doc: Document, spec: dict[str, Any]) -> list[ManifestProblem]:
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in TOOL_PAYLOAD_KEYS:
        return []
    return [
        doc.problem(("spec", key), f"spec: '{key}' is the payload of type '{key}', but type is '{shown(kind)}'",
                    at_key=True)
        for key in TOOL_PAYLOAD_KEYS
        if key != kind and key in spec
    ]


def _project(doc: Document, spec: dict[str, Any]) -> list[ManifestProblem]:
    prune = spec.get("prune")
    if not isinstance(prune, dict) or not isinstance(prune.get("kinds"), list):
        return []
    out: list[ManifestProblem] = []
    for kind, key in (("Tool", "tool_name_prefix"), ("McpServer", "mcp_server_name_prefix"),
                      ("AssistantTest", "test_name_prefix")):
        if kind in prune["kinds"] and not prune.get(key):
            out.append(doc.problem(("spec", "prune", "kinds"), f"spec.prune.kinds: pruning {kind} needs "
                                   f"spec.prune.{key} ({kind} resources carry no tags; the name prefix "
                                   "proves which ones this project owns)"))
    return out


@dataclass(frozen=True)
class Declared:
    """Where one document declares one named resource (for the checks across documents)."""

    kind: str
    name: str
    doc: Document
    previous_names: tuple[str, ...] = ()


def cross_checks(declared: list[Declared]) -> list[ManifestProblem]:
    """Duplicate names per kind, more than one Project, previous names still in use."""
    out: list[ManifestProblem] = []
    first: dict[tuple[str, str], Declared] = {}
    project: Declared | None = None
    for item in declared:
        if item.kind == "Project":
            if project is None:
                project = item
            else:
                out.append(item.doc.problem(("kind",), "more than one Project document (the first is at "
                                            f"{_where(project)})"))
            continue
        key = (item.kind, item.name)
        if key in first:
            out.append(item.doc.problem(("metadata", "name"), f"duplicate {item.kind} name '{item.name}' "
                                        f"(also defined at {_where(first[key])})"))
        else:
            first[key] = item
    out.extend(_gates(declared))
    for item in declared:
        for old in item.previous_names:
            other = first.get((item.kind, old))
            if other is not None and other is not item:
                out.append(item.doc.problem(("metadata", "previous_names"), f"metadata.previous_names: "
                                            f"'{old}' is still the name of the {item.kind} at {_where(other)}"))
    return out


def _gates(declared: list[Declared]) -> list[ManifestProblem]:
    """A version's gate names a suite the manifests declare tests for, all of them talking to that
    assistant: the suite runs against the version's id, which means nothing to another assistant."""
    suites: dict[str, list[tuple[str, Any]]] = {}
    for item in declared:
        spec = item.doc.data.get("spec")
        if item.kind == "AssistantTest" and isinstance(spec, dict) and isinstance(spec.get("test_suite"), str):
            suites.setdefault(spec["test_suite"], []).append((item.name, spec.get("assistant")))
    out: list[ManifestProblem] = []
    for item in declared:
        spec = item.doc.data.get("spec")
        versions = spec.get("versions") if item.kind == "Assistant" and isinstance(spec, dict) else None
        for i, entry in enumerate(versions if isinstance(versions, list) else []):
            gate = entry.get("gate") if isinstance(entry, dict) else None
            suite = gate.get("suite") if isinstance(gate, dict) else None
            if not isinstance(suite, str):
                continue
            at: Path = ("spec", "versions", i, "gate", "suite")
            if suite not in suites:
                out.append(item.doc.problem(at, f"spec.versions[{i}].gate.suite: no AssistantTest in the manifests "
                                            f"belongs to suite '{suite}'{did_you_mean(suite, list(suites))}"))
                continue
            others = sorted(f"{name} (assistant {target})" for name, target in suites[suite]
                            if isinstance(target, str) and target != item.name)
            if others:
                out.append(item.doc.problem(at, f"spec.versions[{i}].gate.suite: suite '{suite}' holds tests of "
                                            f"another assistant: {', '.join(others)}"))
    return out


def _where(item: Declared) -> str:
    line, col = item.doc.pos(("metadata", "name") if item.kind != "Project" else ("kind",))
    return f"{item.doc.file}:{line}:{col}"
