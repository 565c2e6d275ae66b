"""The MetricFlow semantic layer over the session's demo warehouse (`built_warehouse`).

`mf validate-configs` and `mf query` run against the DuckDB file `warehouse demo` built, with
the semantic manifest its dbt build wrote. Every metric queried is compared with what the
stakeholders' own queries (analyses/, as the demo's docs step compiled them) or a plain SQL
query on the marts return: sums to the cent, ratios to 1e-9. The report pages of the docs site
(warehouse/dashboards.py), which the demo's docs step wrote, list under each chart the values it
plots: those must be what `mf query` returns.

`mf` reads the semantic manifest from `<dbt project>/target/semantic_manifest.json`, a path it
does not let you change, while the demo writes its dbt artefacts to `<data dir>/dbt/target` and
tests never write into the repository. So the tests point `mf` at a scratch folder that links
the project's files and holds a copy of the demo's manifest in its own target/.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import BuiltWarehouse
from tests.docs.chart_tables import chart_tables
from warehouse.dashboards import (
    FINANCE,
    FUNNEL_STEPS,
    LOGISTICS,
    MARKETING,
    Dashboard,
    month_label,
)
from warehouse.docs_site import docs_target_dir
from warehouse.metrics import prepare_metricflow_project
from warehouse.settings import PROJECT_DIR, TELEMETRY_OFF

pytestmark = pytest.mark.e2e

RUN_MF = Path(__file__).with_name("run_mf.py")
# The metrics of issue #6 and their MetricFlow types.
METRIC_TYPES = {
    "net_revenue": "simple",
    "average_order_value": "ratio",
    "refund_rate": "ratio",
    "ad_spend": "simple",
    "roas": "ratio",
    "cac": "ratio",
    "conversion_rate": "ratio",
    "on_time_delivery_rate": "ratio",
    "average_transit_days": "simple",
    "cost_per_shipment": "ratio",
    # issue #17: what the report pages plot besides the above
    "payout_fees": "simple",
    "payout_fee_rate": "ratio",
    "stock_out_days": "simple",
    "stock_out_rate": "ratio",
    "days_of_cover": "ratio",
    "sessions_with_product_view": "simple",
    "sessions_with_add_to_cart": "simple",
    "sessions_with_checkout": "simple",
}
# The metrics whose description is a business definition of models/docs (doc block name).
DOC_BLOCKS = {
    "net_revenue": "net_revenue",
    "refund_rate": "refund_rate",
    "roas": "roas",
    "cac": "cac",
    "conversion_rate": "conversion_rate",
    "on_time_delivery_rate": "on_time_rate",
    "days_of_cover": "days_of_cover",
}
VALIDATION_STEPS = (
    "the semantics of built manifest",
    "semantic models against data warehouse",
    "dimensions against data warehouse",
    "entities against data warehouse",
    "measures against data warehouse",
    "metrics against data warehouse",
)
RATIO_TOLERANCE = 1e-9


def mf_query(csv_name: str, metrics: Iterable[str], group_by: Iterable[str]) -> list[str]:
    group_by = list(group_by)
    return [
        "query",
        "--metrics",
        ",".join(metrics),
        *(["--group-by", ",".join(group_by)] if group_by else []),
        "--csv",
        csv_name,
    ]


# One `mf` command per assertion group; they all run in one process (see run_mf.py).
MF_COMMANDS = {
    "validate": ["validate-configs", "--show-all"],
    "revenue_by_country": mf_query(
        "revenue_by_country.csv", ["net_revenue"], ["metric_time__month", "geography__country_code"]
    ),
    "monthly": mf_query(
        "monthly.csv",
        [
            "net_revenue",
            "orders",
            "average_order_value",
            "refund_rate",
            "conversion_rate",
            "ad_spend",
        ],
        ["metric_time__month"],
    ),
    "channels": mf_query(
        "channels.csv",
        ["ad_spend", "last_touch_net_revenue", "new_customers", "roas", "cac"],
        ["metric_time__month", "channel"],
    ),
    "carriers": mf_query(
        "carriers.csv",
        ["shipments", "on_time_delivery_rate", "average_transit_days", "cost_per_shipment"],
        ["warehouse__warehouse_code", "carrier__carrier_name"],
    ),
    "payments": mf_query(
        "payments.csv", ["refund_rate", "payout_fees", "payout_fee_rate"], ["metric_time__month"]
    ),
    "funnel": mf_query("funnel.csv", FUNNEL_STEPS, []),
    "stock": mf_query(
        "stock.csv",
        ["stock_out_days", "stock_out_rate", "days_of_cover"],
        ["metric_time__month", "warehouse__warehouse_code"],
    ),
}


@dataclass(frozen=True)
class MfRun:
    """The `mf` commands' results and where their CSV files are."""

    project_dir: Path
    results: dict[str, dict[str, Any]]

    def output(self, name: str) -> str:
        return self.results[name]["output"]

    def rows(self, name: str) -> list[dict[str, str]]:
        """The CSV an `mf query` wrote; fails with its output when it did not succeed."""
        result = self.results[name]
        assert result["exit_code"] == 0, result["output"][-3000:]
        with (self.project_dir / f"{name}.csv").open(newline="", encoding="utf-8") as file:
            return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def demo(built_warehouse: BuiltWarehouse) -> BuiltWarehouse:
    assert built_warehouse.returncode == 0, built_warehouse.output[-4000:]
    return built_warehouse


