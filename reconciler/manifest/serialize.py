"""DesiredState <-> a JSON-able dict, for saved plans.

A SensitiveStr is written as its `${env:…}` reference text, never its value; reading the dict back
resolves the references again from the environment of the run that applies the plan.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from reconciler import canary as canary_rules
from reconciler import model
from reconciler.errors import ManifestError, ManifestProblem
from reconciler.manifest.schema import dotted
from reconciler.manifest.yamlpos import Path

SAVED_PLACE = "<saved plan>"


def dump_desired(state: model.DesiredState) -> dict[str, Any]:
    """The desired state as plain JSON data; sensitive values appear only as `${env:…}` references."""
    project = state.project
    return {
        "project": {
            "name": project.name,
            "owner_tag": project.owner_tag,
            "previous_owner_tags": list(project.previous_owner_tags),
            "prune": {
                "kinds": list(project.prune.kinds),
                "enabled": project.prune.enabled,
                "tool_name_prefix": project.prune.tool_name_prefix,
                "mcp_server_name_prefix": project.prune.mcp_server_name_prefix,
                "test_name_prefix": project.prune.test_name_prefix,
            },
            "environment": project.environment,
            "environments": [
                {"name": e.name, "owner_tag": e.owner_tag, "api_key_env": e.api_key_env, "base_url": e.base_url}
                for e in project.environments
            ],
        },
        "resources": [_dump_resource(r) for r in state.resources],
    }


def _source(pos: model.SourcePos | None) -> dict[str, Any] | None:
    return None if pos is None else {"file": pos.file, "line": pos.line, "col": pos.col}


def _dump_resource(resource: model.DesiredResource) -> dict[str, Any]:
    meta = resource.metadata
    return {
        "kind": resource.kind,
        "metadata": {
            "name": meta.name,
            "id": meta.id,
            "previous_names": list(meta.previous_names),
            "protect": meta.protect,
            "adopt": meta.adopt,
            "ignore_changes": list(meta.ignore_changes),
        },
        "spec": model.to_references(resource.spec),
        "source": _source(resource.source),
        "versions": None
        if resource.versions is None
        else [
            {"name": v.name, "overlay": model.to_references(v.overlay), "source": _source(v.source),
             "gate": None if v.gate is None else {"suite": v.gate.suite, "timeout_seconds": v.gate.timeout_s}}
            for v in resource.versions
        ],
        "main_version": resource.main_version,
        "canary": None
        if resource.canary is None
        else {"rules": model.to_references(list(resource.canary))},
    }


def desired_from_dict(data: dict[str, Any], environ: Mapping[str, str] | None = None) -> model.DesiredState:
    """Rebuild a model.DesiredState from `dump_desired` output, resolving `${env:…}` again.

    Raises ManifestError naming each variable that is no longer set.
    """
    try:
        return _from_dict(data, os.environ if environ is None else environ)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # hand-edited or truncated
        raise ManifestError(
            [ManifestProblem(SAVED_PLACE, 1, 1, f"malformed desired state in saved plan: {type(exc).__name__} {exc}")]
        ) from exc


def _from_dict(data: dict[str, Any], env: Mapping[str, str]) -> model.DesiredState:
    problems: list[ManifestProblem] = []
    project = data.get("project") or {}
    prune = project.get("prune") or {}
    state = model.DesiredState(
        project=model.ProjectSpec(
            name=project.get("name", model.ProjectSpec.name),
            owner_tag=project.get("owner_tag", model.ProjectSpec.owner_tag),
            previous_owner_tags=tuple(project.get("previous_owner_tags") or ()),
            prune=model.PrunePolicy(
                kinds=tuple(prune.get("kinds", model.PrunePolicy.kinds)),
                enabled=bool(prune.get("enabled", False)),
                tool_name_prefix=prune.get("tool_name_prefix"),
                mcp_server_name_prefix=prune.get("mcp_server_name_prefix"),
                test_name_prefix=prune.get("test_name_prefix"),
            ),
            environment=project.get("environment"),
            environments=tuple(
                model.EnvironmentSpec(e["name"], e["owner_tag"], e.get("api_key_env") or "TELNYX_API_KEY",
                                      e.get("base_url"))
                for e in project.get("environments") or ()
            ),
        )
    )
    for item in data.get("resources", []):
        source = _pos(item.get("source"))
        where = f"{item['kind']} '{item['metadata']['name']}'"

        def resolve(value: Any, path: Path, where: str = where, at: model.SourcePos | None = source) -> Any:
            return _resolve(value, path, env, problems, where, at)

        meta = item["metadata"]
        versions = item.get("versions")
        canary = item.get("canary")
        state.resources.append(
            model.DesiredResource(
                kind=item["kind"],
                metadata=model.Metadata.from_dict(meta),
                spec=resolve(item.get("spec", {}), ("spec",)),
                source=source,
                versions=None
                if versions is None
                else tuple(
                    model.VersionSpec(
                        name=v["name"],
                        overlay=resolve(v["overlay"], ("versions", i, "spec"), at=_pos(v.get("source")) or source),
                        source=_pos(v.get("source")),
                        gate=_gate(v.get("gate")),
                    )
                    for i, v in enumerate(versions)
                ),
                canary=None
                if canary is None
                else canary_rules.from_manifest(resolve(canary, ("canary",))),
                main_version=item.get("main_version"),
            )
        )
    if problems:
        raise ManifestError(problems)
    return state


def _gate(data: Any) -> model.Gate | None:
    return None if not data else model.Gate(str(data["suite"]), float(data["timeout_seconds"]))


def _pos(data: Any) -> model.SourcePos | None:
    if not isinstance(data, dict):
        return None
    return model.SourcePos(str(data["file"]), int(data["line"]), int(data["col"]))


def _resolve(
    value: Any, path: Path, env: Mapping[str, str], problems: list[ManifestProblem], where: str,
    at: model.SourcePos | None,
) -> Any:
    if isinstance(value, str):
        if "${env:" not in value:
            return value
        resolved, missing = model.resolve_env(value, env)
        for name in missing:
            file, line, col = (at.file, at.line, at.col) if at is not None else (SAVED_PLACE, 1, 1)
            problems.append(ManifestProblem(file, line, col, f"{where} {dotted(path)}: environment variable "
                                            f"{name} is not set (referenced as ${{env:{name}}})"))
        return resolved
    if isinstance(value, dict):
        return {k: _resolve(v, (*path, k), env, problems, where, at) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, (*path, i), env, problems, where, at) for i, v in enumerate(value)]
    return value
