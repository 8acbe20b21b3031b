"""Environments as a new user meets them (QA of issue #12): mistakes that must be reported where they
are, overlays that follow the version-overlay rules, variables in instructions files. Real files in
tmp_path; no network (validate and load read files only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.errors import ConfigError, ManifestError
from reconciler.manifest import load
from tests.environments.test_env_variables import BOT as SHOP_BOT
from tests.environments.test_env_variables import PROJECT as SHOP_PROJECT
from tests.support.manifests import write

# The project of test_env_variables: `limit` (900) in every environment, `pct` and `greeting` in each.
PROJECT, BOT = SHOP_PROJECT, SHOP_BOT


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def line_col(path: Path, needle: str) -> str:
    """`FILE:LINE:COL` of the first occurrence of `needle` in `path`."""
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if needle in text:
            return f"{path}:{number}:{text.index(needle) + 1}"
    raise AssertionError(f"{needle!r} not in {path}")


def test_env_with_a_broken_project_reports_the_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The Project cannot be read, so --env cannot be checked against it: the user must see why (the
    # syntax error at its line), not "the manifests declare no environments".
    write(tmp_path, "project.yaml", PROJECT.replace("metadata: {name: shop}", "metadata: {name: shop"))
    write(tmp_path, "bot.yaml", BOT)
    for command in ("validate", "plan"):
        code, _, err = run(capsys, command, "--env", "staging", str(tmp_path))
        assert code == 1
        assert f"{tmp_path / 'project.yaml'}:" in err and "YAML syntax error" in err, err
        assert "declare no environments" not in err
    code, _, err = run(capsys, "validate", "--env", "staging", str(tmp_path / "missing"))
    assert code == 1 and "no such file or folder" in err and "declare no environments" not in err


@pytest.mark.parametrize(("main_spec", "overlay", "expected"), [
    ("instructions_file: prompts/main.md", "instructions: Production prompt.", "Production prompt."),
    ("instructions: Main prompt.", "instructions_file: prompts/production.md", "From the production file.\n"),
])
def test_an_environment_overlay_replaces_the_instructions_in_either_form(
    tmp_path: Path, main_spec: str, overlay: str, expected: str
) -> None:
    # As in a version overlay: the overlay's instructions, inline or from a file, replace the main ones.
    write(tmp_path, "project.yaml", PROJECT)
    write(tmp_path, "prompts/main.md", "From the main file.\n")
    write(tmp_path, "prompts/production.md", "From the production file.\n")
    bot = BOT.replace("instructions: Help.", main_spec) + f"overlays:\n  production:\n    {overlay}\n"
    write(tmp_path, "bot.yaml", bot)
    assert load([str(tmp_path)], environment="production").resources[0].spec["instructions"] == expected
    staging = load([str(tmp_path)], environment="staging").resources[0].spec["instructions"]
    assert staging == ("From the main file.\n" if "file" in main_spec else "Main prompt.")


def test_var_references_in_the_project_are_errors_where_they_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The Project is never substituted: a reference there (its name, a variable using another) would
    # reach the API, or an owner tag, as the literal text `${var:…}`.
    project = PROJECT.replace("{name: shop}", '{name: "shop-${var:limit}"}').replace(
        "limit: 900", "limit: 900\n        hook: ${var:limit}/hook")
    path = write(tmp_path, "project.yaml", project)
    write(tmp_path, "bot.yaml", BOT)
    code, _, err = run(capsys, "validate", str(tmp_path))
    assert code == 1
    name_at = line_col(path, '"shop-')
    assert f"{name_at}: metadata.name: " in err
    assert f"{line_col(path, '${var:limit}/hook')}: spec.variables.hook: " in err
    assert err.count("the Project is not substituted") == 2, err


def test_an_overlay_for_an_environment_the_resource_is_not_in_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "project.yaml", PROJECT)
    bot = BOT.replace("metadata: {name: bot}", "metadata: {name: bot, environments: [staging]}")
    path = write(tmp_path, "bot.yaml", bot + "overlays:\n  production:\n    greeting: Hi\n")
    code, _, err = run(capsys, "validate", str(tmp_path))
    assert code == 1
    assert f"{line_col(path, 'production:')}: overlays: production: this resource is not part of environment " \
           "production (metadata.environments: staging)" in err, err


def test_var_references_in_an_instructions_file_are_substituted_as_text(tmp_path: Path) -> None:
    # The file counts as if written inline: `${var:…}` works in it as inside a longer string.
    write(tmp_path, "project.yaml", PROJECT)
    write(tmp_path, "prompts/bot.md", "Calls end after ${var:limit} seconds.\n")
    write(tmp_path, "bot.yaml", BOT.replace("instructions: Help.", "instructions_file: prompts/bot.md"))
    spec = load([str(tmp_path)], environment="staging").resources[0].spec
    assert spec["instructions"] == "Calls end after 900 seconds.\n"
    write(tmp_path, "prompts/bot.md", "Ask ${var:limt}.\n")
    with pytest.raises(ManifestError) as caught:
        load([str(tmp_path)], environment="staging")
    assert "unknown variable limt" in str(caught.value) and "did you mean 'limit'" in str(caught.value)
    assert str(caught.value).count("bot.yaml:") == 1


@pytest.mark.parametrize(("given", "meant"), [("prod", "production"), ("stagin", "staging")])
def test_an_unknown_env_suggests_the_one_it_abbreviates(tmp_path: Path, given: str, meant: str) -> None:
    write(tmp_path, "project.yaml", PROJECT)
    with pytest.raises(ConfigError, match=f"--env {given}: no such environment; .*did you mean '{meant}'"):
        load([str(tmp_path)], environment=given)
