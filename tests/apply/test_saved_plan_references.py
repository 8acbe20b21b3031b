"""A saved plan whose bodies name a live object by id (a shared tool or MCP server no manifest declares,
the assistant an AssistantTest talks to) runs only against that very object: if it was replaced by
another of the same name since the plan was made (deleted, made again: a new id), or edited, the plan is
refused as stale before any write. Over loopback HTTP against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cli import main
from tests.support.emulator import Emulator
from tests.support.manifests import write
from tests.support.project import snapshot

Capsys = pytest.CaptureFixture[str]

BOT = """
apiVersion: reconciler/v1
kind: Assistant
metadata: {name: bot}
spec:
  instructions: Be helpful.
"""
TEST = """
apiVersion: reconciler/v1
kind: AssistantTest
metadata: {name: greets}
spec:
  assistant: theirs
  test_suite: smoke
  instructions: Say hello.
  rubric:
    - {name: Politeness, criteria: The assistant greets the user.}
"""


def _tool(url: str) -> dict[str, Any]:
    return {"type": "webhook", "display_name": "ext",
            "webhook": {"name": "ext", "description": "External", "url": url, "method": "GET"}}


def _server(url: str) -> dict[str, Any]:
    return {"name": "ext", "type": "http", "url": url}


def _assistant(instructions: str) -> dict[str, Any]:
    return {"name": "theirs", "model": "openai/gpt-4o", "instructions": instructions}


def _made(http: httpx.Client, path: str, body: dict[str, Any]) -> str:
    response = http.post(path, json=body)
    response.raise_for_status()
    data = response.json()
    return str(data.get("data", data)["id"])


# (what the manifest adds to `bot`, the live-only object's collection, its body then and after)
CASES = {
    "shared tool": ("  shared_tools: [ext]\n", "/ai/tools",
                    _tool("https://old.example.com/x"), _tool("https://new.example.com/x")),
    "mcp server": ("  mcp_servers: [{server: ext}]\n", "/ai/mcp_servers",
                   _server("https://old.example.com/mcp"), _server("https://new.example.com/mcp")),
}


def _saved(loopback: Emulator, tmp_path: Path, capsys: Capsys, addition: str, collection: str,
           body: dict[str, Any]) -> tuple[Path, str]:
    """`bot` applied, a live-only `ext` in `collection`, and the saved plan that attaches it to `bot`."""
    write(tmp_path, "m/bot.yaml", BOT)
    assert main(["apply", "--auto-approve", str(tmp_path / "m")]) == 0
    with loopback.api() as http:
        old = _made(http, collection, body)
    write(tmp_path, "m/bot.yaml", BOT + addition)
    saved = tmp_path / "plan.json"
    assert main(["plan", "--out", str(saved), str(tmp_path / "m")]) == 0
    capsys.readouterr()
    return saved, old


def _refused(loopback: Emulator, saved: Path, capsys: Capsys, old: str) -> None:
    before = snapshot(loopback.app)
    assert main(["apply", "--auto-approve", str(saved)]) == 1
    out, err = capsys.readouterr()
    assert "the plan is stale" in err and old in err, err
    assert "Apply complete" not in out
    assert snapshot(loopback.app) == before


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_referenced_object_replaced_by_a_same_named_one_makes_the_plan_stale(
        loopback: Emulator, tmp_path: Path, capsys: Capsys, case: str) -> None:
    addition, collection, then, after = CASES[case]
    saved, old = _saved(loopback, tmp_path, capsys, addition, collection, then)
    with loopback.api() as http:
        http.delete(f"{collection}/{old}").raise_for_status()
        assert _made(http, collection, after) != old
    _refused(loopback, saved, capsys, old)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_referenced_object_edited_in_place_makes_the_plan_stale(
        loopback: Emulator, tmp_path: Path, capsys: Capsys, case: str) -> None:
    addition, collection, then, after = CASES[case]
    saved, old = _saved(loopback, tmp_path, capsys, addition, collection, then)
    with loopback.api() as http:
        # The verb each collection edits with (tools PATCH, MCP servers PUT).
        verb = "PATCH" if collection == "/ai/tools" else "PUT"
        http.request(verb, f"{collection}/{old}", json=after).raise_for_status()
    _refused(loopback, saved, capsys, old)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_plan_whose_referenced_object_is_unchanged_applies(
        loopback: Emulator, tmp_path: Path, capsys: Capsys, case: str) -> None:
    addition, collection, then, _ = CASES[case]
    saved, old = _saved(loopback, tmp_path, capsys, addition, collection, then)
    assert main(["apply", "--auto-approve", str(saved)]) == 0
    assert "Apply complete!" in capsys.readouterr().out
    with loopback.api() as http:
        (bot,) = [a for a in http.get("/ai/assistants").json()["data"] if a["name"] == "bot"]
    attached = bot.get("tool_ids") if collection == "/ai/tools" else [m["id"] for m in bot["mcp_servers"]]
    assert attached == [old]


def test_a_test_whose_assistant_was_replaced_by_a_same_named_one_is_stale(
        loopback: Emulator, tmp_path: Path, capsys: Capsys) -> None:
    with loopback.api() as http:
        old = _made(http, "/ai/assistants", _assistant("The first one."))
    write(tmp_path, "m/test.yaml", TEST)
    saved = tmp_path / "plan.json"
    assert main(["plan", "--out", str(saved), str(tmp_path / "m")]) == 0
    capsys.readouterr()
    with loopback.api() as http:
        http.delete(f"/ai/assistants/{old}").raise_for_status()
        assert _made(http, "/ai/assistants", _assistant("Another one.")) != old
    _refused(loopback, saved, capsys, old)
    assert not loopback.app.state.tests


def test_a_re_made_plan_whose_bodies_name_other_objects_than_the_file_records_is_stale(
        loopback: Emulator, tmp_path: Path, capsys: Capsys) -> None:
    """The re-made plan's references are compared too: a file that records none (edited by hand, or
    written by a buggy tool) checks no tool, and must not run bodies that name one."""
    import json

    addition, collection, then, _ = CASES["shared tool"]
    saved, old = _saved(loopback, tmp_path, capsys, addition, collection, then)
    data = json.loads(saved.read_text())
    assert data["references"] == sorted({old, *(rc["id"] for rc in data["plan"]["resource_changes"])})
    data["references"] = []
    saved.write_text(json.dumps(data))
    before = snapshot(loopback.app)
    assert main(["apply", "--auto-approve", str(saved)]) == 1
    err = capsys.readouterr().err
    assert "the plan is stale" in err and "names other live objects" in err, err
    assert snapshot(loopback.app) == before
