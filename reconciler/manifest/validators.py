"""The compiled checkers of the manifest schemas: jsonschema's validator, which explains what is
wrong, and the fast yes/no checker (manifest/fastcheck.py) asked first.

The kind schemas in `schemas/` `$ref` into `schemas/api/telnyx-ai.schema.json` (the API's object
model); both are loaded once into one `referencing` registry and each validator is compiled once.
Both read a `pattern` as ECMA-262 does (manifest/patterns.py), so they agree with each other and
with check-jsonschema, and both assert the `format`s the API asserts (schemas/formats.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin

if TYPE_CHECKING:  # jsonschema is imported when first needed: ~70 ms that a valid plan never spends
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

from reconciler.manifest.fastcheck import Compiler, Unsupported
from reconciler.manifest.fastkeywords import Check
from reconciler.manifest.patterns import compiled
from reconciler.schemas import all_schemas, contents, uri
from reconciler.schemas.formats import format_checker


@cache
def _registry() -> Registry[Any]:
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    # Each schema under the URI of its own file: their relative $refs resolve as an editor's do.
    return Registry().with_resources((where, DRAFT202012.create_resource(_contents(where)))
                                     for where, _ in all_schemas())


@cache
def _contents(where: str) -> Any:
    """A schema file as both checkers see it: without its `$schema` (every file is draft 2020-12).
    jsonschema switches to its stock validator for the dialect a `$schema` names, which would drop
    `_ecma_validator`'s `pattern` in every file a `$ref` enters."""
    return {k: v for k, v in contents(where).items() if k != "$schema"}


@cache
def validator(kind: str, fragment: str = "") -> Draft202012Validator:
    """The compiled validator of a kind's document schema, or of a part of it (`fragment`,
    for example `/$defs/Spec`)."""
    schema = {"$ref": f"{uri(f'{kind}.schema.json')}#{fragment}"}
    # The formats the API asserts are asserted here too (schemas/formats.py), as the fast checker does.
    return _ecma_validator()(schema, registry=_registry(), format_checker=format_checker())


@cache
def _ecma_validator() -> type[Draft202012Validator]:
    """Draft 2020-12 with `pattern` read as ECMA-262 reads it, as the fast checker reads it
    (manifest/patterns.py), so that both agree with each other and with check-jsonschema."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    def pattern(validator: Any, patrn: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
        if validator.is_type(instance, "string") and not compiled(patrn).search(instance):
            yield ValidationError(f"{instance!r} does not match {patrn!r}")  # jsonschema's own message

    extended: type[Draft202012Validator] = validators.extend(Draft202012Validator, {"pattern": pattern})
    return extended


@cache
def fast_check(kind: str, fragment: str = "") -> Check | None:
    """A compiled yes/no check of the same schema as `validator(kind, fragment)` (None when the
    schema uses a keyword the fast checker lacks)."""

    try:
        target, ctx = _lookup(f"{uri(f'{kind}.schema.json')}#{fragment}", "")
        return _compiler().compile_root(target, ctx)
    except Unsupported:
        return None


@cache
def _compiler() -> Compiler:
    # One for every kind and fragment: a kind's Spec, compiled for its documents, serves its
    # versions' merged specs too (`fast_check(kind, "/$defs/Spec")`), and the API's shared objects
    # are compiled once.
    return Compiler(_lookup)


def _lookup(ref: str, base: str) -> tuple[Any, str]:
    """The subschema a `$ref` found in the schema file at URI `base` names, and the URI of the file
    that holds it (the base of its own `$ref`s).

    What `referencing` does for these files, without importing it (with attrs and rpds, 50-85 ms
    in `python -X importtime` here, that a valid run need not spend; jsonschema, for the messages,
    still uses it): the schemas carry no `$id` and no anchors (schemas/__init__.py), so a `$ref` is
    a URI relative to its file plus a JSON pointer (RFC 6901). Anything else is Unsupported: then
    jsonschema checks everything."""
    target, _, pointer = urljoin(base, ref).partition("#")
    try:
        node = _contents(target)
    except (KeyError, OSError, ValueError):
        raise Unsupported(ref) from None
    if pointer and not pointer.startswith("/"):
        raise Unsupported(ref)  # an anchor
    for part in pointer.split("/")[1:]:
        part = unquote(part).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise Unsupported(ref)
    if isinstance(node, dict) and ("$id" in node or "$anchor" in node or "$dynamicAnchor" in node):
        raise Unsupported(ref)
    return node, target
