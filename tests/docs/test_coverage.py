"""dbt-score and dbt-coverage over the session's demo warehouse, with the thresholds of the repo.

dbt-score's thresholds and rules live in pyproject.toml (`[tool.dbt-score]`), where the tool
itself reads them; dbt-coverage has no configuration file, so its thresholds are the constants
below. Both read the manifest.json and catalog.json that `warehouse demo` (the session fixture
`built_warehouse`) generates for its docs site.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BuiltWarehouse
from warehouse.docs_site import docs_target_dir
from warehouse.settings import PROJECT_DIR

pytestmark = pytest.mark.e2e

# Every column of every source table, seed, snapshot and model that the warehouse built has a
# description: the docs site is how stakeholders learn what a column means.
MIN_DOC_COVERAGE = 1.0
# Every model has at least one data test of its own (declared in its YAML): a model nothing
# tests can break without any build noticing.
MIN_SHARE_OF_MODELS_TESTED = 1.0
# Share of the models' columns with at least one data test. A ratchet, not a goal of 100%:
# keys, foreign keys, codes and amounts are tested; free text and most measures have no generic
# test that would say anything. The floor is the coverage last measured (259 of 779 columns,
# 33.2%, after not_null and range tests on the facts' dates, codes and amounts), rounded down;
# raise it when tests are added, never lower it.
MIN_COLUMN_TEST_COVERAGE = 0.33

PACKAGE = "larkspur"
DBT_COVERAGE = Path(sys.executable).with_name("dbt-coverage")


@pytest.fixture(scope="module")
def artefacts_dir(built_warehouse: BuiltWarehouse) -> Path:
    """The folder holding the demo warehouse's manifest.json and catalog.json."""
    if built_warehouse.returncode != 0:
        pytest.fail(f"the demo build failed:\n{built_warehouse.output[-2000:]}")
    return docs_target_dir(built_warehouse.paths)


@pytest.fixture(scope="module")
def manifest(artefacts_dir: Path) -> dict[str, Any]:
    return json.loads((artefacts_dir / "manifest.json").read_text(encoding="utf-8"))


def project_models(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == PACKAGE
    }


