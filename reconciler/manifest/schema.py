"""JSON Schema checks of manifest documents, with messages a person can act on.

Each document is checked by the fast checker first and explained by jsonschema only when it fails
(manifest/validators.py, which compiles both). jsonschema's raw messages are rewritten here: an
unknown key gets a "did you mean" hint and is reported at the key itself, a `oneOf` failure is
narrowed to the branch that came closest.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported when first needed: ~70 ms that a valid plan never spends
    from jsonschema.exceptions import ValidationError

from reconciler import tree
from reconciler.errors import ManifestProblem
from reconciler.kinds import KINDS as RESOURCE_KINDS
from reconciler.manifest.fastcheck import Unsupported
from reconciler.manifest.validators import fast_check, validator
from reconciler.manifest.yamlpos import Document, Path
from reconciler.model import to_references
from reconciler.schemas.formats import FORMATS

# API fields that a manifest expresses differently, with the way to write them instead.
REPLACED_KEYS = {
    "Assistant": {
        "tool_ids": "attach shared tools by name with shared_tools",
        "version_name": "declare named versions under versions",
    },
}


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """A `; did you mean 'x'?` suffix when some choice is close to `word`, else ''."""
    import difflib  # only a run with a problem needs it

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def missing_key(key: str) -> str:
    """The message for a required key that is absent."""
    return f"missing required key '{key}'"


def dotted(path: Path) -> str:
    """`("spec", "tools", 0, "webhook")` -> `spec.tools[0].webhook`; the empty path is the document."""
    return tree.dotted(path, "document")


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """Narrow oneOf/anyOf failures to the alternative that came closest."""
    from jsonschema.exceptions import best_match

    if error.validator in ("oneOf", "anyOf") and error.context:
        yield from _leaves(best_match(_tagged(error.context)))
    else:
        yield error


def _tagged(errors: list[ValidationError]) -> list[ValidationError]:
    """The errors of the alternatives whose `type` tag the value carries (a union told apart by its
    `type`, as background_audio is): another alternative's complaints about the rest are beside the
    point (`media_url` with a bad URL is not a bad `predefined_media`). All of them if none is left."""
    wrong_tag = {e.relative_schema_path[0] for e in errors
                 if list(e.relative_path) == ["type"] and e.validator in ("enum", "const")}
    return [e for e in errors if e.relative_schema_path[0] not in wrong_tag] or errors


def _number(value: float) -> str:
    """A number as written: every digit of an int (`:g` showed 1234567 as 1.23457e+06), a whole float
    as an int (a schema's `100.0`), any other float as Python spells it back (0.5, 1e+300)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _short(value: Any) -> str:
    # A value from ${env:…} is shown as the reference the user wrote, never as its value.
    text = json.dumps(to_references(value), default=str)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Finding:
    """One schema problem: the document path it is about, the message without the path, and whether
    it is reported at the key (unknown keys) rather than at the value."""

    path: Path
    detail: str
    at_key: bool = False
    labelled: bool = True  # prefix the message with the dotted path it is about
    about_parent: bool = False  # an unknown key: the prefix names the object that holds it


def findings(kind: str, instance: Any, base: Path = (), fragment: str = "", *, null_free: bool = False
             ) -> list[Finding]:
    """Validate `instance` (found at `base` of its document) against a kind's schema or `fragment`.
    `null_free`: the caller knows that no mapping in `instance` holds a null (nothing to strip)."""
    original = instance
    stripped = instance if null_free else without_nulls(instance)
    # Nulls are stripped before checking (null clears an optional field), which would also hide a
    # typo whose value is null (`voice_setings: null`): those unknown keys are looked for apart.
    out: list[Finding] = [] if stripped is instance else unknown_null_keys(kind, fragment, instance, base)
    instance = stripped
    quick = fast_check(kind, fragment)
    try:
        if quick is not None and quick(instance):
            return out  # valid: skip jsonschema, which is only needed to explain what is wrong
    except Unsupported:
        pass  # a part of the schema the fast check cannot decide (fastcheck.py): jsonschema decides
    for error in validator(kind, fragment).iter_errors(instance):
        for leaf in _leaves(error):
            out.extend(_translate(kind, leaf, base, original))
    # Alternatives of a oneOf can fail in the same way (two tool variants missing the same key):
    # one report each.
    return list(dict.fromkeys(out))


def unknown_null_keys(kind: str, fragment: str, instance: Any, base: Path) -> list[Finding]:
    """Unknown keys whose value is null, wherever a closed object holds them (oneOf alternatives
    included: a key unknown to the wrong alternative carries a non-null value there)."""
    out: list[Finding] = []

    def walk(errors: Iterable[ValidationError]) -> None:
        for error in errors:
            if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                known = list(error.schema.get("properties", {}))
                path: Path = (*base, *error.absolute_path)
                out.extend(_unknown_key(kind, path, key, known)
                           for key, value in error.instance.items() if value is None and key not in known)
            walk(error.context or [])

    walk(validator(kind, fragment).iter_errors(instance))
    return out


def without_nulls(value: Any) -> Any:
    """`value` without the mapping entries that are null. In a manifest, `key: null` asks for the
    field to be cleared (or, in an overlay, removed), so it is valid wherever the key is optional;
    a required key set to null is then reported as missing. Returns `value` itself when it holds no
    null entry (the common case: no copy)."""
    if isinstance(value, dict):
        out = None
        for key, item in value.items():
            # Only containers can change: a scalar is its own result (no call for each of them).
            new = without_nulls(item) if isinstance(item, dict | list) else item
            if item is None or new is not item:
                if out is None:
                    out = {k: v for k, v in value.items()}
                if item is None:
                    del out[key]
                else:
                    out[key] = new
        return value if out is None else out
    if isinstance(value, list):
        items = [without_nulls(v) if isinstance(v, dict | list) else v for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def to_problem(doc: Document, finding: Finding, where: Path | None = None) -> ManifestProblem:
    """Place a finding in `doc`. With `where`, a path the document lacks (a merged version spec
    holds keys its overlay does not) is reported at its deepest part under `where`."""
    path = finding.path
    if where is not None and path not in doc.values:
        cut = len(path)
        while cut > len(where) and path[:cut] not in doc.values:
            cut -= 1
        path = path[:cut]
    line, col = doc.key_pos(path) if finding.at_key and path == finding.path else doc.pos(path)
    return ManifestProblem(doc.file, line, col, message(finding))


def message(finding: Finding) -> str:
    """The finding's text, prefixed with where it is (an unknown key: the object that holds it)."""
    if not finding.labelled:
        return finding.detail
    where = finding.path[:-1] if finding.about_parent else finding.path
    return f"{dotted(where)}: {finding.detail}" if where else finding.detail


def _translate(kind: str, error: ValidationError, base: Path, original: Any = None) -> list[Finding]:
    """`error` as findings; `original` is the instance checked before its nulls were stripped."""
    path: Path = (*base, *error.absolute_path)
    instance = error.instance
    v = error.validator
    if v in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, dict):
        known = list(error.schema.get("properties", {}))
        if error.schema.get("patternProperties"):
            return [Finding(path, error.message)]
        return [_unknown_key(kind, path, key, known) for key in instance if key not in known]
    if v == "required" and isinstance(instance, dict):
        # At the key that opens the incomplete object (`spec:`), or at the list item's dash; a key
        # written with nothing after it (`metadata:`, null) at that key.
        held = tree.at(original, error.absolute_path)
        return [
            Finding((*path, key), "cannot be null: it is required", at_key=True)
            if isinstance(held, dict) and key in held and held[key] is None
            else Finding(path, missing_key(key), at_key=True)
            for key in error.validator_value
            if key not in instance and not (key == "invite" and "invite_config" in instance)  # said once, there
        ]
    if v == "enum":
        choices = [str(c) for c in error.validator_value]
        hint = did_you_mean(instance, choices) if isinstance(instance, str) else ""
        shown = error.validator_value[:12]
        listed = ", ".join(_short(c) for c in shown) + (", ..." if len(error.validator_value) > 12 else "")
        return [Finding(path, f"{_short(instance)} is not one of {listed}{hint}")]
    if v == "const":
        return [Finding(path, f"must be {_short(error.validator_value)}, not {_short(instance)}")]
    if v == "type":
        want = error.validator_value
        names = [_YAML_TYPES.get(str(w), str(w)) for w in (want if isinstance(want, list) else [want])]
        want_text = " or ".join(names)
        hint = _number_hint(instance, "integer" in names) if {"number", "integer"} & set(names) else ""
        return [Finding(path, f"expected {want_text}, got {_type_name(instance)}{hint}")]
    if v is None:  # a `false` schema
        return [Finding(path, "not allowed here")]
    bound = error.validator_value
    if v in _BOUNDS and tree.is_number(instance):
        return [Finding(path, f"{_number(instance)} {_BOUNDS[v]} {_number(bound)}")]
    if v == "maxLength" and isinstance(instance, str):
        # A name's limit is the API's field it is sent as (the kind schemas' metadata): say whose.
        owner = f" (the API's limit on {RESOURCE_KINDS[kind].noun} names)" if _is_name(kind, path) else ""
        return [Finding(path, f"is {len(instance)} characters long; at most {bound} are allowed{owner}")]
    if v == "minLength" and isinstance(instance, str):
        return [Finding(path, "must not be empty" if bound == 1 else f"needs at least {bound} characters")]
    if v == "pattern" and path[:2] in (("metadata", "name"), ("metadata", "previous_names")):
        return [Finding(path, f"holds {_ONE_LINE}: a name is one line of text")]
    if v == "pattern" and ("owner_tag" in path[-1:] or "previous_owner_tags" in path[-2:-1]):
        return [Finding(path, f"holds {_ONE_LINE}: a tag is one line of text")]
    if v == "pattern" and path[:2] == ("metadata", "ignore_changes"):
        return [Finding(path, f"{_short(instance)} is not a dotted spec path such as voice_settings.voice")]
    if v == "pattern" and path[-1:] == ("api_key_env",):
        return [Finding(path, f"{_short(instance)} is not an environment variable's name (letters, digits and _, "
                              "not starting with a digit)")]
    if v == "format" and error.validator_value in FORMATS:
        return [Finding(path, f"{_short(instance)} is not {FORMATS[error.validator_value][1]}")]
    if v == "uniqueItems":
        return [Finding(path, "lists the same item more than once")]
    return [Finding(path, error.message)]


def _is_name(kind: str, path: Path) -> bool:
    """Whether `path` is a resource's name (metadata.name, or one of metadata.previous_names)."""
    return kind in RESOURCE_KINDS and path[:2] in (("metadata", "name"), ("metadata", "previous_names"))


_ONE_LINE = "a control character (a line break, a tab, an escape) or a line separator"  # the schemas' OneLine
_YAML_TYPES = {"object": "mapping", "array": "list"}  # the words a YAML author knows
_BOUNDS = {
    "minimum": "is below the minimum of",
    "maximum": "is above the maximum of",
    "exclusiveMinimum": "must be greater than",
    "exclusiveMaximum": "must be less than",
}


def _tool_item(path: Path) -> Path | None:
    """The tool's own path when `path` is an inline tool item (main spec or a version overlay)."""
    rest = path[4:] if path[:2] == ("spec", "versions") and len(path) > 4 and path[3] == "spec" else path[1:]
    if path[:1] == ("spec",) and len(rest) == 2 and rest[0] == "tools" and isinstance(rest[1], int):
        return path
    return None


def _old_form(kind: str, path: Path, key: str) -> str | None:
    """What to write instead of a form the API has since changed (reference §13), or None."""
    if key == "invite_config" and kind == "Assistant" and _tool_item(path):
        return "the API renamed invite_config to invite: write the same settings under invite:"
    if key == "timeout_ms" and path[-1:] == ("webhook",):
        owner = path[:-1]
        if (kind == "Assistant" and _tool_item(owner)) or (kind == "Tool" and owner == ("spec",)):
            return (f"the API stores a timeout_ms nested in webhook but does not apply it: write it beside "
                    f"type, as {dotted((*owner, 'timeout_ms'))}")
    return None


def _unknown_key(kind: str, path: Path, key: str, known: list[str]) -> Finding:
    at: Path = (*path, key)
    instead = _old_form(kind, path, key)
    if instead:
        return Finding(at, f"unknown key '{key}'; {instead}", True, about_parent=True)
    if path == ("spec",) or (len(path) == 4 and path[:2] == ("spec", "versions") and path[3] == "spec"):
        if kind in RESOURCE_KINDS and RESOURCE_KINDS[kind].name_field == key:
            text = f"{dotted(path)} must not repeat the name ('{key}'); the name is metadata.name"
            return Finding(at, text, True, labelled=False)
        instead = REPLACED_KEYS.get(kind, {}).get(key)
        if instead:
            return Finding(at, f"unknown key '{key}'; {instead}", True, about_parent=True)
    if kind == "Assistant" and key == "id" and len(path) == 3 and path[:2] == ("spec", "mcp_servers"):
        return Finding(at, "unknown key 'id'; name the McpServer resource with server: NAME", True, about_parent=True)
    return Finding(at, f"unknown key '{key}'{did_you_mean(key, known)}", True, about_parent=True)


# A number in exponent form that YAML 1.1 (PyYAML's rules) reads as a string: its floats need a dot and
# a signed exponent, so `1e3`, `1.5e3` and `2E-4` are strings there, though JSON and YAML 1.2 read them
# as numbers (lessons-from-peers: a value silently of the wrong type).
_EXPONENT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+")


def _number_hint(value: Any, integer: bool) -> str:
    """For a string that reads as a number elsewhere, how to write it so YAML reads a number."""
    if not isinstance(value, str) or not _EXPONENT.fullmatch(value):
        return ""
    number = float(value)
    if not math.isfinite(number):
        return f" ({value} is a string in YAML, and too large for a number)"
    if integer and number.is_integer():
        shown = str(int(Decimal(value)))  # exactly: 1e23 is 10**23, not the float's 99999999999999991611392
    else:
        shown = repr(number)
        if "e" in shown:  # YAML 1.1's float form: a dot in the mantissa, a sign on the exponent
            mantissa, exponent = shown.split("e")
            mantissa = mantissa if "." in mantissa else mantissa + ".0"
            shown = f"{mantissa}e{exponent if exponent[0] in '+-' else '+' + exponent}"
    return f" (YAML reads {value} as a string; write {shown})"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__
