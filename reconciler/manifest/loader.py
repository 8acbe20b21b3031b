"""Files -> documents -> DesiredState.

Reading (files, YAML, instructions files, the environment) is the only I/O; every check is pure and
adds to one list of problems, so a user sees every mistake of every file in one run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path as FsPath
from typing import Any

from reconciler import canary as canary_rules
from reconciler.errors import ConfigError, ManifestError, ManifestProblem
from reconciler.gcpause import paused_gc
from reconciler.kinds import MANIFEST_KINDS as KINDS
from reconciler.manifest import environments
from reconciler.manifest import files as files_mod
from reconciler.manifest.checks import Declared, cross_checks, document_checks
from reconciler.manifest.limits import MAX_MANIFEST_BYTES
from reconciler.manifest.resolve import Resolver, unset_paths, with_env_values
from reconciler.manifest.schema import did_you_mean, findings, missing_key, to_problem
from reconciler.manifest.yamlfast import documents as load_documents
from reconciler.manifest.yamlpos import Budget, Document, Path
from reconciler.manifest.yamlsafe import dollar_free
from reconciler.model import (
    DesiredResource,
    DesiredState,
    EnvironmentSpec,
    Gate,
    Metadata,
    ProjectSpec,
    PrunePolicy,
    SourcePos,
    VersionSpec,
)

SUFFIXES = (".yaml", ".yml")
VERSIONS: Path = ("spec", "versions")  # each version's position is part of the desired state


@dataclass
class LoadResult:
    """What `read_manifests` found: the desired state and the files it was read from."""

    state: DesiredState
    files: list[str] = field(default_factory=list)


def load(paths: Sequence[str | os.PathLike[str]], environ: Mapping[str, str] | None = None, *,
         environment: str | None = None, root: str | os.PathLike[str] | None = None) -> DesiredState:
    """Read manifest files and folders into the desired state (of `environment`, when the Project
    declares environments).

    Folders are read recursively for `*.yaml` / `*.yml` in sorted order; a file may hold several
    documents. Files are read only inside the project root (files.py: the common folder of `paths`,
    or `root`). Raises ManifestError with every problem found, sorted by file and line. No network.
    """
    return read_manifests(paths, environ, environment=environment, root=root).state


def read_manifests(
    paths: Sequence[str | os.PathLike[str]], environ: Mapping[str, str] | None = None, *,
    allow_unset_env: bool = False, environment: str | None = None, root: str | os.PathLike[str] | None = None,
) -> LoadResult:
    """`load`, also telling which files were read (for the summary of `validate`).

    With `allow_unset_env` (validate in pre-commit, or on a fork's pull request, where the secrets
    are not there), an unset `${env:NAME}` is no problem: its reference is still checked as written,
    and schema rules about the value it stands for (an enum, a pattern) are not applied to it. The
    state then holds empty strings in place of those values: for validation only, never for plan.

    `environment` chooses one of the Project's environments (required when it declares any; a
    ConfigError otherwise): its overlays, its variables, its owner tag."""
    with paused_gc():
        read = _read(paths, root)
        try:
            s = environments.settings(read.project, read.environments, environment)
        except ConfigError:
            if read.problems:  # a file that cannot be read may be the Project declaring --env: say why first
                raise ManifestError(read.problems) from None
            raise
        problems = list(read.problems)
        state = _build(read, s, os.environ if environ is None else environ, problems, allow_unset_env)
    if problems:
        raise ManifestError(problems)
    return LoadResult(state, read.files)


def read_every_environment(
    paths: Sequence[str | os.PathLike[str]], environ: Mapping[str, str] | None = None, *,
    allow_unset_env: bool = False, root: str | os.PathLike[str] | None = None,
) -> dict[str | None, LoadResult]:
    """`read_manifests` for every environment the Project declares (the key None when it declares
    none), reading the files once. A problem found in some environments only says in which."""
    with paused_gc():
        read = _read(paths, root)
        env = os.environ if environ is None else environ
        names: list[str | None] = [e.name for e in read.environments] or [None]
        found: dict[str | None, list[ManifestProblem]] = {}
        out: dict[str | None, LoadResult] = {}
        for name in names:
            problems: list[ManifestProblem] = []
            state = _build(read, environments.settings(read.project, read.environments, name), env, problems,
                           allow_unset_env)
            found[name] = problems
            out[name] = LoadResult(state, read.files)
    every = set.intersection(*(set(p) for p in found.values()))
    problems = list(read.problems) + sorted(every, key=str)
    for name, own in found.items():
        problems += [replace(p, message=f"{p.message} (environment {name})") for p in dict.fromkeys(own)
                     if p not in every]
    if problems:
        raise ManifestError(problems)
    return out


@dataclass
class _Read:
    """The files and documents of one load, read once whatever the number of environments."""

    files: list[str]
    documents: list[Document]
    problems: list[ManifestProblem]
    project: Document | None
    environments: tuple[EnvironmentSpec, ...]
    roots: dict[str, str] = field(default_factory=dict)  # file -> the root its references stay in


def _read(paths: Sequence[str | os.PathLike[str]], root: str | os.PathLike[str] | None) -> _Read:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]  # one path given bare: a str is a Sequence, but not of paths
    problems: list[ManifestProblem] = []
    labels = [os.fspath(p) for p in paths]
    files = _expand(labels, problems)
    of_argument = files_mod.find_roots(labels, root).of_argument
    roots = {label: of_argument[argument] for label, argument in files}
    documents: list[Document] = []
    budget = Budget()  # the values built by every file together
    for label, top in roots.items():
        try:
            found_file = files_mod.confine(os.path.basename(label), os.path.dirname(label) or ".", top,
                                           MAX_MANIFEST_BYTES, reference=False)
            text = files_mod.read_text(found_file, MAX_MANIFEST_BYTES)
        except files_mod.Refused as exc:
            problems.append(ManifestProblem(label, exc.line, exc.col, f"this manifest {exc}"))
            continue
        docs, found = load_documents(text, label, budget, early=(VERSIONS,))
        if dollar_free(text):
            for doc in docs:
                doc.dollar_free = True
        problems.extend(found)
        documents.extend(docs)
    # The first Project rules (cross_checks reports any other): it says which environments exist.
    project = next((d for d in documents if isinstance(d.data, dict) and d.data.get("kind") == "Project"), None)
    return _Read(list(roots), documents, problems, project, environments.declared(project, problems), roots)


def _build(read: _Read, s: environments.Settings, env: Mapping[str, str], problems: list[ManifestProblem],
           allow_unset_env: bool) -> DesiredState:
    """The desired state of one environment (every problem to `problems`)."""
    state = DesiredState()
    declared: list[Declared] = []
    project_seen = False
    refs = files_mod.References()  # instructions files, read once per load: many assistants share one
    for original in read.documents:
        doc, unresolved = environments.for_environment(original, s, problems)
        if doc is None:
            continue  # not part of this environment
        before = len(problems)
        unset = (unset_paths(doc, env) if allow_unset_env else frozenset()) | unresolved
        kind = _check(with_env_values(doc, env), problems, unset or None)
        if kind is None:
            continue
        meta = doc.data["metadata"]
        previous = meta.get("previous_names")
        previous = tuple(n for n in previous if isinstance(n, str)) if isinstance(previous, list) else ()
        declared.append(Declared(kind, meta["name"], doc, previous))
        raw = doc.data.get("spec")
        spec = None
        if kind != "Project" and isinstance(raw, dict):
            # Resolved even when the document has other problems, so that those are reported too.
            resolver = Resolver(doc, env, problems, refs, read.roots[doc.file], report_unset=not allow_unset_env,
                                settings=s)
            spec = resolver.spec(raw, ("spec",), kind in ("Assistant", "AssistantTest"))
        if len(problems) > before:
            continue  # declared for the checks across documents, but not built from a bad shape
        if kind == "Project":
            if not project_seen:
                state.project = _project(doc, s)
                project_seen = True
        elif spec is not None:
            state.resources.append(_resource(doc, kind, spec))
    problems.extend(cross_checks(declared))
    return state


def _expand(paths: list[str], problems: list[ManifestProblem]) -> list[tuple[str, int]]:
    """Files to read, named as given (relative stays relative), each once, with the index of the
    PATH that named them. Only the type of each entry is looked at here (stat, never an open);
    reading is files.py's job."""
    if not paths:
        problems.append(ManifestProblem("<arguments>", 1, 1, "no manifest paths given"))
    files: list[tuple[str, int]] = []
    seen: set[str] = set()
    for argument, label in enumerate(paths):
        path = FsPath(label)
        if path.is_dir():
            found = [os.path.normpath(os.path.join(label, *parts)) for parts in _manifests_in(label)]
            if not found:
                problems.append(ManifestProblem(label, 1, 1, "folder holds no *.yaml or *.yml files"))
        elif os.path.lexists(label):
            found = [label]  # a FIFO, a device or a broken symlink: files.py says which, without opening it
        else:
            problems.append(ManifestProblem(label, 1, 1, "no such file or folder"))
            continue
        for name in found:
            key = os.path.realpath(name)
            if key not in seen:
                seen.add(key)
                files.append((name, argument))
    return files