@pytest.fixture(scope="module")
def semantic_manifest(demo: BuiltWarehouse) -> dict[str, Any]:
    path = demo.paths.dbt_target_dir / "semantic_manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mf_run(demo: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> MfRun:
    # the folder `warehouse metrics` runs mf in: the project's files and the build's manifest
    project_dir = prepare_metricflow_project(demo.paths)
    exchange_dir = tmp_path_factory.mktemp("mf_commands")
    commands_file = exchange_dir / "commands.json"
    commands_file.write_text(json.dumps(MF_COMMANDS), encoding="utf-8")
    results_file = exchange_dir / "results.json"
    environment = {
        **os.environ,
        **TELEMETRY_OFF,
        # mf's own look-ups, explicit so that a developer's shell settings cannot redirect them
        "DBT_PROJECT_DIR": str(project_dir),
        "DBT_PROFILES_DIR": str(project_dir),
        "DBT_TARGET": "dev",
        "WAREHOUSE_DUCKDB_PATH": str(demo.paths.duckdb_path),
    }
    completed = subprocess.run(
        [sys.executable, str(RUN_MF), str(commands_file), str(results_file)],
        cwd=project_dir,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
    return MfRun(project_dir, json.loads(results_file.read_text(encoding="utf-8")))


def query(demo: BuiltWarehouse, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a read-only query on the demo warehouse (closed at once: `mf` opens it too)."""
    connection = duckdb.connect(str(demo.paths.duckdb_path), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def analysis_rows(demo: BuiltWarehouse, name: str) -> list[dict[str, Any]]:
    """The rows of a stakeholder query in analyses/, as the demo's docs step compiled it."""
    compiled = docs_target_dir(demo.paths) / "compiled" / "larkspur" / "analyses" / f"{name}.sql"
    connection = duckdb.connect(str(demo.paths.duckdb_path), read_only=True)
    try:
        cursor = connection.execute(compiled.read_text(encoding="utf-8"))
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()


def month(value: str | datetime) -> str:
    """`2025-01-01` from mf's `2025-01-01 00:00:00` or a datetime/date."""
    return str(value)[:10]


def cents(value: str | Decimal | None) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value)).quantize(Decimal("0.01"))


def ratio(value: str | float | Decimal | None) -> float | None:
    return None if value in (None, "") else float(value)


