"""Request bodies: decode JSON (refusing nesting beyond `MAX_DEPTH` before the decoder can recurse) and
validate it against the API schema, reporting problems as FastAPI would (`{"detail": [{loc, msg, type}]}`)."""

from __future__ import annotations

import json
from typing import Any

from jsonschema.exceptions import ValidationError, best_match

from reconciler.emulator.apierrors import Invalid
from reconciler.emulator.apischema import resolve, type_tags, validator

# Far deeper than any assistant, tool or MCP body (about 8 levels), far shallower than the interpreter's
# recursion limit, which a 10,000-deep body would otherwise hit in the decoder or in validation.
MAX_DEPTH = 100

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


# pydantic's own answers for the formats the API checks.
_FORMAT_ERRORS = {
    "date-time": ("datetime_from_date_parsing", "Input should be a valid datetime or date"),
    "uri": ("url_parsing", "Input should be a valid URL"),
}


def _too_deep(raw: bytes) -> int | None:
    """The offset where nesting first exceeds MAX_DEPTH, or None."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return None  # cannot be too deep: skips the scan for every ordinary body
    depth = 0
    in_string = escaped = False
    for pos, byte in enumerate(raw):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_DEPTH:
                return pos
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return None


def _json_invalid(pos: int, error: str) -> Invalid:
    return Invalid([{"type": "json_invalid", "loc": ["body", pos], "msg": "JSON decode error",
                     "input": {}, "ctx": {"error": error}}])


def parse_json(raw: bytes) -> Any:
    """Decode a request body; an empty body is None; malformed or too deeply nested JSON is a 422."""
    if not raw.strip():
        return None
    deep = _too_deep(raw)
    if deep is not None:
        raise _json_invalid(deep, f"Nesting deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _json_invalid(getattr(exc, "pos", 0), str(getattr(exc, "msg", "Invalid JSON"))) from None


def _variant_errors(err: ValidationError) -> list[ValidationError] | None:
    """For a failed union over objects tagged by `type`, the errors of the variant the tag names."""
    if not isinstance(err.instance, dict) or not isinstance(err.validator_value, list):
        return None
    for index, variant in enumerate(err.validator_value):
        if err.instance.get("type") in type_tags(resolve(variant)):
            return [e for e in err.context if e.relative_schema_path and e.relative_schema_path[0] == index]
    return None


def _tags(err: ValidationError) -> list[Any]:
    """The `type` tags a union over tagged objects accepts (empty when it is not such a union)."""
    if not isinstance(err.validator_value, list):
        return []
    return [t for v in err.validator_value if isinstance(v, dict) for t in type_tags(resolve(v))]


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
    if err.validator == "format" and err.validator_value in _FORMAT_ERRORS:
        kind, msg = _FORMAT_ERRORS[err.validator_value]
        return [{"loc": loc, "msg": msg, "type": kind, "input": instance}]
    kind = _TYPE_NAMES.get(str(err.validator), "value_error")
    return [{"loc": loc, "msg": err.message, "type": kind}]


def validate_body(def_name: str, body: Any, *, nullable_top: bool = False) -> None:
    """Raise Invalid (422) unless `body` matches `$defs[def_name]`.

    With `nullable_top`, top-level `null` values are accepted: on update they mean "clear this field".
    """
    if body is None:
        raise Invalid.one(["body"], "Field required", "missing")
    checked = body
    if nullable_top and isinstance(body, dict):
        checked = {k: v for k, v in body.items() if v is not None}
    details: list[dict[str, Any]] = []
    for err in sorted(validator(def_name).iter_errors(checked), key=lambda e: [str(p) for p in e.absolute_path]):
        # One jsonschema error per missing key would repeat the whole list; keep each problem once.
        details.extend(d for d in _detail(err, "body") if d not in details)
    if details:
        raise Invalid(details)