def _manifests_in(folder: str) -> list[tuple[str, ...]]:
    """The manifest files under `folder`, each as its path's parts below it, sorted as paths sort.
    Hidden files and folders are not manifests (`validate .` must skip .github/workflows). A symlink
    to a folder is followed, as one to a file is: what it leads to is read under the same rules as any
    file (files.py: outside the project root is an error), never skipped without a word; a folder
    reached twice (a loop, two links to one place) is read once."""
    out: list[tuple[str, ...]] = []
    visited: set[str] = set()
    for top, dirs, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        if real in visited:
            dirs[:] = []
            continue
        visited.add(real)
        below = os.path.relpath(top, folder)
        prefix = () if below == "." else tuple(FsPath(below).parts)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        out.extend((*prefix, n) for n in names
                   if not n.startswith(".") and os.path.splitext(n)[1] in SUFFIXES)
    return sorted(out)


def problems_of(data: dict[str, Any]) -> list[str]:
    """What `validate` would say of one document given as data (schema and per-document checks):
    export uses it never to write a manifest that would not validate."""
    import yaml

    documents, problems = load_documents(yaml.safe_dump(data, sort_keys=False), "<document>")
    for doc in documents:
        _check(doc, problems)
    return [problem.message for problem in problems]


def _check(doc: Document, problems: list[ManifestProblem], unset: frozenset[Path] | None = None) -> str | None:
    """Schema and per-document checks; the kind when the document names a kind and a name. A schema
    finding about a value in `unset` (a reference to a variable that is not set) is left out."""
    data = doc.data
    if not isinstance(data, dict):
        problems.append(doc.problem((), "a manifest document must be a mapping with apiVersion, kind, "
                                    "metadata and spec"))
        return None
    kind = data.get("kind")
    valid = ", ".join(KINDS)
    if "kind" not in data or not isinstance(kind, str) or kind not in KINDS:
        # No schema to check the rest with; the apiVersion is every kind's alike: said too (all the
        # errors at once), as any kind's schema says it.
        probe = {"apiVersion": data["apiVersion"]} if "apiVersion" in data else {}
        problems.extend(to_problem(doc, f) for f in findings("Project", probe)
                        if f.path == ("apiVersion",) or (f.path == () and f.detail == missing_key("apiVersion")))
    if "kind" not in data:
        problems.append(doc.problem((), f"{missing_key('kind')} (one of {valid})"))
        return None
    if not isinstance(kind, str) or kind not in KINDS:
        hint = did_you_mean(kind, KINDS) if isinstance(kind, str) else ""
        problems.append(doc.problem(("kind",), f"kind: unknown kind {kind!r}; valid kinds are {valid}{hint}"))
        return None
    problems.extend(to_problem(doc, f) for f in findings(kind, data, null_free=doc.null_free)
                    if (not unset or f.path not in unset) and f.path not in doc.refused)
    problems.extend(document_checks(doc, kind))
    meta = data.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return None
    return kind


