"""What stops the Spark engine before it starts, each said in one line: no packages, no Java
or an old one, a malformed server address."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse import spark
from warehouse.errors import WarehouseError
from warehouse.settings import PROJECT_DIR, TELEMETRY_OFF, spark_settings


def fake_java(folder: Path, version_line: str) -> Path:
    """A `java` whose -version prints `version_line` to stderr, as the JDK's does."""
    java = folder / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(0o755)
    return java


@pytest.mark.parametrize(
    ("version_line", "version"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_402"', 8),
        ('openjdk version "11.0.22" 2024-01-16', 11),
    ],
)
def test_java_versions_read_as_their_feature_release(
    tmp_path: Path, version_line: str, version: int
) -> None:
    assert spark.java_version(str(fake_java(tmp_path, version_line))) == version


def test_an_old_java_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    java = fake_java(tmp_path / "jdk", 'openjdk version "11.0.22" 2024-01-16')
    monkeypatch.setenv("JAVA_HOME", str(java.parent.parent))
    with pytest.raises(WarehouseError) as raised:
        spark.check_java()
    assert str(raised.value) == f"Spark needs Java 17 or newer; {java} is Java 11"
    assert "WAREHOUSE_SPARK_REMOTE" in (raised.value.hint or "")


def test_no_java_is_said_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(WarehouseError) as raised:
        spark.check_java()
    assert str(raised.value) == "Spark needs Java 17 or newer and there is no java on the PATH"


def test_missing_packages_name_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spark, "_find_spec", lambda module: None)
    with pytest.raises(WarehouseError) as raised:
        spark.check_installed()
    assert str(raised.value) == "Spark's packages are not installed (pyspark, dbt-spark)"
    assert "uv sync --inexact --group spark" in (raised.value.hint or "")


def test_a_remote_must_be_a_spark_connect_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_SPARK_REMOTE", "http://cluster:15002")
    with pytest.raises(WarehouseError, match="is not a Spark Connect address"):
        spark_settings()
    monkeypatch.setenv("WAREHOUSE_SPARK_REMOTE", "sc://cluster:15002")
    assert spark_settings().remote == "sc://cluster:15002"


def test_build_without_java_stops_before_dbt(tmp_path: Path) -> None:
    """The CLI turns it into its one error line and exit code 1, and starts no dbt."""
    if spark._find_spec("pyspark") is None:
        pytest.skip("the spark dependency group is not installed (`make test` installs it)")
    environment = {
        **{key: value for key, value in os.environ.items() if key != "JAVA_HOME"},
        **TELEMETRY_OFF,
        "PATH": str(tmp_path),
        "COLUMNS": "200",
    }
    environment.pop("WAREHOUSE_SPARK_REMOTE", None)
    completed = subprocess.run(
        [sys.executable, "-m", "warehouse", "build", "--target", "spark"],
        cwd=PROJECT_DIR,
        env={**environment, "WAREHOUSE_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1
    lines = completed.stderr.strip().splitlines()
    assert lines[0] == "error: Spark needs Java 17 or newer and there is no java on the PATH"
    assert not (tmp_path / "dbt").exists()
