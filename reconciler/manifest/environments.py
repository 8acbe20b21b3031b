"""Environments and variables (docs/manifests.md, "Environments"): what the Project declares, and each
resource document as one environment sees it.

One folder of manifests serves several environments. For the environment being loaded, a resource
document is: skipped when its `metadata.environments` leaves that environment out; otherwise its
`spec` with the environment's overlay (`overlays.<env>`) merged on by `checks.merge_overlay` (the
rules of version overlays), then with every `${var:NAME}` replaced. A string that is exactly
`${var:NAME}` takes the variable's value with its type (a number stays a number, a list a list);
inside a longer string a scalar is written as text. Variables are not secrets: plans show their
values. An instructions file counts as if written inline (`in_text`); the Project itself is never
substituted, so a reference there is an error.

The result is an ordinary Document (positions of overlay values point into the overlay), so the
schema, the checks and the resolver downstream see nothing new. Pure: no I/O.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ConfigError, ManifestProblem
from reconciler.kinds import DEFAULT_OWNER_TAG, KINDS
from reconciler.manifest.checks import merge_overlay
from reconciler.manifest.schema import did_you_mean, to_problem, unknown_null_keys
from reconciler.manifest.yamlpos import Document, Path, Pos, Positions
from reconciler.model import EnvironmentSpec
from reconciler.tree import dotted, map_strings

VAR_REF = re.compile(r"\$\{var:([A-Za-z_][A-Za-z0-9_]*)\}")
# Whole names, with `fullmatch`: `$` would also match before a final line break ("staging\n").
VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Environment names go into owner tags and plan headers: short, lower case, no separators of tags.
ENV_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")


def default_owner_tag(project: str, environment: str) -> str:
    """The owner tag of an environment that does not set its own: one per project and environment."""
    return f"{DEFAULT_OWNER_TAG}/{project}/{environment}"


@dataclass(frozen=True)
class Settings:
    """What the Project says about environments, for loading one of them (`environment`, None when
    the project declares none) with the variables in force there."""

    environments: tuple[EnvironmentSpec, ...] = ()
    environment: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.environments)


def declared(project: Document | None, problems: list[ManifestProblem]) -> tuple[EnvironmentSpec, ...]:
    """The environments a (schema-checked) Project document declares; their problems to `problems`."""
    if project is not None:
        map_strings(project.data, lambda text, at: _not_substituted(project, text, at, problems))
    spec = project.data.get("spec") if project is not None and isinstance(project.data, dict) else None
    if project is None or not isinstance(spec, dict):
        return ()
    _check_variable_names(project, ("spec",), spec, problems)
    envs = spec.get("environments")
    if not isinstance(envs, dict):
        return ()
    name = str(project.data.get("metadata", {}).get("name", "default"))
    if envs and "owner_tag" in spec:
        problems.append(project.problem(("spec", "owner_tag"), "spec.owner_tag: with environments, each "
                                        "environment has its own owner tag (spec.environments.<env>.owner_tag)",
                                        at_key=True))
    out: list[EnvironmentSpec] = []
    tags: dict[str, str] = {}
    for env, body in envs.items():
        at: Path = ("spec", "environments", env)
        if not ENV_NAME.fullmatch(env):
            problems.append(project.problem(at, f"spec.environments: environment name {env!r} must be lower "
                                            "case letters, digits, - and _, starting with a letter", at_key=True))
            continue
        body = body if isinstance(body, dict) else {}
        own = body.get("owner_tag")
        tag = own if isinstance(own, str) else default_owner_tag(name, env)
        if tag in tags:
            problems.append(project.problem((*at, "owner_tag"), f"spec.environments.{env}: owner tag {tag!r} is "
                                            f"also {tags[tag]}'s; each environment needs its own, or prune in one "
                                            "would delete the other's assistants"))
        tags[tag] = env
        _check_variable_names(project, at, body, problems)
        out.append(EnvironmentSpec(env, tag, str(body.get("api_key_env") or "TELNYX_API_KEY"),
                                   body.get("base_url") if isinstance(body.get("base_url"), str) else None))
    return tuple(out)


def _check_variable_names(project: Document, at: Path, body: Mapping[str, Any], problems: list[ManifestProblem]
                          ) -> None:
    for var in _variables(body):
        if not VAR_NAME.fullmatch(var):
            problems.append(project.problem((*at, "variables", var), f"variable name {var!r}: use letters, "
                                            "digits and _, starting with a letter or _", at_key=True))


def _not_substituted(project: Document, text: str, at: Path, problems: list[ManifestProblem]) -> str:
    # Left as written, the reference would reach the API (or an owner tag) as the text `${var:…}`.
    if "${var:" in text:
        problems.append(project.problem(at, f"{dotted(at)}: the Project is not substituted: ${{var:…}} works in "
                                        "the spec of resource documents only, and a variable cannot use another"))
    return text


def _variables(body: Mapping[str, Any]) -> dict[str, Any]:
    found = body.get("variables")
    return found if isinstance(found, dict) else {}


def settings(project: Document | None, environments: tuple[EnvironmentSpec, ...], environment: str | None
             ) -> Settings:
    """The settings for loading `environment`. An environment the Project does not declare, or none
    chosen when it declares some, is the user's mistake on the command line (ConfigError)."""
    names = [e.name for e in environments]
    if environment is not None and environment not in names:
        if not names:
            raise ConfigError(f"--env {environment}: the manifests declare no environments "
                              "(spec.environments in the Project document)")
        # A short form (`prod`) is too far from its name for difflib: the one name it begins then.
        starting = [n for n in names if n.startswith(environment)]
        hint = did_you_mean(environment, names) or (f"; did you mean '{starting[0]}'?" if len(starting) == 1 else "")
        raise ConfigError(f"--env {environment}: no such environment; the Project declares {', '.join(names)}{hint}")
    if environment is None and names:
        raise ConfigError(f"the Project declares environments ({', '.join(names)}): choose one with --env NAME")
    spec = project.data.get("spec") if project is not None and isinstance(project.data, dict) else None
    spec = spec if isinstance(spec, dict) else {}
    variables = dict(_variables(spec))
    if environment is not None:
        variables.update(_variables(spec.get("environments", {}).get(environment) or {}))
    return Settings(environments, environment, variables)