def assert_ratios_equal(actual: dict[Any, float | None], expected: dict[Any, float | None]) -> None:
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        if value is None:
            assert actual[key] is None, key
        else:
            assert actual[key] == pytest.approx(value, abs=RATIO_TOLERANCE), key


def test_validate_configs_passes_including_warehouse_checks(mf_run: MfRun) -> None:
    result = mf_run.results["validate"]
    assert result["exit_code"] == 0, result["output"][-3000:]
    lines = {line.strip() for line in re.split(r"[\r\n]+", result["output"])}
    for step in VALIDATION_STEPS:
        assert f"✔ 🎉 Successfully validated {step} (ERRORS: 0, FUTURE_ERRORS: 0, WARNINGS: 0)" in (
            lines
        ), step
    assert "Breaking issues" not in result["output"]


def test_every_metric_is_defined_and_described(semantic_manifest: dict[str, Any]) -> None:
    metrics = {metric["name"]: metric for metric in semantic_manifest["metrics"]}
    assert {name: metrics[name]["type"] for name in METRIC_TYPES if name in metrics} == (
        METRIC_TYPES
    )
    for name in METRIC_TYPES:
        description = metrics[name]["description"]
        # a sentence at least, and doc() rendered rather than left as Jinja
        assert len(description.split()) >= 10, name
        assert "{{" not in description, name
    definitions = (PROJECT_DIR / "models" / "docs" / "_business_definitions.md").read_text()
    for metric, block in DOC_BLOCKS.items():
        found = re.search(r"{% docs " + block + r" %}(.*?){% enddocs %}", definitions, re.S)
        assert found, block
        assert found.group(1).strip() in metrics[metric]["description"], metric


def test_net_revenue_by_month_and_country_equals_the_finance_analysis(
    demo: BuiltWarehouse, mf_run: MfRun
) -> None:
    expected = {
        (month(row["revenue_month"]), row["country_code"]): cents(row["net_revenue_eur"])
        for row in analysis_rows(demo, "finance_net_revenue_by_month_and_country")
    }
    # fct_revenue_daily, which the analysis reads, names the unknown country 'unknown'.
    actual = {
        (month(row["metric_time__month"]), row["geography__country_code"] or "unknown"): cents(
            row["net_revenue"]
        )
        for row in mf_run.rows("revenue_by_country")
    }
    assert len(expected) >= 10
    assert actual == expected


def by_month(demo: BuiltWarehouse, sql: str) -> dict[str, Any]:
    """A query's (month, value) rows as a dict keyed by `2025-01-01`."""
    return {month(key): value for key, value in query(demo, sql)}


def filled(rows: dict[str, dict[str, str]], metric: str, convert: Any) -> dict[str, Any]:
    """One metric of mf's rows, leaving out the rows where it is empty."""
    return {key: convert(row[metric]) for key, row in rows.items() if row[metric] != ""}


