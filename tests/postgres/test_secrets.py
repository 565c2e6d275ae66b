"""No secret in the repository, in dbt's logs and artefacts, or in what the loaders report."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import pytest
from detect_secrets import SecretsCollection
from detect_secrets.core import baseline
from detect_secrets.settings import transient_settings

from loaders import load
from simulator.api_server import ApiServer
from tests.conftest import PostgresBuild
from warehouse.dbt import DBT_ENTRY_POINT, dbt_environment
from warehouse.settings import PROJECT_DIR, resolve_paths

BASELINE = PROJECT_DIR / ".secrets.baseline"


def repository_files() -> list[str]:
    """Tracked files and new files not ignored: what the next commit could contain."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(
        name
        for name in listed.split("\0")
        if name and name != BASELINE.name and (PROJECT_DIR / name).is_file()
    )


def test_no_unreviewed_secret_in_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """After reviewing a finding, regenerate the baseline (and mark findings is_secret false):

    git ls-files -z --cached --others --exclude-standard \
        | xargs -0 .venv/bin/detect-secrets scan --exclude-files '^uv\\.lock$' > .secrets.baseline
    """
    monkeypatch.chdir(PROJECT_DIR)
    reviewed = baseline.load(baseline.load_from_file(str(BASELINE)), str(BASELINE))
    known = {(name, secret.secret_hash) for name, secret in reviewed}
    with transient_settings(baseline.load_from_file(str(BASELINE))):
        found = SecretsCollection()
        found.scan_files(*repository_files())
    new = sorted(
        f"{name}:{secret.line_number} {secret.type}"
        for name, secret in found
        if (name, secret.secret_hash) not in known
    )
    assert new == [], "possible secrets not in .secrets.baseline: " + "; ".join(new)
    assert all(not secret.is_secret for _, secret in reviewed), "a reviewed finding is a secret"


def test_dbt_masks_secret_environment_variables(tmp_path: Path) -> None:
    """A DBT_ENV_SECRET_ value dbt would print (here also the user name) shows as *****."""
    secret = f"lk{secrets.token_hex(12)}"
    paths = resolve_paths(tmp_path, tmp_path / "unused.duckdb")
    environment = {
        **dbt_environment(paths),
        "WAREHOUSE_PG_USER": secret,
        "WAREHOUSE_PG_PORT": "1",
        "DBT_ENV_SECRET_WAREHOUSE_PG_PASSWORD": secret,
    }
    # `dbt debug` prints the profile it uses, user name included, and takes no --target-path
    command = [
        *DBT_ENTRY_POINT,
        "debug",
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--log-path",
        str(paths.dbt_log_dir),
        "--target",
        "postgres",
    ]
    completed = subprocess.run(
        command,
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    output = completed.stdout + completed.stderr
    log = (paths.dbt_log_dir / "dbt.log").read_text()
    assert "user: *****" in output
    assert secret not in output
    assert secret not in log


@pytest.mark.postgres
def test_postgres_build_logs_no_password(postgres_build: PostgresBuild) -> None:
    password = postgres_build.passwords["transformer"]
    dbt_folder = postgres_build.paths.dbt_target_dir.parent
    log = dbt_folder / "logs" / "dbt.log"
    assert "ods_customers" in log.read_text()
    files = [path for path in dbt_folder.rglob("*") if path.is_file()]
    assert [str(path) for path in files if password.encode() in path.read_bytes()] == []


@pytest.mark.postgres
def test_loader_report_and_log_hold_no_credentials(postgres_build: PostgresBuild) -> None:
    password = postgres_build.passwords["loader"]
    assert postgres_build.load_report.ok
    assert password not in postgres_build.load_log
    assert password not in repr(postgres_build.load_report)


@pytest.mark.postgres
def test_failed_load_names_no_password(
    postgres_build: PostgresBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials for a server that is not there: the error names the server, not the password."""
    password = secrets.token_urlsafe(18)
    monkeypatch.setenv(
        "DESTINATION__POSTGRES__CREDENTIALS",
        f"postgresql://{postgres_build.warehouse.roles.loader}:{password}@127.0.0.1:1/nowhere",
    )
    with ApiServer(postgres_build.paths.data_dir, port=0) as server:
        monkeypatch.setenv("SOURCES__FX__BASE_URL", f"{server.base_url}/fx/v1")
        monkeypatch.setenv("SOURCES__FX__TOKEN", "demo-token")
        report = load(["fx"], data_dir=tmp_path, destination="postgres")
    assert not report.ok
    error = report.result("fx").error or ""
    assert error
    assert password not in error
    assert password not in repr(report)