def for_environment(doc: Document, s: Settings, problems: list[ManifestProblem]
                    ) -> tuple[Document | None, frozenset[Path]]:
    """The resource document as environment `s.environment` sees it (None when it is not part of that
    environment), and the paths whose variables could not be resolved (the schema need not say
    more about them). Problems (unknown environments, unknown variables) go to `problems`."""
    data = doc.data
    if not isinstance(data, dict) or data.get("kind") == "Project":
        return doc, frozenset()
    meta = data.get("metadata")
    only = meta.get("environments") if isinstance(meta, dict) else None
    overlays = data.get("overlays")
    if isinstance(only, list):
        for i, name in enumerate(only):
            if isinstance(name, str) and name not in s.names:
                problems.append(doc.problem(("metadata", "environments", i), _unknown(name, s.names)))
    if isinstance(overlays, dict):
        for name in overlays:
            if name not in s.names:
                problems.append(doc.problem(("overlays", name), "overlays: " + _unknown(name, s.names), at_key=True))
            elif isinstance(only, list) and name not in only:
                listed = ", ".join(str(n) for n in only) or "none"
                problems.append(doc.problem(("overlays", name), f"overlays: {name}: this resource is not part of "
                                            f"environment {name} (metadata.environments: {listed})", at_key=True))
    if isinstance(meta, dict) and not doc.dollar_free and "${var:" in repr(meta):
        problems.append(doc.problem(("metadata",), "metadata: ${var:…} references work in spec only", at_key=True))
    if s.environment is not None and isinstance(only, list) and s.environment not in only:
        return None, frozenset()
    spec = data.get("spec")
    if not isinstance(spec, dict) or ("overlays" not in data and not (isinstance(meta, dict) and "environments" in meta)
                                      and (doc.dollar_free or "${var:" not in repr(spec))):
        return doc, frozenset()  # nothing to do: the common case costs one repr
    overlay = overlays.get(s.environment) if isinstance(overlays, dict) and s.environment else None
    out = doc.replaced()
    if isinstance(overlay, dict):
        base, where = spec, ("overlays", str(s.environment))

        def moved() -> Positions:  # only when a problem must be placed: see yamlfast.py
            values, keys = dict(doc.values), dict(doc.keys)
            _move_positions(values, keys, base, overlay, where, ("spec",))
            return values, keys

        out = doc.replaced(locate=moved)
        kind = data.get("kind")
        if not doc.null_free and isinstance(kind, str) and kind in KINDS:
            # Merging drops the top-level keys the overlay sets to null (deeper ones reach the merged
            # spec's check): such a typo set to null is looked for here.
            problems.extend(to_problem(doc, f) for f in unknown_null_keys(kind, "/$defs/Spec", overlay, where)
                            if len(f.path) == len(where) + 1)
        spec = merge_overlay(spec, overlay)
    unresolved: set[Path] = set()
    spec = _Substitution(s, out, problems, unresolved).value(spec, ("spec",))
    new = {k: v for k, v in data.items() if k != "overlays"}
    if isinstance(meta, dict):
        new["metadata"] = {k: v for k, v in meta.items() if k != "environments"}
    new["spec"] = spec
    out.data = new
    return out, frozenset(unresolved)


