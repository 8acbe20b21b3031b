"""Issue #12 over real loopback HTTP: one folder of manifests (examples/environments), two environments,
each bound to its own emulator (its own account, its own key)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from reconciler.api.endpoints import tool_spec
from reconciler.cli import main
from reconciler.emulator.app import EmulatorApp
from tests.support.emulator import Emulator, serve
from tests.support.paths import REPO

EXAMPLE = REPO / "examples" / "environments"
PLAN_SCHEMA = json.loads((REPO / "reconciler" / "schemas" / "plan.schema.json").read_text())
KEYS = {"staging": "staging-account-key", "production": "production-account-key"}
WRITES = ("POST ", "PATCH ", "PUT ", "DELETE ")


@dataclass
class Accounts:
    """The project folder and one emulator (account) per environment."""

    folder: Path
    emulators: dict[str, Emulator]

    def http(self, env: str) -> httpx.Client:
        return httpx.Client(base_url=self.emulators[env].base_url, timeout=10,
                            headers={"Authorization": f"Bearer {KEYS[env]}"})

    def assistants(self, env: str) -> dict[str, dict[str, Any]]:
        with self.http(env) as http:
            return {a["name"]: a for a in http.get("/ai/assistants").json()["data"]}

    def tools(self, env: str) -> dict[str, dict[str, Any]]:
        with self.http(env) as http:
            return {t["display_name"]: t for t in http.get("/ai/tools").json()["data"]}

    def canary(self, env: str, assistant_id: str) -> httpx.Response:
        with self.http(env) as http:
            return http.get(f"/ai/assistants/{assistant_id}/canary-deploys")

    def writes(self, env: str) -> int:
        routes: dict[str, int] = self.emulators[env].stats()["by_route"]
        return sum(n for route, n in routes.items() if route.startswith(WRITES))

    def assistant_reads(self, env: str) -> int:
        """Versions and canary reads: what a plan reads after the assistant listing."""
        routes: dict[str, int] = self.emulators[env].stats()["by_route"]
        return sum(n for route, n in routes.items()
                   if route.startswith("GET ") and route.endswith(("/versions", "/canary-deploys")))


@pytest.fixture
def accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Accounts]:
    """examples/environments copied to tmp_path, each environment's base_url pointing at its own
    emulator, which accepts that environment's key only."""
    folder = tmp_path / "project"
    shutil.copytree(EXAMPLE, folder)
    monkeypatch.delenv("TELNYX_API_KEY", raising=False)
    monkeypatch.delenv("TELNYX_BASE_URL", raising=False)
    monkeypatch.delenv("GITHUB_SHA", raising=False)
    with serve(EmulatorApp(api_key=KEYS["staging"])) as staging, \
            serve(EmulatorApp(api_key=KEYS["production"])) as production:
        project = (folder / "project.yaml").read_text()
        for env, emu in (("staging", staging), ("production", production)):
            key_line = f"api_key_env: TELNYX_API_KEY_{env.upper()}"
            assert key_line in project
            project = project.replace(key_line, f"{key_line}\n      base_url: {emu.base_url}")
            monkeypatch.setenv(f"TELNYX_API_KEY_{env.upper()}", KEYS[env])
        (folder / "project.yaml").write_text(project)
        yield Accounts(folder, {"staging": staging, "production": production})


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def plan_json(capsys: pytest.CaptureFixture[str], folder: Path, env: str, *extra: str) -> dict[str, Any]:
    code, out, err = run(capsys, "plan", "--format", "json", "--env", env, str(folder), *extra)
    assert code == 0, err
    doc: dict[str, Any] = json.loads(out)
    jsonschema.validate(doc, PLAN_SCHEMA)
    return doc


