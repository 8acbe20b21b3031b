"""Saved plans (`plan --out FILE`, `apply FILE`).

A saved plan holds the plan document, the resolved desired state with `${env:…}` references in place
of their values (so no secret is ever written to disk), the options it was made with, the account it
was made against, a fingerprint of every live object it read (keyed, so that it reveals nothing of
the object), the ids of the live objects what it sends names (all three: binding.py), and a binding
of each secret that what the plan sends uses: per `${env:NAME}`, a random salt made for this
plan and scrypt(value, salt), never the value (issue #11: the plan document shows a secret as
`(sensitive)`, so without the binding a value changed between plan and apply would run unreviewed).
`apply FILE` checks the bindings against its own environment before any request, re-reads live
state, refuses if any fingerprint of what it touches or names changed, re-plans from the saved
desired state and checks that the result is the saved plan, naming the same objects, so that what
runs is exactly what was reviewed.
"""

from __future__ import annotations

import hmac
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.apply import binding
from reconciler.errors import ConfigError, StalePlanError
from reconciler.kinds import BY_PREFIX
from reconciler.live import fingerprints
from reconciler.manifest import desired_from_dict, dump_desired
from reconciler.model import ENV_REF, DesiredState, LiveState, SensitiveStr
from reconciler.planning.plan import Plan
from reconciler.render.document import Origin, plan_document
from reconciler.tree import strings

SAVED_KIND = "reconciler-saved-plan"
# 2: `secrets` binds the value of every `${env:}` the plan sends (issue #11). A format 1 file has no
# binding, so applying it could run a secret nobody reviewed: it is refused, not read.
# 3: the binding by scrypt, not one sha256.
# 4: `references`, the ids what the plan sends names; a format 3 file would let a shared tool replaced by
# a same-named one run unreviewed, so it is refused too.
# 5: `account`, the base URL and a check of the API key; a format 4 file could be applied to any account.
# 6: sealed fingerprints (binding.seal); a format 5 file's bare ones let a secret be guessed.
SAVED_FORMAT = "6"


@dataclass
class SavedPlan:
    document: dict[str, Any]
    desired: DesiredState
    fingerprints: dict[str, str]
    prune: bool = False
    targets: list[str] = field(default_factory=list)
    origin: Origin | None = None  # what the plan is of: its project, environment and commit
    # NAME -> {"salt": hex, "scrypt": hex of scrypt(value, salt)}: the values the plan was made with.
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    # The ids of the live objects what the plan sends names (binding.references): checked like its own.
    references: list[str] = field(default_factory=list)
    # The account it was made against (binding.account): its base URL and a check of its API key.
    account: dict[str, Any] = field(default_factory=dict)
    # The key its fingerprints are sealed with (binding.seal), from the API key: set by check_account.
    seal_key: bytes = b""

    @property
    def environment(self) -> str | None:
        return self.desired.project.environment


def save(path: str | os.PathLike[str], plan: Plan, desired: DesiredState, live: LiveState, *,
         prune: bool, targets: list[str], base_url: str, api_key: str, origin: Origin | None = None,
         environ: Mapping[str, str] | None = None) -> None:
    """Write the saved plan atomically (a reader never sees half a file). The environment it is for is
    the desired state's (`desired.project.environment`); `apply FILE --env OTHER` refuses it, as it
    refuses another account than `base_url` and `api_key`'s (`check_account`).
    `environ` is where the plan's `${env:}` values came from (default os.environ)."""
    env = os.environ if environ is None else environ
    bound_account, seal_key = binding.account(base_url, api_key)
    data = {
        "kind": SAVED_KIND,
        "format_version": SAVED_FORMAT,
        "secrets": {name: bind(env[name]) for name in sorted(secret_names(plan)) if name in env},
        "plan": plan_document(plan),
        "desired": dump_desired(desired),
        "options": {"prune": prune, "targets": list(targets)},
        # Never a saved plan without them (a state read without fingerprints has none at all, while
        # fingerprints() always has the listings' `…s/ids`): nothing could make it stale.
        # Sealed: a bare fingerprint is a fast hash of a live object, secrets and all (binding.py).
        "fingerprints": binding.seal(live.fingerprints or fingerprints(live), seal_key),
        "references": binding.references(plan, live),
        "account": bound_account,
        "origin": None if origin is None else origin.as_dict(),
    }
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent or Path("."), prefix=".plan-", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, target)
    except OSError as exc:
        raise ConfigError(f"--out {path}: cannot write the plan: {exc.strerror or exc}") from None