def test_monthly_metrics_equal_sql_on_the_marts(demo: BuiltWarehouse, mf_run: MfRun) -> None:
    revenue = by_month(
        demo,
        "select date_trunc('month', order_date), sum(net_revenue_eur)"
        " from finance.fct_revenue_daily group by 1",
    )
    orders = by_month(
        demo,
        "select date_trunc('month', order_date), count(distinct order_id)"
        " from finance.fct_order_lines where not is_cancelled group by 1",
    )
    charges = by_month(
        demo,
        "select date_trunc('month', payment_date), sum(amount_eur)"
        " from finance.fct_payments where is_succeeded group by 1",
    )
    refunds = by_month(
        demo,
        "select date_trunc('month', refund_date), sum(amount_eur)"
        " from finance.fct_refunds where is_succeeded group by 1",
    )
    conversion = by_month(
        demo,
        "select date_trunc('month', session_date), count(*) filter (where has_order) / count(*)"
        " from marketing.fct_sessions group by 1",
    )
    spend = by_month(
        demo,
        "select date_trunc('month', report_date), sum(spend_eur)"
        " from marketing.fct_ad_spend_daily group by 1",
    )
    rows = {month(row["metric_time__month"]): row for row in mf_run.rows("monthly")}

    assert len(revenue) >= 2
    every_month = set().union(revenue, orders, charges, refunds, conversion, spend)
    assert rows.keys() == every_month
    assert filled(rows, "net_revenue", cents) == {key: cents(sum_) for key, sum_ in revenue.items()}
    assert filled(rows, "orders", int) == orders
    # ad_spend is 0, not empty, in a month without spend
    assert filled(rows, "ad_spend", cents) == {key: cents(spend.get(key, 0)) for key in rows}
    assert_ratios_equal(
        filled(rows, "average_order_value", ratio),
        {key: float(revenue[key] / orders[key]) for key in revenue.keys() & orders.keys()},
    )
    # a month with charges and no refund has a refund rate of 0
    assert_ratios_equal(
        filled(rows, "refund_rate", ratio),
        {key: float(refunds.get(key, 0) / value) for key, value in charges.items() if value},
    )
    assert_ratios_equal(filled(rows, "conversion_rate", ratio), conversion)


def test_roas_and_cac_by_channel_equal_the_marketing_analysis(
    demo: BuiltWarehouse, mf_run: MfRun
) -> None:
    analysis = {
        (month(row["activity_month"]), row["channel_code"]): row
        for row in analysis_rows(demo, "marketing_roas_and_cac_by_channel_and_month")
    }
    rows = {
        (month(row["metric_time__month"]), row["channel"]): row for row in mf_run.rows("channels")
    }
    assert rows.keys() == analysis.keys()
    paid = [key for key, row in analysis.items() if row["roas"] is not None]
    assert len(paid) >= 2, "the demo has no paid channel with spend"
    for key, expected in analysis.items():
        row = rows[key]
        assert cents(row["ad_spend"] or 0) == cents(expected["spend_eur"]), key
        assert cents(row["last_touch_net_revenue"] or 0) == cents(
            expected["attributed_net_revenue_eur"]
        ), key
        assert int(row["new_customers"] or 0) == expected["new_customer_count"], key
    # Where a channel spent and no order was credited to it, the analysis divides an empty sum
    # and shows no ROAS; the metric says 0, which is what the definition gives.
    assert_ratios_equal(
        {key: ratio(row["roas"]) for key, row in rows.items()},
        {
            key: 0.0 if row["roas"] is None and row["spend_eur"] > 0 else ratio(row["roas"])
            for key, row in analysis.items()
        },
    )
    assert_ratios_equal(
        {key: ratio(row["cac"]) for key, row in rows.items()},
        {key: ratio(row["cac_eur"]) for key, row in analysis.items()},
    )


def test_delivery_metrics_by_carrier_equal_the_logistics_analysis(
    demo: BuiltWarehouse, mf_run: MfRun
) -> None:
    analysis = {
        (row["warehouse_code"], row["carrier_name"]): row
        for row in analysis_rows(demo, "logistics_on_time_rate_and_cost_by_carrier_and_warehouse")
    }
    rows = {
        (row["warehouse__warehouse_code"], row["carrier__carrier_name"]): row
        for row in mf_run.rows("carriers")
    }
    assert len(analysis) >= 3
    assert rows.keys() == analysis.keys()
    for key, expected in analysis.items():
        assert int(rows[key]["shipments"]) == expected["shipment_count"], key
    for metric, column in (
        ("on_time_delivery_rate", "on_time_rate"),
        ("average_transit_days", "average_transit_days"),
        ("cost_per_shipment", "cost_per_shipment_eur"),
    ):
        assert_ratios_equal(
            {key: ratio(row[metric]) for key, row in rows.items()},
            {key: ratio(row[column]) for key, row in analysis.items()},
        )


