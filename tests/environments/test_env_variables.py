"""Typed variables, overlays and environment selection, as `validate` and `plan` see them (real files
in tmp_path; the plan against the real emulator over loopback HTTP)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.errors import ConfigError
from reconciler.manifest import load
from tests.support.emulator import Emulator
from tests.support.manifests import write

PROJECT = """
    apiVersion: reconciler/v1
    kind: Project
    metadata: {name: shop}
    spec:
      variables:
        limit: 900
      environments:
        staging:
          variables:
            pct: 10
            pct_text: "10"
            greeting: Hello from staging
            tags: [beta]
            settings: {user_idle_timeout_secs: 30}
        production:
          variables:
            pct: 5
            greeting: Hello
            tags: [stable]
            settings: {user_idle_timeout_secs: 60}
    """

BOT = textwrap.dedent("""
    apiVersion: reconciler/v1
    kind: Assistant
    metadata: {name: bot}
    spec:
      model: openai/gpt-4o
      instructions: Help.
      greeting: "${var:greeting}, caller"
      tags: ${var:tags}
      telephony_settings:
        time_limit_secs: ${var:limit}
      versions:
        - name: v2
          spec: {greeting: Hi}
      canary:
        - version: v2
          percentage: ${var:pct}
    """)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def project(tmp_path: Path, bot: str = BOT) -> Path:
    write(tmp_path, "project.yaml", PROJECT)
    write(tmp_path, "bot.yaml", bot)
    return tmp_path


def test_whole_value_variables_keep_their_type(tmp_path: Path) -> None:
    folder = project(tmp_path)
    staging = load([str(folder)], environment="staging")
    bot = staging.resources[0]
    assert bot.spec["telephony_settings"]["time_limit_secs"] == 900
    assert isinstance(bot.spec["telephony_settings"]["time_limit_secs"], int)
    assert bot.canary is not None and bot.canary[0]["serve"]["rollout"][0]["weight"] == 10
    assert bot.spec["greeting"] == "Hello from staging, caller"  # inside a string: as text
    assert bot.spec["tags"] == ["beta"]
    production = load([str(folder)], environment="production")
    assert production.resources[0].spec["tags"] == ["stable"]
    assert production.project.owner_tag == "managed-by:reconciler/shop/production"
    assert production.project.environment == "production"


def test_typed_variables_plan_as_numbers_not_secrets(
    emulator: Emulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = str(project(tmp_path))
    code, out, err = run(capsys, "plan", "--format", "json", "--env", "staging", folder)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    changes = {(rc["address"], c["path"]): c["after"] for rc in doc["resource_changes"] for c in rc["changes"]}
    assert changes[("assistant.bot", "telephony_settings")] == {"time_limit_secs": 900}
    assert changes[("assistant.bot.canary", "rules[0]")] == {"serve": {"rollout": [{"version": "v2", "weight": 10}]}}
    assert changes[("assistant.bot", "greeting")] == "Hello from staging, caller"  # a value, not "(sensitive)"
    assert "(sensitive)" not in out
    code, text, _ = run(capsys, "plan", "--env", "staging", folder)
    assert '"time_limit_secs": 900' in text and '"weight": 10' in text


def test_a_string_variable_in_a_number_field_is_an_error_at_the_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = project(tmp_path, BOT.replace("${var:pct}", "${var:pct_text}"))
    code, _, err = run(capsys, "validate", "--env", "staging", str(folder))
    assert code == 1
    line = next(i for i, text in enumerate((folder / "bot.yaml").read_text().splitlines(), 1) if "pct_text" in text)
    assert f"bot.yaml:{line}:" in err and "number" in err


def test_an_unknown_variable_is_an_error_at_file_line_col(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path, BOT.replace("${var:limit}", "${var:limt}"))
    code, _, err = run(capsys, "validate", str(folder))
    assert code == 1
    first = err.splitlines()[0]
    lines = (folder / "bot.yaml").read_text().splitlines()
    line, col = next((i, text.index("${var:limt}") + 1) for i, text in enumerate(lines, 1) if "limt" in text)
    assert first.startswith(f"{folder / 'bot.yaml'}:{line}:{col}: unknown variable limt"), err
    assert "did you mean 'limit'" in first
    # Found in both environments, reported once, without naming one.
    assert err.count("unknown variable limt") == 1 and "(environment" not in first


def test_validate_checks_every_environment_and_says_which_one_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `pct_text` is defined in staging only: production cannot resolve it.
    folder = project(tmp_path, BOT.replace('"${var:greeting}, caller"', '"${var:pct_text}"'))
    code, _, err = run(capsys, "validate", str(folder))
    assert code == 1
    assert "unknown variable pct_text" in err and "(environment production)" in err
    assert "(environment staging)" not in err
    code, out, _ = run(capsys, "validate", "--env", "staging", str(folder))
    assert code == 0 and "for environment staging" in out


def test_inline_list_and_unknown_environment_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bot = BOT.replace('"${var:greeting}, caller"', '"tags: ${var:tags}"').replace(
        "metadata: {name: bot}", "metadata: {name: bot, environments: [staging, stagin]}")
    folder = project(tmp_path, bot)
    code, _, err = run(capsys, "validate", str(folder))
    assert code == 1
    assert "variable tags is a list" in err
    assert "unknown environment 'stagin'" in err and "did you mean 'staging'" in err


def test_overlay_problems_point_into_the_overlay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bot = BOT + "overlays:\n  production:\n    telephony_settings:\n      time_limit_secs: forever\n"
    folder = project(tmp_path, bot)
    code, _, err = run(capsys, "validate", str(folder))
    assert code == 1
    lines = (folder / "bot.yaml").read_text().splitlines()
    assert f"bot.yaml:{len(lines)}:{lines[-1].index('forever') + 1}:" in err and "(environment production)" in err


def test_environment_selection_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = project(tmp_path)
    with pytest.raises(ConfigError, match="choose one with --env"):
        load([str(folder)])
    with pytest.raises(ConfigError, match="did you mean 'staging'"):
        load([str(folder)], environment="stagging")
    code, _, err = run(capsys, "plan", str(folder))
    assert code == 1 and "choose one with --env NAME" in err
    single = tmp_path / "single"
    write(single, "bot.yaml", BOT.replace("${var:", "x{var:"))
    with pytest.raises(ConfigError, match="declare no environments"):
        load([str(single)], environment="staging")


def test_a_project_without_environments_may_use_project_variables(tmp_path: Path) -> None:
    write(tmp_path, "project.yaml", """
        apiVersion: reconciler/v1
        kind: Project
        metadata: {name: solo}
        spec:
          variables: {limit: 300}
        """)
    limit = '  telephony_settings: {time_limit_secs: "${var:limit}"}\n'
    write(tmp_path, "bot.yaml", BOT.split("  greeting:")[0] + limit)
    state = load([str(tmp_path)])  # quoted (YAML's flow style needs it), and still an integer
    assert state.resources[0].spec["telephony_settings"]["time_limit_secs"] == 300
    assert state.project.owner_tag == "managed-by:reconciler" and state.project.environment is None


def test_owner_tags_per_environment_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = textwrap.dedent(PROJECT).replace("  environments:\n", "  owner_tag: mine\n  environments:\n").replace(
        "    production:\n", "    production:\n      owner_tag: managed-by:reconciler/shop/staging\n")
    write(tmp_path, "project.yaml", text)
    write(tmp_path, "bot.yaml", BOT)
    code, _, err = run(capsys, "validate", str(tmp_path))
    assert code == 1
    assert "with environments, each environment has its own owner tag" in err
    assert "owner tag 'managed-by:reconciler/shop/staging' is also staging's" in err


def test_an_environment_keeps_the_tag_its_assistants_already_carry(tmp_path: Path) -> None:
    # Moving a single-environment project to environments: production keeps the plain tag, and
    # staging recognises production's account by it.
    write(tmp_path, "project.yaml", textwrap.dedent(PROJECT).replace(
        "    production:\n", "    production:\n      owner_tag: managed-by:reconciler\n"))
    write(tmp_path, "bot.yaml", BOT)
    staging = load([str(tmp_path)], environment="staging").project
    assert staging.owner_tag == "managed-by:reconciler/shop/staging"
    assert staging.foreign_marks() == {"managed-by:reconciler": "production"}
    assert load([str(tmp_path)], environment="production").project.owner_tag == "managed-by:reconciler"