def test_one_folder_two_environments_each_applied_to_its_own_account(
    accounts: Accounts, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(accounts.folder)
    code, out, err = run(capsys, "validate", folder)
    assert code == 0, err
    assert "for environment staging" in out and "for environment production" in out

    for env in ("staging", "production"):
        doc = plan_json(capsys, accounts.folder, env)
        assert (doc["project"], doc["environment"]) == ("acme-support", env)
        assert run(capsys, "apply", "--auto-approve", "--env", env, folder)[0] == 0
    for env in ("staging", "production"):
        code, out, err = run(capsys, "plan", "--detailed-exitcode", "--env", env, folder)
        assert code == 0, out + err
        assert f"environment {env}" in out and "No changes." in out

    staging, production = accounts.assistants("staging"), accounts.assistants("production")
    # A resource declared for staging only exists there.
    assert set(staging) == {"acme-support", "acme-qa"} and set(production) == {"acme-support"}
    # The staging-only canary (an overlay) exists in staging alone, at the variable's percentage.
    canary = accounts.canary("staging", staging["acme-support"]["id"])
    assert canary.status_code == 200, canary.text
    assert "25" in canary.text
    assert accounts.canary("production", production["acme-support"]["id"]).status_code == 404
    # The shared tool's URL differs as declared (a variable inside a longer string).
    urls = {env: tool_spec(accounts.tools(env)["order-lookup"])["webhook"]["url"] for env in ("staging", "production")}
    assert urls == {"staging": "https://staging-api.example.com/orders/{order_id}",
                    "production": "https://api.example.com/orders/{order_id}"}
    # Typed variables arrive typed; each environment marks what it owns with its own tag.
    assert staging["acme-support"]["telephony_settings"]["time_limit_secs"] == 600
    assert production["acme-support"]["telephony_settings"]["time_limit_secs"] == 1200
    assert "managed-by:reconciler/acme-support/staging" in staging["acme-support"]["tags"]
    assert "managed-by:reconciler/acme-support/production" in production["acme-support"]["tags"]
    assert production["acme-support"]["voice_settings"]["voice_speed"] == 1.0


def test_staging_with_the_production_url_and_key_is_refused_before_any_write(
    accounts: Accounts, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = str(accounts.folder)
    assert run(capsys, "apply", "--auto-approve", "--env", "production", folder)[0] == 0
    before, reads_before = accounts.writes("production"), accounts.assistant_reads("production")
    monkeypatch.setenv("TELNYX_API_KEY_STAGING", KEYS["production"])
    prod_url = accounts.emulators["production"].base_url
    for argv in (("plan",), ("apply", "--auto-approve"), ("apply", "--auto-approve", "--prune")):
        code, out, err = run(capsys, *argv, "--env", "staging", "--base-url", prod_url, folder)
        assert code == 1, out
        assert "refusing to plan environment staging" in err and "environment production" in err
        assert "production-account-key" not in out + err
    assert accounts.writes("production") == before
    # Staging declares a version and a canary of acme-support, which production holds: read, but for
    # the refusal at the assistant listing.
    assert accounts.assistant_reads("production") == reads_before
    assert set(accounts.assistants("production")) == {"acme-support"}


def test_prune_in_production_never_touches_staging(accounts: Accounts, capsys: pytest.CaptureFixture[str]) -> None:
    folder = str(accounts.folder)
    for env in ("staging", "production"):
        assert run(capsys, "apply", "--auto-approve", "--env", env, folder)[0] == 0
    (accounts.folder / "qa-assistant.yaml").unlink()  # the staging-only assistant leaves the manifests
    staging_writes = accounts.writes("staging")
    doc = plan_json(capsys, accounts.folder, "production", "--prune")
    assert doc["summary"] == {"add": 0, "change": 0, "destroy": 0}
    assert run(capsys, "apply", "--auto-approve", "--prune", "--env", "production", folder)[0] == 0
    assert accounts.writes("staging") == staging_writes
    assert set(accounts.assistants("staging")) == {"acme-support", "acme-qa"}
    # In staging itself, the same prune deletes it (and nothing in production).
    production_writes = accounts.writes("production")
    doc = plan_json(capsys, accounts.folder, "staging", "--prune")
    assert [rc["address"] for rc in doc["resource_changes"] if rc["actions"] == ["delete"]] == ["assistant.acme-qa"]
    assert run(capsys, "apply", "--auto-approve", "--prune", "--env", "staging", folder)[0] == 0
    assert set(accounts.assistants("staging")) == {"acme-support"}
    assert accounts.writes("production") == production_writes


def test_a_saved_plan_runs_in_its_own_environment_only(
    accounts: Accounts, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    saved = tmp_path / "staging.plan"
    code, _, err = run(capsys, "plan", "--env", "staging", "--out", str(saved), str(accounts.folder))
    assert code == 0, err
    code, _, err = run(capsys, "apply", "--auto-approve", "--env", "production", str(saved))
    assert code == 1 and "made for environment staging" in err
    assert accounts.writes("production") == 0 and accounts.writes("staging") == 0
    # Without --env it runs where it was made for: staging's account, with staging's key.
    code, out, err = run(capsys, "apply", "--auto-approve", str(saved))
    assert code == 0, out + err
    assert "environment staging" in out
    assert set(accounts.assistants("staging")) == {"acme-support", "acme-qa"}
    assert accounts.writes("production") == 0


def test_every_view_names_project_environment_and_commit(
    accounts: Accounts, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    folder = str(accounts.folder)
    doc = plan_json(capsys, accounts.folder, "production")
    assert doc["commit"] == "0123456789abcdef0123456789abcdef01234567"
    _, text, _ = run(capsys, "plan", "--env", "staging", folder)
    assert text.startswith("Plan for project acme-support, environment staging, commit 0123456789ab.")
    comments = {}
    for env in ("staging", "production"):
        code, md, _ = run(capsys, "plan", "--format", "markdown", "--env", env, folder)
        assert code == 0
        comments[env] = md
        header = md.splitlines()[0]
        assert header.startswith("### Plan: ") and f"environment `{env}`" in header
        assert "project `acme-support`" in header and "commit `0123456789ab`" in header
        assert f"<!-- reconciler-plan project=acme-support environment={env} -->" in md
    assert comments["staging"].splitlines()[0] != comments["production"].splitlines()[0]


def test_export_of_one_environment_reads_its_account(
    accounts: Accounts, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = str(accounts.folder)
    assert run(capsys, "apply", "--auto-approve", "--env", "staging", folder)[0] == 0
    out_dir = tmp_path / "exported"
    code, _, err = run(capsys, "export", "--env", "staging", "--manifests", folder, "--out", str(out_dir))
    assert code == 0, err
    text = "".join(p.read_text() for p in out_dir.rglob("*.yaml"))
    assert "acme-qa" in text and "staging-api.example.com" in text
    assert "managed-by:reconciler/acme-support/staging" not in text  # the environment's own mark is implied
    code, _, err = run(capsys, "export", "--env", "staging", "--out", str(out_dir))
    assert code == 1 and "--manifests" in err
    # Production's export pointed at staging's account (its URL, its key) writes nothing.
    wrong = tmp_path / "wrong"
    monkeypatch.setenv("TELNYX_API_KEY_PRODUCTION", KEYS["staging"])
    code, _, err = run(capsys, "export", "--env", "production", "--manifests", folder, "--out", str(wrong),
                       "--base-url", accounts.emulators["staging"].base_url)
    assert code == 1 and "environment staging" in err and not wrong.exists()
    assert err.startswith("error: refusing to export environment production"), err


def test_an_exported_environment_plans_clean_with_its_project(
    accounts: Accounts, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The export leaves the environment's owner tag out, so it is planned with the Project (for --env).
    folder = str(accounts.folder)
    for env in ("staging", "production"):
        assert run(capsys, "apply", "--auto-approve", "--env", env, folder)[0] == 0
        out_dir = tmp_path / f"exported-{env}"
        assert run(capsys, "export", "--env", env, "--manifests", folder, "--out", str(out_dir))[0] == 0
        code, out, err = run(capsys, "plan", "--detailed-exitcode", "--env", env, str(out_dir),
                             str(accounts.folder / "project.yaml"))
        assert code == 0, out + err


def test_reconciler_test_runs_for_one_environment_and_refuses_another_account(
    accounts: Accounts, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = str(accounts.folder)
    assert run(capsys, "apply", "--auto-approve", "--env", "production", folder)[0] == 0
    # Its own account (key from TELNYX_API_KEY_STAGING, its base_url; TELNYX_API_KEY is unset): the
    # suite is looked up there.
    code, _, err = run(capsys, "test", "--env", "staging", "--suite", "smoke", folder)
    assert code == 1 and "suite smoke: no test in the account belongs to it" in err, err
    code, _, err = run(capsys, "test", "--suite", "smoke", folder)
    assert code == 1 and "choose one with --env NAME" in err
    code, _, err = run(capsys, "test", "--env", "staging", "--suite", "smoke")
    assert code == 1 and "needs PATH" in err
    # Staging's tests with production's key and URL: refused before any test run is started.
    monkeypatch.setenv("TELNYX_API_KEY_STAGING", KEYS["production"])
    before = accounts.writes("production")
    code, _, err = run(capsys, "test", "--env", "staging", "--suite", "smoke", folder,
                       "--base-url", accounts.emulators["production"].base_url)
    assert code == 1 and err.startswith("error: refusing to test environment staging"), err
    assert accounts.writes("production") == before