def by_key(demo: BuiltWarehouse, sql: str) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """A query's rows keyed by their first two columns (a month and a code)."""
    return {(month(row[0]), row[1]): row[2:] for row in query(demo, sql)}


def test_dashboard_metrics_equal_sql_on_the_marts(demo: BuiltWarehouse, mf_run: MfRun) -> None:
    fees = by_month(
        demo,
        "select date_trunc('month', covered_date), sum(fee_amount_eur) from finance.fct_payouts"
        " group by 1",
    )
    fee_rates = by_month(
        demo,
        "select date_trunc('month', covered_date),"
        " sum(fee_amount_eur) / sum(fee_amount_eur + net_amount_eur) from finance.fct_payouts"
        " group by 1",
    )
    payments = {month(row["metric_time__month"]): row for row in mf_run.rows("payments")}
    assert len(fees) >= 2
    assert filled(payments, "payout_fees", cents) == {key: cents(fee) for key, fee in fees.items()}
    assert_ratios_equal(
        filled(payments, "payout_fee_rate", ratio),
        {key: float(value) for key, value in fee_rates.items()},
    )

    stock_outs = by_key(
        demo,
        "select date_trunc('month', snapshot_date), warehouse_code,"
        " count(*) filter (where is_stock_out), count(*) filter (where is_stock_out) / count(*)"
        " from logistics.fct_inventory_daily group by 1, 2",
    )
    # stock is a level: a month's days of cover is its last snapshot day's
    cover = by_key(
        demo,
        "with last_days as (select max(snapshot_date) as snapshot_date"
        " from logistics.fct_inventory_daily group by date_trunc('month', snapshot_date))"
        " select date_trunc('month', snapshot_date), warehouse_code,"
        " sum(case when trailing_units_sold > 0 then available_qty else 0 end)::double"
        " / sum(average_daily_units_sold) from logistics.fct_inventory_daily"
        " where snapshot_date in (select snapshot_date from last_days) group by 1, 2",
    )
    stock = {
        (month(row["metric_time__month"]), row["warehouse__warehouse_code"]): row
        for row in mf_run.rows("stock")
    }
    assert len(stock) >= 3 and sum(int(row["stock_out_days"]) for row in stock.values()) > 0
    assert filled(stock, "stock_out_days", int) == {
        key: count for key, (count, _) in stock_outs.items()
    }
    assert_ratios_equal(
        filled(stock, "stock_out_rate", ratio),
        {key: float(rate) for key, (_, rate) in stock_outs.items()},
    )
    assert_ratios_equal(
        filled(stock, "days_of_cover", ratio),
        {key: float(days) for key, (days,) in cover.items() if days is not None},
    )

    [funnel_sql] = query(
        demo,
        "select count(*), count(*) filter (where product_view_count > 0),"
        " count(*) filter (where add_to_cart_count > 0),"
        " count(*) filter (where checkout_started_count > 0), count(*) filter (where has_order)"
        " from marketing.fct_sessions",
    )
    [funnel] = mf_run.rows("funnel")
    assert tuple(int(funnel[step]) for step in FUNNEL_STEPS) == funnel_sql
    # every step is a subset of the one before
    assert list(funnel_sql) == sorted(funnel_sql, reverse=True) and funnel_sql[-1] > 0


# A plotted value's place: its category (a month, a carrier, a funnel step) and its series.
PlotKey = tuple[str, str | None]


def page_values(demo: BuiltWarehouse, dashboard: Dashboard, chart: str) -> dict[PlotKey, float]:
    """The values a chart of the demo's report page lists under it."""
    values = chart_tables(demo.paths.docs_dir / dashboard.page)[chart]
    assert values, f"{dashboard.page}: chart {chart} plots nothing"
    return {(value.category, value.series): value.value for value in values}