def _project(doc: Document, s: environments.Settings) -> ProjectSpec:
    spec = doc.data.get("spec") or {}
    prune = spec.get("prune") or {}
    current = next((e for e in s.environments if e.name == s.environment), None)
    return ProjectSpec(
        name=doc.data["metadata"]["name"],
        owner_tag=current.owner_tag if current is not None else spec.get("owner_tag", ProjectSpec.owner_tag),
        previous_owner_tags=tuple(spec.get("previous_owner_tags") or ()),
        environment=s.environment,
        environments=s.environments,
        prune=PrunePolicy(
            kinds=tuple(prune.get("kinds", PrunePolicy.kinds)),
            enabled=bool(prune.get("enabled", False)),
            tool_name_prefix=prune.get("tool_name_prefix"),
            mcp_server_name_prefix=prune.get("mcp_server_name_prefix"),
            test_name_prefix=prune.get("test_name_prefix"),
        ),
    )


def _resource(doc: Document, kind: str, spec: dict[str, Any]) -> DesiredResource:
    """Build the resource from its resolved spec; only called on documents without problems."""
    meta = doc.data["metadata"]
    metadata = Metadata.from_dict(meta)
    versions = canary = main_version = None
    if kind == "Assistant":
        main_version = spec.pop("main_version", None)
        entries = spec.pop("versions", None)
        if isinstance(entries, list):
            versions = tuple(
                VersionSpec(
                    name=e["name"],
                    overlay=e["spec"],
                    source=SourcePos(doc.file, *doc.pos((*VERSIONS, i))),
                    gate=_gate(e.get("gate")),
                )
                for i, e in enumerate(entries)
            )
        split = spec.pop("canary", None)
        if isinstance(split, list | dict):
            canary = canary_rules.from_manifest(split)
    return DesiredResource(
        kind=kind,
        metadata=metadata,
        spec=spec,
        source=SourcePos(doc.file, *doc.start),
        versions=versions,
        canary=canary,
        main_version=main_version,
        written=doc if kind in ("Assistant", "AssistantTest") else None,
    )


def _gate(data: Any) -> Gate | None:
    if not isinstance(data, dict):
        return None
    return Gate(suite=data["suite"], timeout_s=float(data.get("timeout_seconds", Gate.timeout_s)))
