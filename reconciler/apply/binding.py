"""What a saved plan is bound to besides the secrets it sends: the account it was made against, the
live objects its bodies name by id, and its fingerprints, sealed so that the file reveals nothing of
the live objects they are of. Every hash here is salted per plan and slow (`bind`, scrypt), or keyed
by such a hash: a saved plan travels (a CI artefact), and whoever holds it must learn no secret from it.

- The account: the base URL (never its credentials) and a check made from `bind`'s scrypt of the API
  key. On Telnyx itself every account shares the one base URL, so only the key tells one account from
  another: a plan made against account A, applied with account B's key, would create A's reviewed
  assistants in B. Another key of the same account is refused too (a rotated key: plan again), the
  price of telling accounts apart without asking the API who the key is.
- The references. The plan document names a shared tool or MCP server, or a test's assistant, by
  name (`shared_tools: [ext]`); what the plan sends names it by id. A live-only object of that name
  deleted and made again since the plan was made (another id, another URL) would be re-resolved by
  name when apply plans again, and the reviewed plan document would still compare equal: the
  references keep the ids the reviewed bodies held, so that apply checks those objects as it checks
  the objects the plan changes, and refuses a re-made plan whose bodies name other ones.
- The seal: each fingerprint kept as HMAC(seal key, name and fingerprint), the seal key derived from
  the API key by the same scrypt under the plan's salt, and never written. A bare fingerprint is a
  fast hash of a live object, secret header values and all: given the object's other fields, a
  4-digit PIN in a header was found from it in under a second. Masking the secrets this run knows
  before hashing was the other way; it would leave those it does not know (a header another team
  set on a shared tool) open to the same guessing, and would hide a secret field changing live to the
  new value of a variable the plan does not send (no binding checks that one). A keyed hash hides
  every value and still changes with any change. Checking a guess against a seal takes the API key,
  and whoever has that can read the live objects themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from reconciler.errors import ConfigError
from reconciler.model import LiveState
from reconciler.planning.plan import Plan
from reconciler.tree import strings

# A saved plan travels (a CI artefact from the pull request's job to the merge's): a fast hash would
# let whoever holds the file try guesses of a human-chosen secret (a webhook's password) by the
# million per second. scrypt at these costs takes ~50 ms and 16 MiB a guess, a plan one such wait per
# variable; the salt, new for every plan, defeats tables and comparing plans.
HASH = "scrypt"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def bind(value: str, salt: bytes | None = None) -> dict[str, str]:
    """A salted, deliberately slow hash of one secret value: enough to tell whether a later value is
    the same; salted per plan, no use for recognising the value across plans or looking it up in a
    table; slow, so guessing it from the file costs ~50 ms a guess."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(value.encode("utf-8"), salt=salt, maxmem=64 * 2**20, **_SCRYPT)
    return {"salt": salt.hex(), HASH: digest.hex()}


def _mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def _keys(api_key: str, salt: bytes) -> tuple[str, bytes]:
    """From one scrypt of the API key under the plan's salt (the one slow step, as slow to guess from
    as `bind`'s own digest): the check of the key the file keeps, and the key that seals its
    fingerprints, which it never keeps (neither can be had from the other)."""
    material = bytes.fromhex(bind(api_key, salt)[HASH])
    return _mac(material, "api key check"), bytes.fromhex(_mac(material, "fingerprint seal"))


def shown_base_url(url: str) -> str:
    """The base URL as a saved plan records and compares it: no credentials, query or fragment (a
    token could ride in any of them), scheme and host in lower case, no trailing slash."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "(not a URL)"
    return urlunsplit((parts.scheme.lower(), host + port, parts.path.rstrip("/"), "", ""))


def account(base_url: str, api_key: str) -> tuple[dict[str, Any], bytes]:
    """What a saved plan records of the account it is made against, and the key sealing its fingerprints."""
    salt = secrets.token_bytes(16)
    check, seal_key = _keys(api_key, salt)
    return {"base_url": shown_base_url(base_url), "api_key": {"salt": salt.hex(), "check": check}}, seal_key


def valid_account(value: Any) -> bool:
    """Whether `value` is an `account` record as `account` writes it."""
    key = value.get("api_key") if isinstance(value, dict) else None
    return (isinstance(value, dict) and isinstance(value.get("base_url"), str) and isinstance(key, dict)
            and isinstance(key.get("salt"), str) and isinstance(key.get("check"), str))


def check_account(recorded: Mapping[str, Any], base_url: str, api_key: str, key_name: str, path: str) -> bytes:
    """Refuse (ConfigError, one line, before any request) to apply a plan against another base URL or
    with another API key than it was made with; otherwise the key that seals its fingerprints."""
    made, now = str(recorded["base_url"]), shown_base_url(base_url)
    if made != now:
        raise ConfigError(f"{path}: refusing to apply: the plan was made against {made}, not {now} (--base-url / "
                          f"TELNYX_BASE_URL): plan again against this account; nothing was changed")
    try:
        salt = bytes.fromhex(str(recorded["api_key"]["salt"]))
    except ValueError:
        raise ConfigError(f"{path}: malformed saved plan: the salt of the API key is not hexadecimal") from None
    check, seal_key = _keys(api_key, salt)
    if not hmac.compare_digest(check, str(recorded["api_key"]["check"])):
        raise ConfigError(f"{path}: refusing to apply: {key_name} is not the API key the plan was made with "
                          f"(another account's, or a new key): plan again with this key; nothing was changed")
    return seal_key


def seal(fingerprints: Mapping[str, str], key: bytes) -> dict[str, str]:
    """Each fingerprint as the file keeps it: keyed, so it says nothing without the key; over its name
    too, so that one object's seal cannot stand for another's. Any change of the fingerprint (of any
    field of the object, a secret one included) changes the seal."""
    return {name: _mac(key, f"{name}\n{value}")[:32] for name, value in fingerprints.items()}


def references(plan: Plan, live: LiveState) -> list[str]:
    """The ids of the live objects that what the plan sends names by id (in a body, a path or as a
    parent): a shared tool or MCP server, a test's assistant. A version's id stands for its assistant
    (whose versions' fingerprint covers it). Sorted, each once."""
    owner: dict[str, str] = {}
    for objects, id_field in ((live.assistants, "id"), (live.tools, "id"), (live.mcp_servers, "id"),
                              (live.tests, "test_id")):
        for obj in objects:
            owner[str(obj.get(id_field))] = str(obj.get(id_field))
    for assistant_id, versions in live.versions.items():
        for version in versions:
            owner.setdefault(str(version.get("version_id")), assistant_id)

    found: set[str] = set()
    for rc in plan.resource_changes:
        for op in rc.operations:
            for text in [*strings(op.body), *op.path.split("/"), *strings(op.parent)]:
                if text in owner:
                    found.add(owner[text])
    return sorted(found)
