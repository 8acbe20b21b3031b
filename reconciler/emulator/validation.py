"""Request checks for the emulator: JSON Schema validation of bodies against the project's API schema
(`schemas/api/telnyx-ai.schema.json`, derived from the OpenAPI snapshot), query-parameter checks, the
two error types handlers raise, and the server-side defaults the API declares."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from reconciler.schemas import API_SCHEMA

Json = Any

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


class ApiFault(Exception):
    """An error answered in Telnyx's `{"errors": [...]}` envelope (everything except 422)."""

    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail

    def body(self) -> dict[str, Any]:
        """The JSON body Telnyx sends for this error."""
        return {"errors": [{"code": self.code, "title": self.title, "detail": self.detail}]}


def not_found(what: str, ident: str) -> ApiFault:
    """A 404 in the Telnyx envelope for a missing resource."""
    return ApiFault(404, "10005", "Resource not found", f"{what} {ident!r} was not found")


def bad_request(detail: str) -> ApiFault:
    """A 400 in the Telnyx envelope (code 10015)."""
    return ApiFault(400, "10015", "Bad request", detail)


class Invalid(Exception):
    """A 422 in FastAPI's `{"detail": [{loc, msg, type}]}` shape."""

    def __init__(self, details: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(d["msg"]) for d in details))
        self.details = details

    @classmethod
    def one(cls, loc: list[str | int], msg: str, kind: str = "value_error") -> Invalid:
        """A 422 carrying a single problem."""
        return cls([{"loc": loc, "msg": msg, "type": kind}])


@functools.cache
def _schema() -> dict[str, Any]:
    with API_SCHEMA.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    _repair(loaded["$defs"])
    return loaded


def _repair(defs: dict[str, Any]) -> None:
    # The generator turned `allOf: [{$ref: TelnyxConversationChannel}]` with a default into an empty
    # closed object, which would reject every valid channel. Restore the snapshot's meaning here
    # (only when the slip is present, so a fixed schema file is used as is).
    prop = defs.get("CreateAssistantTestRequest", {}).get("properties", {})
    if prop.get("telnyx_conversation_channel", {}).get("properties") == {}:
        prop["telnyx_conversation_channel"] = {"$ref": "#/$defs/TelnyxConversationChannel",
                                               "default": "web_chat"}


@functools.cache
def _validator(def_name: str) -> Draft202012Validator:
    root = _schema()
    # Validate against a wrapper that shares the root's $defs, so `#/$defs/X` refs resolve.
    wrapper = {"$defs": root["$defs"], "$ref": f"#/$defs/{def_name}"}
    return Draft202012Validator(wrapper)


def definition(def_name: str) -> dict[str, Any]:
    """The schema of one `$defs` entry."""
    found: dict[str, Any] = _schema()["$defs"][def_name]
    return found


# FastAPI/pydantic error type names, so a client that branches on `type` sees familiar values.
_TYPE_NAMES = {
    "required": "missing",
    "additionalProperties": "extra_forbidden",
    "enum": "enum",
    "const": "literal_error",
    "minimum": "greater_than_equal",
    "exclusiveMinimum": "greater_than",
    "maximum": "less_than_equal",
    "exclusiveMaximum": "less_than",
    "minLength": "string_too_short",
    "maxLength": "string_too_long",
    "minItems": "too_short",
    "maxItems": "too_long",
    "uniqueItems": "value_error",
    "format": "value_error",
}


def _variant_errors(err: ValidationError) -> list[ValidationError] | None:
    """For a failed union over objects tagged by `type`, the errors of the variant the tag names."""
    if not isinstance(err.instance, dict) or not isinstance(err.validator_value, list):
        return None
    for index, variant in enumerate(err.validator_value):
        enum = _resolve(variant).get("properties", {}).get("type", {}).get("enum", [])
        if err.instance.get("type") in enum:
            return [e for e in err.context if e.relative_schema_path and e.relative_schema_path[0] == index]
    return None


def _tags(err: ValidationError) -> list[str]:
    """The `type` tags a union over tagged objects accepts (empty when it is not such a union)."""
    if not isinstance(err.validator_value, list):
        return []
    return [t for v in err.validator_value for t in _resolve(v).get("properties", {}).get("type", {}).get("enum", [])]


