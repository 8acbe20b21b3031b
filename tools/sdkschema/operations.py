"""Read the SDK's resource modules (with `ast`, never by calling them) into a table of operations.

Each sync resource method ends in `return self._get/_post/_put/_patch/_delete/_get_api_list(...)`:
its first argument is the path template, `body=maybe_transform({...}, X)` names the body's keys and
their TypedDict, `query=maybe_transform({...}, Y)` the query's, `strip_not_given({...})` the headers
and `cast_to=` / `page=` the answer's type. The method's place (`resources/ai/assistants/versions.py`,
method `update`) gives the SDK call (`client.ai.assistants.versions.update`).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VERBS = {"_get": "GET", "_post": "POST", "_put": "PUT", "_patch": "PATCH", "_delete": "DELETE",
         "_get_api_list": "GET"}
PREFIXES = ("/ai/assistants", "/ai/tools", "/ai/mcp_servers")


@dataclass
class Operation:
    """One SDK method: its call path, HTTP method and path, and the classes of its parts."""

    call: str  # "ai.assistants.versions.update"
    method: str
    path: str
    body_keys: list[str] = field(default_factory=list)
    body_class: type | None = None
    query_keys: list[str] = field(default_factory=list)
    query_class: type | None = None
    headers: list[str] = field(default_factory=list)
    answer: Any = None  # a class, `str`, `object`, None (no body) or ("page", page class, item class)


def _imports(tree: ast.Module, package: str) -> dict[str, str]:
    """Local name -> dotted module (or module:attr) for every `from X import Y` of a file."""
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            for alias in node.names:
                found[alias.asname or alias.name] = f"{base}:{alias.name}"
    return found


def _resolve(name: str, imports: dict[str, str]) -> Any:
    where = imports.get(name)
    if where is None:
        return {"str": str, "object": object, "NoneType": type(None)}.get(name)
    module, attr = where.split(":")
    try:
        return importlib.import_module(f"{module}.{attr}")
    except ImportError:
        return getattr(importlib.import_module(module), attr)


def _class_of(node: ast.expr, imports: dict[str, str]) -> Any:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return getattr(_resolve(node.value.id, imports), node.attr)
    if isinstance(node, ast.Name):
        return _resolve(node.id, imports)
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    raise ValueError(f"unreadable type expression {ast.dump(node)}")


def _transform(node: ast.expr | None, imports: dict[str, str]) -> tuple[list[str], type | None]:
    """Keys and TypedDict of a `maybe_transform({...}, X)` call."""
    if not isinstance(node, ast.Call) or len(node.args) != 2 or not isinstance(node.args[0], ast.Dict):
        return [], None
    keys = [str(k.value) for k in node.args[0].keys if isinstance(k, ast.Constant)]
    return keys, _class_of(node.args[1], imports)


def _path(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and node.args:
        return _path(node.args[0])
    if isinstance(node, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"  # type: ignore[attr-defined]
                 for v in node.values]
        return "".join(str(p) for p in parts)
    raise ValueError(f"unreadable path {ast.dump(node)}")


def _call_prefix(file: Path, root: Path) -> str:
    parts = list(file.relative_to(root).with_suffix("").parts)
    if len(parts) >= 2 and parts[-1] == parts[-2]:
        parts.pop()
    return ".".join(["ai", *parts])


def _method(func: ast.FunctionDef, call: str, imports: dict[str, str]) -> Operation | None:
    headers: list[str] = []
    for node in ast.walk(func):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "strip_not_given"
                and node.args and isinstance(node.args[0], ast.Dict)):
            headers += [str(k.value) for k in node.args[0].keys if isinstance(k, ast.Constant)]
    for node in ast.walk(func):
        if not (isinstance(node, ast.Return) and isinstance(node.value, ast.Call)):
            continue
        request, cast = node.value, None
        if isinstance(request.func, ast.Name) and request.func.id == "cast" and len(request.args) == 2:
            # `return cast(T, self._post(..., cast_to=cast(Any, T)))`: a union answer
            cast, request = request.args[0], request.args[1]  # type: ignore[assignment]
        target = request.func
        if not (isinstance(request, ast.Call) and isinstance(target, ast.Attribute) and target.attr in VERBS):
            continue
        kw = {k.arg: k.value for k in request.keywords if k.arg}
        if cast is not None:
            kw["cast_to"] = cast
        op = Operation(call, VERBS[target.attr], _path(request.args[0]), headers=headers)
        op.body_keys, op.body_class = _transform(kw.get("body"), imports)
        options = kw.get("options")
        if isinstance(options, ast.Call):
            okw = {k.arg: k.value for k in options.keywords if k.arg}
            op.query_keys, op.query_class = _transform(okw.get("query"), imports)
        if "page" in kw:
            page = kw["page"]
            assert isinstance(page, ast.Subscript)
            op.answer = ("page", _class_of(page.value, imports), _class_of(page.slice, imports))
        elif "cast_to" in kw:
            op.answer = _class_of(kw["cast_to"], imports)
        return op
    return None


def operations(package: str = "telnyx") -> list[Operation]:
    """Every operation of the SDK under /ai/assistants, /ai/tools and /ai/mcp_servers, sorted by path."""
    root = Path(importlib.import_module(package).__file__ or "").parent / "resources" / "ai"
    files = sorted([*(root / "assistants").rglob("*.py"), root / "tools.py", root / "mcp_servers.py"])
    found: list[Operation] = []
    for file in files:
        module = ".".join([package, *file.relative_to(root.parent.parent).with_suffix("").parts])
        tree = ast.parse(file.read_text(encoding="utf-8"))
        imports = _imports(tree, module.rsplit(".", 1)[0])
        for cls in tree.body:
            if not (isinstance(cls, ast.ClassDef) and cls.name.endswith("Resource")
                    and not cls.name.startswith("Async")):
                continue
            for func in cls.body:
                if isinstance(func, ast.FunctionDef) and not func.name.startswith("_"):
                    op = _method(func, f"{_call_prefix(file, root)}.{func.name}", imports)
                    if op is not None and op.path.startswith(PREFIXES):
                        found.append(op)
    return sorted(found, key=lambda o: (o.path, o.method))