def is_saved_plan(path: str | os.PathLike[str]) -> bool:
    """True if `path` is a file holding a saved plan (rather than a manifest)."""
    p = Path(path)
    if not p.is_file() or p.suffix in (".yaml", ".yml"):
        return False
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("kind") == SAVED_KIND


def looks_like_saved_plan(path: str | os.PathLike[str]) -> bool:
    """What `apply FILE` treats as a saved plan: a saved plan, or a file that is no manifest
    (not .yaml/.yml) and so can only be meant as one; `load` then says what is wrong with it."""
    p = Path(path)
    return is_saved_plan(p) or (p.is_file() and p.suffix not in (".yaml", ".yml"))


def load(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> SavedPlan:
    """Read a saved plan, resolving its `${env:}` references from `environ` (default os.environ).
    Refuses (ConfigError) a file of another format, and (StalePlanError) a secret the plan sends that
    is unset or differs from the value it was made with (`check_secrets`), before anything else."""
    env = os.environ if environ is None else environ
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable saved plan ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != SAVED_KIND:
        raise ConfigError(f"{path}: not a saved plan (made by `reconciler plan --out FILE`)")
    version = data.get("format_version")
    if version != SAVED_FORMAT:
        raise ConfigError(f"{path}: saved plan format version {version!r} is not supported (this reconciler reads "
                          f"format {SAVED_FORMAT!r}): make the plan again with `reconciler plan --out`")
    bound = data.get("secrets")
    if not isinstance(bound, dict) or not all(
            isinstance(b, dict) and isinstance(b.get("salt"), str) and isinstance(b.get(HASH), str)
            for b in bound.values()):
        raise ConfigError(f"{path}: malformed saved plan: `secrets` must map each variable to a salt and "
                          f"its {HASH}")
    secrets_bound = {str(name): {"salt": b["salt"], HASH: b[HASH]} for name, b in bound.items()}
    check_secrets(secrets_bound, str(path), env)
    refs = data.get("references")
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise ConfigError(f"{path}: malformed saved plan: `references` must list the ids of live objects")
    if not binding.valid_account(data.get("account")):
        raise ConfigError(f"{path}: malformed saved plan: `account` must hold the base URL and a check of the key")
    options = data.get("options", {})
    about = data.get("origin")
    return SavedPlan(
        document=data["plan"],
        desired=desired_from_dict(data["desired"], env),
        fingerprints=dict(data.get("fingerprints", {})),
        prune=bool(options.get("prune", False)),
        targets=list(options.get("targets", [])),
        origin=Origin.from_dict(about) if isinstance(about, dict) else None,
        secrets=secrets_bound,
        references=list(refs),
        account=dict(data["account"]),
    )


def secret_names(plan: Plan) -> set[str]:
    """The variables whose values what the plan sends holds (`${env:NAME}` in any operation body)."""
    return {name for rc in plan.resource_changes for op in rc.operations for text in strings(op.body)
            if isinstance(text, SensitiveStr) for name in ENV_REF.findall(text.reference)}


# The binding's hash (binding.py: salted, slow), re-exported: a variable's binding is `bind(value)`.
HASH = binding.HASH
bind = binding.bind


def check_secrets(bound_secrets: Mapping[str, Mapping[str, str]], path: str, env: Mapping[str, str]) -> None:
    """Refuse when a secret the plan sends is unset in `env` or differs from the value it was made with
    (`bound_secrets`, as `bind` made them), in one line naming the variables, never their values."""
    unset, changed = [], []
    for name, bound in sorted(bound_secrets.items()):
        if name not in env:
            unset.append(name)
            continue
        try:
            salt = bytes.fromhex(bound["salt"])
        except ValueError:
            raise ConfigError(f"{path}: malformed saved plan: the salt of {name} is not hexadecimal") from None
        if not hmac.compare_digest(bind(env[name], salt)[HASH], bound[HASH]):
            changed.append(name)
    if unset or changed:
        said = [f"{', '.join(changed)} differ{'s' if len(changed) == 1 else ''} from the value"
                f"{'s' if len(changed) > 1 else ''} the plan was made with"] if changed else []
        said += [f"{', '.join(unset)} {'is' if len(unset) == 1 else 'are'} not set"] if unset else []
        raise StalePlanError(f"{path}: refusing to apply: environment variable {'; '.join(said)}: set the reviewed "
                             f"value, or make and review the plan again; nothing was changed")


def check_environment(saved: SavedPlan, environment: str | None, path: str) -> None:
    """A saved plan runs only in the environment it was made for (`--env` may repeat it, not change it)."""
    if environment is not None and environment != saved.environment:
        made = f"environment {saved.environment}" if saved.environment else "a project without environments"
        raise ConfigError(f"{path}: this plan was made for {made}, not for environment {environment}: "
                          f"refusing to apply it (plan again with --env {environment})")


def check_account(saved: SavedPlan, base_url: str, api_key: str, key_name: str, path: str) -> None:
    """A saved plan runs only against the account it was made against: the same base URL (`--base-url`,
    the environment's, TELNYX_BASE_URL) and the same API key (in the variable `key_name`), from which
    it learns the key its fingerprints are sealed with."""
    saved.seal_key = binding.check_account(saved.account, base_url, api_key, key_name, path)


def check_fresh(saved: SavedPlan, live: LiveState) -> None:
    """Refuse a plan whose live objects changed since it was made, naming them. Only the objects the
    plan touches count (those its changes and orphans name, with their versions and canary, and those
    what it sends names by id: a shared tool no manifest declares, a test's assistant); an object
    appearing elsewhere, or any other change that would alter the plan (a same-named object for a
    create, a new orphan), is caught when apply re-plans and compares (issue #11: another team's new
    or edited assistant does not make the plan stale)."""
    touched = {str(x["id"]) for x in [*saved.document.get("resource_changes", []), *saved.document.get("orphans", [])]
               if x.get("id")}
    # Named only inside what is sent (`shared_tools: [ext]` is sent as ext's id): one deleted and made
    # again under its name would otherwise be re-resolved by name, unreviewed.
    touched.update(saved.references)

    def relevant(key: str) -> bool:
        _, _, rest = key.partition("/")
        object_id = rest.partition("/")[0]
        return object_id in touched

    # Without the key (check_account not run) no seal matches: stale, never fresh by mistake.
    now = binding.seal({k: v for k, v in live.fingerprints.items() if relevant(k)}, saved.seal_key)
    changed = sorted(k for k, v in saved.fingerprints.items() if relevant(k) and now.get(k) != v)
    appeared = sorted(k for k in now if k not in saved.fingerprints and relevant(k))
    if changed or appeared:
        names = _described([*changed, *appeared], set(appeared), live)
        shown = "; ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        raise StalePlanError(f"the plan is stale: re-run plan (changed since it was made: {shown})")


def _described(keys: list[str], new: set[str], live: LiveState) -> list[str]:
    """Fingerprint keys as a reader knows them, one entry per object (`assistant NAME (ID)`), with
    what of it changed besides itself (`... and its versions`); `new` those that did not exist."""
    parts: dict[str, list[str]] = {}
    for key in keys:
        kind, _, rest = key.partition("/")
        object_id, _, part = rest.partition("/")
        parts.setdefault(f"{kind}/{object_id}", []).append(f"{part}{' (new)' if key in new else ''}")
    out = []
    for key, changed in parts.items():
        own = next((p for p in changed if p in ("", " (new)")), None)  # the object's own read
        others = [p for p in changed if p not in ("", " (new)")]
        where = _describe(key, live) + (own or "")
        if others:
            where += (" and its " if own is not None else ": its ") + ", ".join(others)
        out.append(where)
    return out


def _describe(key: str, live: LiveState) -> str:
    """A fingerprint key (`assistant/<id>/versions`) as a reader knows it: kind, name and id."""
    kind, _, rest = key.partition("/")
    object_id, _, part = rest.partition("/")
    objects = {"assistant": live.assistants, "tool": live.tools, "mcp_server": live.mcp_servers,
               "assistant_test": live.tests}.get(kind, [])
    name_field = BY_PREFIX[kind].name_field if kind in BY_PREFIX else "name"
    id_field = BY_PREFIX[kind].id_field if kind in BY_PREFIX else "id"
    name = next((str(o.get(name_field)) for o in objects if str(o.get(id_field)) == object_id), None)
    if object_id == "ids":
        return f"the set of {kind.rstrip('s')}s"
    where = f"{kind} {name} ({object_id})" if name else f"{kind} {object_id} (deleted)"
    return f"{where} {part}".strip()