def _detail(err: ValidationError, root: str) -> list[dict[str, Any]]:
    if err.context:
        # A union failure is readable through the variant its `type` tag names, else the closest sub-error.
        chosen = _variant_errors(err)
        if chosen:
            return [d for sub in chosen for d in _detail(sub, root)]
        tags = _tags(err)
        if tags and isinstance(err.instance, dict) and "type" not in err.instance:
            return [{"loc": [root, *err.absolute_path, "type"], "type": "missing", "msg": "Field required"}]
        if tags and isinstance(err.instance, dict):
            expected = ", ".join(repr(t) for t in tags)
            return [{"loc": [root, *err.absolute_path, "type"], "type": "union_tag_invalid",
                     "msg": f"Input tag {err.instance.get('type')!r} found using 'type' does not match any of "
                            f"the expected tags: {expected}"}]
        inner = best_match(err.context)
        if inner is not None:
            err = inner
    loc: list[str | int] = [root, *err.absolute_path]
    instance = err.instance
    schema = err.schema if isinstance(err.schema, dict) else {}
    if err.validator == "required" and isinstance(instance, dict):
        missing = [k for k in schema.get("required", []) if k not in instance]
        return [{"loc": [*loc, k], "msg": "Field required", "type": "missing"} for k in missing]
    if err.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(schema.get("properties", {}))
        extra = [k for k in instance if k not in known]
        if not extra:
            return [{"loc": loc, "msg": err.message, "type": "extra_forbidden"}]
        return [
            {"loc": [*loc, k], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
            for k in extra
        ]
    if err.validator == "type":
        wanted = err.validator_value
        name = wanted if isinstance(wanted, str) else "_or_".join(str(w) for w in wanted)
        return [{"loc": loc, "msg": f"Input should be a valid {name}", "type": f"{name}_type"}]
    kind = _TYPE_NAMES.get(str(err.validator), "value_error")
    return [{"loc": loc, "msg": err.message, "type": kind}]


def validate_body(def_name: str, body: Json, *, nullable_top: bool = False) -> None:
    """Raise Invalid (422) unless `body` matches `$defs[def_name]`.

    With `nullable_top`, top-level `null` values are accepted: on update they mean "clear this field".
    """
    if body is None:
        raise Invalid.one(["body"], "Field required", "missing")
    checked = body
    if nullable_top and isinstance(body, dict):
        checked = {k: v for k, v in body.items() if v is not None}
    details: list[dict[str, Any]] = []
    for err in sorted(_validator(def_name).iter_errors(checked), key=lambda e: [str(p) for p in e.absolute_path]):
        # One jsonschema error per missing key would repeat the whole list; keep each problem once.
        details.extend(d for d in _detail(err, "body") if d not in details)
    if details:
        raise Invalid(details)


def parse_json(raw: bytes) -> Json:
    """Decode a request body; an empty body is None; malformed JSON is a 422 like FastAPI's."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        pos = getattr(exc, "pos", 0)
        raise Invalid.one(["body", pos], "JSON decode error", "json_invalid") from None


def page_params(query: Mapping[str, str]) -> tuple[int, int]:
    """`page[number]` (≥ 1, default 1) and `page[size]` (1..100, default 20), or a 422."""
    number = _int_param(query, "page[number]", 1, low=1, high=None)
    size = _int_param(query, "page[size]", DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
    return number, size


def _int_param(query: Mapping[str, str], name: str, default: int, *, low: int, high: int | None) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid.one(
            ["query", name], "Input should be a valid integer, unable to parse string as an integer",
            "int_parsing",
        ) from None
    if value < low:
        raise Invalid.one(["query", name], f"Input should be greater than or equal to {low}",
                          "greater_than_equal")
    if high is not None and value > high:
        raise Invalid.one(["query", name], f"Input should be less than or equal to {high}", "less_than_equal")
    return value


def paginate(items: list[Json], number: int, size: int) -> tuple[list[Json], dict[str, int]]:
    """One page of `items` and the standard `meta` object."""
    total = len(items)
    pages = (total + size - 1) // size
    start = (number - 1) * size
    meta = {"page_number": number, "page_size": size, "total_pages": pages, "total_results": total}
    return items[start : start + size], meta


def apply_defaults(def_name: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Fill the defaults the schema declares, in place, for `obj` and the nested objects it holds.

    Only objects that are present get their nested defaults (an absent `telephony_settings` stays
    absent), which is how a server applying pydantic defaults behaves.
    """
    _fill(definition(def_name), obj)
    return obj


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        schema = definition(str(schema["$ref"]).rsplit("/", 1)[-1])
    return schema


def _variants(schema: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for key in ("oneOf", "anyOf"):
        for sub in schema.get(key, []):
            yield _resolve(sub)


def _fill(schema: Mapping[str, Any], value: Json) -> None:
    schema = _resolve(schema)
    if isinstance(value, dict):
        props: Mapping[str, Any] = schema.get("properties", {})
        if not props:
            # A discriminated union: pick the variant whose `type` enum names this object's type.
            for variant in _variants(schema):
                enum = variant.get("properties", {}).get("type", {}).get("enum", [])
                if value.get("type") in enum:
                    _fill(variant, value)
                    return
            return
        for key, sub in props.items():
            resolved = _resolve(sub)
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            elif key not in value and "default" in resolved:
                value[key] = copy.deepcopy(resolved["default"])
            if key in value:
                _fill(resolved, value[key])
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            _fill(schema["items"], item)
