"""The data scientists' notebook runs end to end on the test warehouse and reports true numbers.

The test warehouse holds 50 days of orders, too few for a 90-day lapse window on monthly
snapshots: no label would be observed. The notebook therefore runs on a copy of the shared
`built_warehouse` file in which only `fct_customer_lapse_features` is rebuilt (with its data
tests) on weekly snapshots with a 14-day window, through the model's own vars. Everything the
notebook prints is checked against the warehouse, read independently here.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import duckdb
import jupytext
import nbformat
import pandas as pd
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from sklearn.metrics import roc_auc_score

from tests.conftest import BuiltWarehouse, PostgresBuild
from warehouse.dbt import run_dbt
from warehouse.postgres import reporter_url
from warehouse.settings import PROJECT_DIR, Paths, resolve_paths

pytestmark = pytest.mark.e2e

NOTEBOOK_SOURCE = PROJECT_DIR / "notebooks" / "customer_lapse.py"
NOTEBOOK_PAIR = NOTEBOOK_SOURCE.with_suffix(".ipynb")
FEATURES = "marketing.fct_customer_lapse_features"
SHORT_HISTORY_VARS = {"customer_feature_snapshot_period": "week", "customer_lapse_window_days": 14}
REGENERATE = "uv run jupytext --to ipynb notebooks/customer_lapse.py"


@dataclass(frozen=True)
class ExecutedNotebook:
    paths: Paths
    notebook: nbformat.NotebookNode
    summary: dict[str, Any]

    def stdout_of_cell_starting(self, first_line: str) -> str:
        """Everything a code cell printed, found by the first line of its source."""
        for cell in self.notebook.cells:
            if cell.cell_type == "code" and cell.source.startswith(first_line):
                return "".join(
                    output.get("text", "")
                    for output in cell.outputs
                    if output.get("name") == "stdout"
                )
        raise AssertionError(f"no code cell starts with {first_line!r}")


@pytest.fixture(scope="module")
def short_history_warehouse(
    built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> Paths:
    """A copy of the test warehouse with the feature model rebuilt on weekly 14-day windows."""
    if built_warehouse.returncode != 0:
        pytest.fail(f"the demo build failed:\n{built_warehouse.output[-2000:]}")
    data_dir = tmp_path_factory.mktemp("lapse")
    paths = resolve_paths(data_dir, data_dir / "warehouse.duckdb")
    shutil.copyfile(built_warehouse.paths.duckdb_path, paths.duckdb_path)
    build = run_dbt(
        [
            "build",
            # the model is incremental: other vars make other rows, not more of them
            "--full-refresh",
            "--select",
            "fct_customer_lapse_features",
            "--vars",
            json.dumps(SHORT_HISTORY_VARS),
        ],
        paths,
        quiet=True,
    )
    assert build.ok, build.failures
    return paths


def execute(notebook: nbformat.NotebookNode, scratch: Path, environment: dict[str, str]) -> None:
    """Run `notebook` in the project's kernel with `environment` on top of the test's own."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        # connection files and IPython's profile in the test's folder, not the user's home
        monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(scratch / "runtime"))
        monkeypatch.setenv("IPYTHONDIR", str(scratch / "ipython"))
        # the PostgreSQL cell runs only where a test asks for it, whatever the shell holds
        monkeypatch.delenv("WAREHOUSE_PG_REPORTER_PASSWORD", raising=False)
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        client = NotebookClient(
            notebook,
            km=notebook_kernel(),
            timeout=300,
            resources={"metadata": {"path": str(NOTEBOOK_SOURCE.parent)}},
        )
        client.execute(env=dict(os.environ))


def notebook_kernel() -> KernelManager:
    """The kernel of the running interpreter (the project's venv), whatever kernels the user
    registered: ipykernel's native spec only, no kernel directories searched."""
    specs = KernelSpecManager(kernel_dirs=[], ensure_native_kernel=True)
    manager = KernelManager(kernel_name="python3", kernel_spec_manager=specs)
    assert manager.kernel_spec.argv[0] == sys.executable
    return manager


