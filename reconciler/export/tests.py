"""A live assistant test as an AssistantTest manifest spec (the pure part; exporter.py writes the file).

What the user owns only: no `test_id` or timestamps, no value equal to the API's declared default
(the channel `web_chat`), and on a web channel a `destination` that is a live assistant's id becomes
`assistant: NAME`, so the manifest reads by name and applies to another account as well.
"""

from __future__ import annotations

from typing import Any

from reconciler.export.schema import spec_keys, strip_spec
from reconciler.kinds import ASSISTANT_TEST, DEFAULT_TEST_CHANNEL, SERVER_FIELDS, TEST_ASSISTANT_CHANNELS

# Manifest-only keys, never read from the API object.
_MANIFEST_ONLY = ("assistant", "instructions_file")


def test_spec(obj: dict[str, Any], assistant_names: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The spec and the names of live fields that have no manifest form. `assistant_names` maps a live
    assistant id to the manifest name it is exported under."""
    allowed = spec_keys(ASSISTANT_TEST.kind) - set(_MANIFEST_ONLY)
    spec = {k: v for k, v in obj.items() if k in allowed and v is not None}
    unknown = sorted(k for k, v in obj.items() if k not in allowed and k not in _SERVER_FIELDS
                     and v not in (None, [], {}, ""))
    channel = obj.get("telnyx_conversation_channel") or DEFAULT_TEST_CHANNEL
    destination = spec.get("destination")
    if channel in TEST_ASSISTANT_CHANNELS and str(destination) in assistant_names:
        del spec["destination"]
        spec["assistant"] = assistant_names[str(destination)]
    out = strip_spec(ASSISTANT_TEST.kind, spec)
    # The API requires instructions and a rubric; a live test without them is written as it is,
    # and validate says what is missing.
    return dict(sorted(out.items())), unknown


_SERVER_FIELDS = SERVER_FIELDS[ASSISTANT_TEST.kind] | {ASSISTANT_TEST.name_field}