def dbt_score_settings() -> dict[str, Any]:
    with (PROJECT_DIR / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["tool"]["dbt-score"]


def test_dbt_score_passes_the_thresholds_in_pyproject(
    artefacts_dir: Path, manifest: dict[str, Any]
) -> None:
    # dbt-score reads [tool.dbt-score] from the pyproject.toml of its working directory.
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "dbt_score",
            "lint",
            "--manifest",
            str(artefacts_dir / "manifest.json"),
            "--format",
            "json",
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.stdout.strip(), completed.stderr
    result = json.loads(completed.stdout)
    settings = dbt_score_settings()
    failing = [
        f"{unique_id} (score {item['score']:.1f}): {rule.rsplit('.', 1)[-1]}: {outcome['message']}"
        for unique_id, item in sorted(result["evaluables"].items())
        if item["score"] < settings["fail_any_item_under"]
        for rule, outcome in sorted(item["results"].items())
        if outcome["result"] != "OK"
    ]
    message = (
        f"dbt-score: project {result['project']['score']:.2f}, needs "
        f"{settings['fail_project_under']}; {len(failing)} failing rule(s) on items under "
        f"{settings['fail_any_item_under']}:\n" + "\n".join(failing)
    )
    if result["project"]["score"] < settings["fail_project_under"] or failing:
        pytest.fail(message, pytrace=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    # It scored the whole project: every model, seed, snapshot, source table and macro.
    kinds = {item["type"] for item in result["evaluables"].values()}
    assert kinds >= {"model", "seed", "snapshot", "source", "macro"}
    scored_models = {
        unique_id for unique_id, item in result["evaluables"].items() if item["type"] == "model"
    }
    assert scored_models == set(project_models(manifest))


def run_dbt_coverage(
    kind: str, artefacts_dir: Path, report: Path, fail_under: float, *filters: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """`dbt-coverage compute <kind>` over the demo's artefacts; its exit and its JSON report."""
    completed = subprocess.run(
        [
            str(DBT_COVERAGE),
            "compute",
            kind,
            "--project-dir",
            str(PROJECT_DIR),
            "--run-artifacts-dir",
            str(artefacts_dir),
            "--cov-report",
            str(report),
            "--cov-fail-under",
            str(fail_under),
            *filters,
        ],
        cwd=report.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert report.exists(), completed.stderr[-2000:]
    return completed, json.loads(report.read_text(encoding="utf-8"))


def misses(report: dict[str, Any], description: str) -> list[str]:
    """One line per table: its columns the report counts as not covered."""
    lines = []
    for table in sorted(report["tables"], key=lambda table: table["name"]):
        missed = [column["name"] for column in table["columns"] if not column["covered"]]
        if missed:
            lines.append(
                f"{table['name']}: {len(missed)} of {table['total']} columns {description}: "
                + ", ".join(missed)
            )
    return lines


def test_documentation_coverage_is_complete(artefacts_dir: Path, tmp_path: Path) -> None:
    completed, report = run_dbt_coverage("doc", artefacts_dir, tmp_path / "doc.json", 1.0)
    lines = misses(report, "undocumented")
    if report["coverage"] < MIN_DOC_COVERAGE:
        pytest.fail(
            f"documentation coverage {report['covered']}/{report['total']} "
            f"({report['coverage']:.1%}), needs {MIN_DOC_COVERAGE:.0%}:\n" + "\n".join(lines),
            pytrace=False,
        )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert report["covered"] == report["total"]
    # Sources, seeds and snapshots count too, not only models.
    schemas = {table["name"].split(".", 1)[0] for table in report["tables"]}
    assert {"raw_shop", "reference", "snapshots", "staging", "ods", "finance"} <= schemas


def test_column_test_coverage_of_models(
    artefacts_dir: Path, manifest: dict[str, Any], tmp_path: Path
) -> None:
    """Columns of models (not of raw source tables) with at least one data test."""
    source_files = sorted(
        str(path.relative_to(PROJECT_DIR))
        for path in (PROJECT_DIR / "models").rglob("_*__sources.yml")
    )
    filters = ["--model-path-filter", "models/"]
    for source_file in source_files:
        filters += ["--model-path-exclusion-filter", source_file]
    completed, report = run_dbt_coverage(
        "test", artefacts_dir, tmp_path / "test.json", MIN_COLUMN_TEST_COVERAGE, *filters
    )
    lines = misses(report, "untested")
    if report["coverage"] < MIN_COLUMN_TEST_COVERAGE:
        pytest.fail(
            f"column test coverage of models {report['covered']}/{report['total']} "
            f"({report['coverage']:.1%}), needs {MIN_COLUMN_TEST_COVERAGE:.0%}:\n"
            + "\n".join(lines),
            pytrace=False,
        )
    assert completed.returncode == 0, completed.stderr[-2000:]
    # The report covers exactly the models that have a relation (ephemeral ones have none).
    built = {
        f"{node['schema']}.{node['name']}".lower()
        for node in project_models(manifest).values()
        if node["config"]["materialized"] != "ephemeral"
    }
    assert {table["name"] for table in report["tables"]} == built


def test_every_model_has_a_data_test(manifest: dict[str, Any]) -> None:
    models = project_models(manifest)
    tested = {
        node.get("attached_node")
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
    }
    untested = sorted(
        f"{node['name']} ({node['original_file_path']})"
        for unique_id, node in models.items()
        if unique_id not in tested
    )
    share = 1 - len(untested) / len(models)
    if share < MIN_SHARE_OF_MODELS_TESTED:
        pytest.fail(
            f"{len(models) - len(untested)} of {len(models)} models have a data test "
            f"({share:.1%}), needs {MIN_SHARE_OF_MODELS_TESTED:.0%}; without one:\n"
            + "\n".join(untested),
            pytrace=False,
        )
    # The count is of this project's models: staging, ODS, marts and the semantic layer's.
    assert len(models) == len(list((PROJECT_DIR / "models").rglob("*.sql")))