def page_label(column: str, value: str) -> str:
    """A dimension value as a report page labels it: a month's name, `unknown` for empty."""
    return month_label(value) if column == "metric_time__month" else value or "unknown"


def mf_values(
    mf_run: MfRun, name: str, metric: str, category: str, series: str | None = None
) -> dict[PlotKey, float]:
    """One metric of an `mf query`'s CSV, keyed as a page labels it; empty values left out."""
    return {
        (
            page_label(category, row[category]),
            page_label(series, row[series]) if series else None,
        ): float(row[metric])
        for row in mf_run.rows(name)
        if row[metric] != ""
    }


def assert_plotted(
    page: dict[PlotKey, float], mf: dict[PlotKey, float], *, to_the_cent: bool = False
) -> None:
    assert page.keys() == mf.keys()
    for key, value in mf.items():
        if to_the_cent:
            assert cents(page[key]) == cents(value), key
        else:
            assert page[key] == pytest.approx(value, abs=RATIO_TOLERANCE), key


def test_report_pages_plot_what_mf_query_returns(
    demo: BuiltWarehouse, mf_run: MfRun, semantic_manifest: dict[str, Any]
) -> None:
    month_ = "metric_time__month"
    assert_plotted(
        page_values(demo, FINANCE, "net-revenue-by-country"),
        mf_values(mf_run, "revenue_by_country", "net_revenue", month_, "geography__country_code"),
        to_the_cent=True,
    )
    assert_plotted(
        page_values(demo, FINANCE, "payout-fees"),
        mf_values(mf_run, "payments", "payout_fees", month_),
        to_the_cent=True,
    )
    assert_plotted(
        page_values(demo, FINANCE, "refund-rate"),
        mf_values(mf_run, "payments", "refund_rate", month_),
    )
    assert_plotted(
        page_values(demo, LOGISTICS, "on-time-rate"),
        mf_values(
            mf_run,
            "carriers",
            "on_time_delivery_rate",
            "carrier__carrier_name",
            "warehouse__warehouse_code",
        ),
    )
    assert_plotted(
        page_values(demo, LOGISTICS, "days-of-cover"),
        mf_values(mf_run, "stock", "days_of_cover", month_, "warehouse__warehouse_code"),
    )
    # the funnel's steps are the metrics' labels, in funnel order
    labels = {metric["name"]: metric["label"] for metric in semantic_manifest["metrics"]}
    [funnel] = mf_run.rows("funnel")
    assert page_values(demo, MARKETING, "funnel") == {
        (labels[step], None): float(funnel[step]) for step in FUNNEL_STEPS
    }


def test_warehouse_metrics_runs_mf_on_the_data_folders_warehouse(
    demo: BuiltWarehouse, tmp_path: Path
) -> None:
    csv_file = tmp_path / "orders.csv"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "warehouse",
            "metrics",
            "--data-dir",
            str(demo.paths.data_dir),
            "query",
            "--metrics",
            "orders",
            "--csv",
            str(csv_file),
        ],
        env={**os.environ, **TELEMETRY_OFF, "WAREHOUSE_DUCKDB_PATH": str(demo.paths.duckdb_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-3000:]
    [[expected]] = query(
        demo, "select count(distinct order_id) from finance.fct_order_lines where not is_cancelled"
    )
    with csv_file.open(newline="") as rows:
        assert [int(row["orders"]) for row in csv.DictReader(rows)] == [expected]


def test_warehouse_metrics_before_any_build_says_what_to_do(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "warehouse", "metrics", "--data-dir", str(tmp_path), "list"],
        env={
            **os.environ,
            **TELEMETRY_OFF,
            "WAREHOUSE_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
            "COLUMNS": "400",  # one line per message, however long the path
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 1
    assert f"error: no semantic manifest in {tmp_path / 'dbt' / 'target'}" in completed.stderr
    assert "hint: build the warehouse first" in completed.stderr
    assert "Traceback" not in completed.stderr