@pytest.fixture(scope="module")
def executed(
    short_history_warehouse: Paths, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExecutedNotebook]:
    """The notebook's source of truth, executed by nbclient; an error in any cell fails here."""
    notebook = jupytext.read(NOTEBOOK_SOURCE)
    execute(
        notebook,
        tmp_path_factory.mktemp("kernel"),
        {
            "WAREHOUSE_DATA_DIR": str(short_history_warehouse.data_dir),
            "WAREHOUSE_DUCKDB_PATH": str(short_history_warehouse.duckdb_path),
        },
    )
    [summary_cell] = [cell for cell in notebook.cells if "summary" in cell.metadata.get("tags", [])]
    summary_text = "".join(output.get("text", "") for output in summary_cell.outputs)
    yield ExecutedNotebook(short_history_warehouse, notebook, json.loads(summary_text))


def features_table(paths: Paths) -> pd.DataFrame:
    with duckdb.connect(str(paths.duckdb_path), read_only=True) as connection:
        return connection.sql(f"select * from {FEATURES}").df()


def test_notebook_reads_every_row_of_the_feature_model(executed: ExecutedNotebook) -> None:
    features = features_table(executed.paths)
    summary = executed.summary
    assert summary["warehouse_file"] == str(executed.paths.duckdb_path)
    assert summary["feature_rows"] == len(features) > 0
    assert summary["labelled_rows"] == features["has_ordered_in_lapse_window"].notna().sum() > 0
    assert summary["snapshot_dates"] == features["snapshot_date"].nunique()
    assert summary["lapse_window_days"] == SHORT_HISTORY_VARS["customer_lapse_window_days"]


def test_split_is_by_time_and_covers_every_labelled_row(executed: ExecutedNotebook) -> None:
    features = features_table(executed.paths)
    labelled = features[features["has_ordered_in_lapse_window"].notna()]
    summary = executed.summary
    first_test_date = pd.Timestamp(summary["first_test_date"])
    assert pd.Timestamp(summary["last_train_date"]) < first_test_date
    assert summary["train_rows"] == (labelled["snapshot_date"] < first_test_date).sum() > 0
    assert summary["test_rows"] == (labelled["snapshot_date"] >= first_test_date).sum() > 0
    assert summary["train_rows"] + summary["test_rows"] == summary["labelled_rows"]


def test_metrics_are_true_numbers_and_the_verdict_follows_them(
    executed: ExecutedNotebook,
) -> None:
    """The baselines are recomputed here from the warehouse; the model's metrics must be real
    probabilities of ranking, and the printed verdict must say what they say. The simulated
    company draws returning buyers at random, so the model is not required to win."""
    features = features_table(executed.paths)
    test_rows = features[
        features["has_ordered_in_lapse_window"].notna()
        & (features["snapshot_date"] >= pd.Timestamp(executed.summary["first_test_date"]))
    ]
    is_lapsed = ~test_rows["has_ordered_in_lapse_window"].astype(bool)
    metrics = executed.summary["metrics"]

    assert executed.summary["test_lapse_rate"] == pytest.approx(is_lapsed.mean())
    assert metrics["base rate"]["roc_auc"] == 0.5
    assert metrics["base rate"]["average_precision"] == pytest.approx(is_lapsed.mean(), abs=1e-6)
    assert metrics["recency alone"]["roc_auc"] == pytest.approx(
        roc_auc_score(is_lapsed, test_rows["days_since_last_order"]), abs=1e-6
    )
    for name, values in metrics.items():
        for metric, value in values.items():
            assert math.isfinite(value) and 0 <= value <= 1, (name, metric, value)

    model_auc = metrics["logistic regression"]["roc_auc"]
    best_naive = executed.summary["best_naive_baseline"]
    assert metrics[best_naive]["roc_auc"] == max(
        metrics["recency alone"]["roc_auc"], metrics["base rate"]["roc_auc"]
    )
    low, high = executed.summary["auc_difference_interval"]
    assert -1 <= low <= high <= 1
    # the verdict is the interval's, not the point estimate's
    assert executed.summary["beats_naive_baseline"] == (low > 0)
    verdict = "beats" if low > 0 else "is worse than" if high < 0 else "is no better than"
    assert executed.summary["verdict"] == verdict
    printed = executed.stdout_of_cell_starting('model_auc = metrics.loc["logistic regression"')
    assert printed.startswith(
        f"The model {verdict} the best naive baseline ({best_naive}): ROC AUC {model_auc:.3f} "
        f"against {metrics[best_naive]['roc_auc']:.3f}"
    )


