"""Regenerate the API model in reconciler/schemas/api/ from the API's own sources (`make schemas`).

Sources, read at generation time only (reconciler never imports the SDK at run time):
- the installed official SDK `telnyx` (pinned in pyproject's test extra): its resource modules give
  the operations (method, path, body/query/header parts, answer type) and its `types/ai/` give every
  field, nesting, enum, discriminator, required flag and nullability, of requests and of answers;
- the OpenAPI snapshot `../shared/reference/openapi/telnyx-ai-2026-04-29.json`: limits, defaults and
  formats of the fields that existed then, and the definition names the manifest schemas use.
A field that neither states a limit or default for gets none; a limit that only an SDK docstring
states is taken and marked as such (tools/sdkschema/limits.py).

Writes (committed, so the package works without the SDK or ../shared):
- telnyx-ai.schema.json: request bodies and everything they reference, plus the legacy canary body;
- telnyx-ai.responses.schema.json: the SDK's answer types;
- telnyx-ai.operations.json: the operations, pointing into the two;
- docs/api-fields-without-source-limits.md: the fields the snapshot does not know.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.sdkschema.legacy import legacy_defs  # noqa: E402
from tools.sdkschema.limits import apply_docstring_limits  # noqa: E402
from tools.sdkschema.operations import Operation, operations  # noqa: E402
from tools.sdkschema.overlay import Overlay, canonical, final_names  # noqa: E402
from tools.sdkschema.types import REF, Converter, rewrite_refs  # noqa: E402

SNAPSHOT = ROOT.parent / "shared" / "reference" / "openapi" / "telnyx-ai-2026-04-29.json"
OUT = ROOT / "reconciler" / "schemas" / "api"
REQUESTS = "telnyx-ai.schema.json"
RESPONSES = "telnyx-ai.responses.schema.json"
OPERATIONS = "telnyx-ai.operations.json"
NEW_FIELDS_DOC = ROOT / "docs" / "api-fields-without-source-limits.md"
# What the emulator validates canary bodies with: today's rules form, or the seed-era versions form
# (docs/api-assumptions.md: the server is assumed to still take it).
ANY_CANARY = {"anyOf": [{"$ref": REF + "CanaryDeployRequest"}, {"$ref": REF + "CanaryDeployRequestLegacy"}]}


def _body_name(op: Operation, spec: dict[str, Any]) -> str:
    body = spec["paths"].get(op.path, {}).get(op.method.lower(), {}).get("requestBody", {})
    ref = body.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[-1]
    assert op.body_class is not None
    return op.body_class.__name__.removesuffix("Params") + "Request"


def _sdk_name(cls: type) -> str:
    name = cls.__qualname__.replace(".", "")
    return name.removesuffix("Params").removesuffix("Param") or name


def _oa_parameters(op: Operation, spec: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for param in spec["paths"].get(op.path, {}).get(op.method.lower(), {}).get("parameters", []):
        if param.get("in") != "query":
            continue
        schema = param.get("schema", {})
        if param.get("style") == "deepObject" and "properties" in schema:
            for sub, sub_schema in schema["properties"].items():
                found[f"{param['name']}[{sub}]"] = sub_schema
        found[param["name"]] = schema
    return found


def build_requests(ops: list[Operation], spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """($defs of the request model, query schema per operation key, notes for the record)."""
    conv = Converter("request")
    components = spec["components"]["schemas"]
    overlay = Overlay(conv, components)
    fixed: dict[str, str] = {}
    queries: dict[str, Any] = {}
    for op in ops:
        if op.body_class is not None:
            name = _body_name(op, spec)
            body = conv.fields(op.body_class, op.body_keys)
            key = f"body:{name}"
            if key in conv.defs and canonical(conv.defs[key]) != canonical(body):
                name = f"{name}{op.method.title()}"
                key = f"body:{name}"
            conv.defs[key] = body
            fixed[key] = name
            oa = spec["paths"].get(op.path, {}).get(op.method.lower(), {}).get("requestBody", {})
            overlay.apply({"$ref": REF + key}, oa.get("content", {}).get("application/json", {}).get("schema"))
        if op.query_class is not None:
            query = conv.fields(op.query_class, op.query_keys)
            theirs = _oa_parameters(op, spec)
            for wire, sub in query["properties"].items():
                overlay.apply(sub, theirs.get(wire))
            queries[f"{op.method} {op.path}"] = query
    notes = apply_docstring_limits(conv, overlay.carried)
    rename = final_names(conv, overlay, _sdk_name, fixed)
    used = set(rename.values())
    hoisted: dict[str, str] = {}
    for node, name in reversed(overlay.hoists):
        text = canonical(node)
        if (name in hoisted and hoisted[name] != text) or (name in used and name not in hoisted):
            continue
        hoisted[name] = text
        conv.defs[f"hoist:{name}"] = copy.deepcopy(node)
        rename[f"hoist:{name}"] = name
        node.clear()
        node["$ref"] = REF + f"hoist:{name}"
    defs: dict[str, Any] = {}
    for key, schema in conv.defs.items():
        defs.setdefault(rename[key], rewrite_refs(schema, rename))
    defs.update(legacy_defs(components))
    defs["CanaryDeployRequestAnyForm"] = ANY_CANARY
    queries = {k: rewrite_refs(v, rename) for k, v in queries.items()}
    new = sorted(f"{rename[key]}.{field}" for key, schema in conv.defs.items() if not key.startswith("hoist:")
                 for field in schema.get("properties", {}) if (key, field) not in overlay.matched)
    from_docs = [f"docstring: {rename[key]}.{field}: {what}" for key, field, what in notes]
    return dict(sorted(defs.items())), queries, [*new, *sorted(from_docs)]


def build_responses(ops: list[Operation]) -> tuple[dict[str, Any], dict[str, Any]]:
    """($defs of the answer types, answer schema per operation key)."""
    conv = Converter("response")
    answers: dict[str, Any] = {}
    for op in ops:
        answer = op.answer
        if isinstance(answer, tuple):
            _, page, item = answer
            schema: dict[str, Any] = {"type": "array", "items": conv.schema(item)}
            if "TopLevelArray" not in page.__name__:
                meta = conv.schema(page.model_fields["meta"].annotation)
                schema = {"type": "object", "required": ["data"], "properties": {"data": schema, "meta": meta}}
        elif answer is type(None):
            schema = {"type": "null"}
        else:
            schema = conv.schema(answer)
        answers[f"{op.method} {op.path}"] = schema
    rename = final_names(conv, Overlay(conv, {}), lambda c: c.__qualname__.replace(".", ""), {})
    defs = {rename[k]: rewrite_refs(v, rename) for k, v in conv.defs.items()}
    return dict(sorted(defs.items())), {k: rewrite_refs(v, rename) for k, v in answers.items()}


def _dump(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> int:
    if not SNAPSHOT.exists():
        print(f"OpenAPI snapshot not found: {SNAPSHOT}", file=sys.stderr)
        return 1
    try:
        version = importlib.metadata.version("telnyx")
    except importlib.metadata.PackageNotFoundError:
        print("the telnyx SDK is not installed (pip install -e '.[test]')", file=sys.stderr)
        return 1
    spec = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    ops = operations()
    requests, queries, new_fields = build_requests(ops, spec)
    responses, answers = build_responses(ops)
    source = f"telnyx {version} (types/ai) and {SNAPSHOT.name} (limits, defaults)"
    comment = f"Generated by tools/gen_api_schema.py (make schemas) from {source}; do not edit by hand."
    OUT.mkdir(parents=True, exist_ok=True)
    # No `$id`: the schemas are known by where they lie (reconciler/schemas/__init__.py).
    _dump(OUT / REQUESTS, {"$schema": "https://json-schema.org/draft/2020-12/schema",
                           "$comment": comment, "x-sdk-version": version, "$defs": requests})
    _dump(OUT / RESPONSES, {"$schema": "https://json-schema.org/draft/2020-12/schema",
                            "$comment": comment, "x-sdk-version": version, "$defs": responses})
    table = []
    for op in ops:
        key = f"{op.method} {op.path}"
        entry: dict[str, Any] = {"sdk": op.call, "method": op.method, "path": op.path, "answer": answers[key]}
        if op.body_class is not None:
            entry["body"] = _body_name(op, spec)
        if key in queries:
            entry["query"] = queries[key]
        if op.headers:
            entry["headers"] = op.headers
        table.append(entry)
    _dump(OUT / OPERATIONS, {"$comment": comment, "x-sdk-version": version, "operations": table})
    _write_new_fields(version, new_fields)
    print(f"wrote {len(requests)} request and {len(responses)} answer definitions, {len(table)} operations "
          f"(telnyx {version}); {len(new_fields)} fields without a source limit listed")
    return 0


def _write_new_fields(version: str, lines: list[str]) -> None:
    fields = [line for line in lines if not line.startswith("docstring: ")]
    from_docs = [line.removeprefix("docstring: ") for line in lines if line.startswith("docstring: ")]
    text = [
        "# Request fields the OpenAPI snapshot does not know (generated)",
        "",
        f"Written by `make schemas` from telnyx {version}. These fields are in the SDK's request types but",
        f"not in {SNAPSHOT.name}, so no limit and no default is known for them: the schema gives them",
        "none (docs/api-assumptions.md), except the limits their SDK docstring states, listed last.",
        "",
        *[f"- `{f}`" for f in fields],
        "",
        "## Limits taken from SDK docstrings",
        "",
        *[f"- `{f}`" for f in from_docs],
        "",
    ]
    NEW_FIELDS_DOC.write_text("\n".join(text), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