def _unknown(name: str, names: tuple[str, ...]) -> str:
    if not names:
        return f"environment {name!r}: the Project declares no environments (spec.environments)"
    return f"unknown environment {name!r}; the Project declares {', '.join(names)}{did_you_mean(name, names)}"


def _move_positions(values: dict[Path, Pos], keys: dict[Path, Pos], base: Any, overlay: dict[str, Any],
                    src: Path, dst: Path) -> None:
    """Positions after `merge(base, overlay)`: what the overlay replaces is found in the overlay."""
    for key, value in overlay.items():
        s, d = (*src, key), (*dst, key)
        below = base.get(key) if isinstance(base, dict) else None
        if isinstance(value, dict) and isinstance(below, dict):
            _move_positions(values, keys, below, value, s, d)
            continue
        for table in (values, keys):
            for path in [p for p in table if p[:len(d)] == d]:
                del table[path]
            if value is not None:
                table.update({(*d, *p[len(s):]): pos for p, pos in list(table.items()) if p[:len(s)] == s})


class _Substitution:
    """Replaces `${var:NAME}` in one document; a path whose reference fails goes to `unresolved`."""

    def __init__(self, s: Settings, doc: Document, problems: list[ManifestProblem], unresolved: set[Path]) -> None:
        self.s = s
        self.doc = doc
        self.problems = problems
        self.unresolved = unresolved

    def value(self, value: Any, path: Path) -> Any:
        return map_strings(value, lambda text, at: self.string(text, at) if "${var:" in text else text, path)

    def fail(self, path: Path, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))
        self.unresolved.add(path)

    def string(self, text: str, path: Path) -> Any:
        whole = VAR_REF.fullmatch(text)
        if whole is None:
            return self.text(text, path)
        name = whole.group(1)
        if name not in self.s.variables:
            self.fail(path, _unknown_variable(name, self.s))
            return text
        return copy.deepcopy(self.s.variables[name])  # its own copy: the same variable may be used twice

    def text(self, text: str, path: Path) -> str:
        """`text` with each reference written as text (a string, number or boolean variable)."""
        variables = self.s.variables

        def as_text(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in variables:
                self.fail(path, _unknown_variable(name, self.s))
                return match.group(0)
            found = variables[name]
            if isinstance(found, dict | list) or found is None:
                what = "null" if found is None else "a list" if isinstance(found, list) else "an object"
                self.fail(path, f"variable {name} is {what}: inside a longer string only a string, number or "
                          f"boolean fits; write ${{var:{name}}} as the whole value")
                return match.group(0)
            return found if isinstance(found, str) else json.dumps(found)

        out = VAR_REF.sub(as_text, text)
        if "${var:" in VAR_REF.sub("", text):
            self.fail(path, "malformed ${var:…} reference; write ${var:NAME} with NAME made of letters, digits and _")
        return out


def in_text(text: str, s: Settings, doc: Document, path: Path, problems: list[ManifestProblem]) -> str:
    """The text of an instructions file (referenced at `path` of `doc`), which counts as if written
    inline: each `${var:NAME}` written as text, as inside a longer string."""
    return _Substitution(s, doc, problems, set()).text(text, path) if "${var:" in text else text


def _unknown_variable(name: str, s: Settings) -> str:
    # The same words in every environment, so that validate reports a typo found in all of them once.
    where = "the environment's or the Project's variables" if s.environment else "the Project's spec.variables"
    return (f"unknown variable {name} (referenced as ${{var:{name}}}): not in {where}"
            f"{did_you_mean(name, sorted(s.variables))}")