def test_postgres_cell_says_it_is_not_configured(executed: ExecutedNotebook) -> None:
    assert executed.summary["postgres_reporter"] is False
    printed = executed.stdout_of_cell_starting("postgres_url = reporter_url()")
    assert printed == (
        "PostgreSQL: not configured (WAREHOUSE_PG_REPORTER_PASSWORD is unset); using DuckDB\n"
    )


def test_latest_snapshot_is_scored_for_every_customer(executed: ExecutedNotebook) -> None:
    features = features_table(executed.paths)
    latest_date = features["snapshot_date"].max()
    printed = executed.stdout_of_cell_starting("latest_date = ")
    lines = printed.splitlines()
    assert lines[0] == (
        f"snapshot date {latest_date:%Y-%m-%d}: "
        f"{(features['snapshot_date'] == latest_date).sum()} customers scored"
    )
    assert lines[1].split() == [
        "customer_id",
        "segment",
        "days_since_last_order",
        "order_count",
        "ordered_net_amount_eur",
        "has_marketing_consent",
        "lapse_probability",
    ]
    assert len(lines) == 2 + 10


def test_committed_ipynb_is_the_py_without_outputs() -> None:
    """The .py is the source of truth; the .ipynb must hold the same cells and no outputs."""
    source = jupytext.read(NOTEBOOK_SOURCE)
    pair = nbformat.read(NOTEBOOK_PAIR, as_version=4)
    cells = [(cell.cell_type, cell.source, cell.metadata.get("tags")) for cell in source.cells]
    paired = [(cell.cell_type, cell.source, cell.metadata.get("tags")) for cell in pair.cells]
    assert paired == cells, f"{NOTEBOOK_PAIR.name} differs from its .py: run `{REGENERATE}`"
    executed_cells = [
        index
        for index, cell in enumerate(pair.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not executed_cells, f"{NOTEBOOK_PAIR.name} holds outputs: run `{REGENERATE}`"
    assert pair.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert pair.metadata["kernelspec"]["name"] == "python3"


def test_reporter_url_only_when_its_password_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAREHOUSE_PG_REPORTER_PASSWORD", raising=False)
    assert reporter_url() is None
    monkeypatch.setenv("WAREHOUSE_PG_REPORTER_PASSWORD", "s3cret/:@")  # pragma: allowlist secret
    monkeypatch.setenv("WAREHOUSE_PG_ADMIN_URL", "postgresql://postgres@db.internal:6543/postgres")
    monkeypatch.setenv("WAREHOUSE_PG_DATABASE", "larkspur_prod")
    monkeypatch.setenv("WAREHOUSE_PG_ROLE_PREFIX", "shop_")
    url = urlsplit(reporter_url() or "")
    assert (url.scheme, url.hostname, url.port, url.path) == (
        "postgresql",
        "db.internal",
        6543,
        "/larkspur_prod",
    )
    # quoted in the URL, so that a password with / : @ cannot change its meaning
    assert (url.username, unquote(url.password or "")) == ("shop_reporter", "s3cret/:@")


@pytest.mark.postgres
def test_postgres_cell_reads_the_features_as_the_reporter(
    postgres_build: PostgresBuild, tmp_path: Path
) -> None:
    """With the reporter's password set, the PostgreSQL cell logs in as the reporter of the
    session's PostgreSQL build and counts the feature model's rows there."""
    assert postgres_build.build.ok, postgres_build.build.failures
    source = jupytext.read(NOTEBOOK_SOURCE)
    imports, postgres_cell = (
        next(cell for cell in source.cells if cell.source.startswith(first_line))
        for first_line in ("import json", "postgres_url = reporter_url()")
    )
    notebook = nbformat.v4.new_notebook(cells=[imports, postgres_cell], metadata=source.metadata)
    warehouse = postgres_build.warehouse
    execute(
        notebook,
        tmp_path,
        {
            "WAREHOUSE_PG_REPORTER_PASSWORD": postgres_build.passwords["reporter"],
            "WAREHOUSE_PG_ADMIN_URL": warehouse.admin_url,
            "WAREHOUSE_PG_DATABASE": warehouse.database,
            "WAREHOUSE_PG_ROLE_PREFIX": postgres_build.prefix,
        },
    )
    with postgres_build.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"select count(*) from {FEATURES}")
        [(feature_rows,)] = cursor.fetchall()
    printed = "".join(output.get("text", "") for output in notebook.cells[1].outputs)
    assert printed.split() == [
        "role_name",
        "feature_rows",
        warehouse.roles.reporter,
        str(feature_rows),
    ]
