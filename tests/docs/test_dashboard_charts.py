"""How a report page turns MetricFlow's rows into charts and freshness rows, on fixed inputs.

No warehouse: the rows are what `warehouse.metric_queries` returns for a query (columns, then
rows with ISO dates and floats); the charts are drawn by vl-convert as on the site.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from warehouse import metrics
from warehouse.dashboards import MARKETING, MONTH, Chart, Dashboard, MetricQuery, Point, draw
from warehouse.docs_site import (
    SourceFreshness,
    exposure_summary,
    latest_loads,
    render_dashboard,
    upstream_sources,
)
from warehouse.errors import WarehouseError
from warehouse.settings import resolve_paths

REVENUE = Dashboard(
    exposure="finance_dashboard",
    page="finance-dashboard.html",
    nav_label="Finance",
    queries={"revenue": MetricQuery(("net_revenue", "refund_rate"), (MONTH, "country"))},
    charts=(
        Chart("revenue", "Net revenue", "revenue", ("net_revenue",), "eur", MONTH, "country", True),
        Chart("refunds", "Refund rate", "revenue", ("refund_rate",), "percent", MONTH, "country"),
    ),
)
RESULTS = {
    "finance_dashboard.revenue": {
        "columns": [MONTH, "country", "net_revenue", "refund_rate"],
        "rows": [
            ["2025-01-01T00:00:00", "DE", 1234.5, 0.0572],
            ["2025-01-01T00:00:00", None, 10.0, None],
            ["2025-02-01T00:00:00", "DE", 99.99, 0.0],
        ],
    }
}
LABELS = {"net_revenue": "Net revenue (EUR)", "refund_rate": "Refund rate"}


def bars(svg: str) -> int:
    """The bars vl-convert drew: the paths of the SVG's rect marks."""
    marks = svg.split('class="mark-rect', 1)[1].split("</g>", 1)[0]
    return len(re.findall(r"<path\b", marks))


def test_rows_become_labelled_points_without_empty_values() -> None:
    revenue, refunds = draw(REVENUE, RESULTS, LABELS)
    assert revenue.points == [
        Point("Jan 2025", "DE", 1234.5),
        Point("Jan 2025", "unknown", 10.0),
        Point("Feb 2025", "DE", 99.99),
    ]
    # a ratio without a denominator is no bar, not a bar of 0
    assert refunds.points == [Point("Jan 2025", "DE", 0.0572), Point("Feb 2025", "DE", 0.0)]
    assert [revenue.formatted(point.value) for point in revenue.points] == [
        "1,234.50",
        "10.00",
        "99.99",
    ]
    assert refunds.formatted(0.0572) == "5.72%"
    assert (revenue.category_title, revenue.series_title, revenue.value_title) == (
        "Month",
        "country",
        "Net revenue (EUR)",
    )
    assert revenue.command == (
        "warehouse metrics query --metrics net_revenue,refund_rate --group-by "
        "metric_time__month,country"
    )


def test_every_point_is_a_bar_in_an_svg_that_names_no_host() -> None:
    for drawn in draw(REVENUE, RESULTS, LABELS):
        assert drawn.svg.startswith("<svg")
        assert bars(drawn.svg) == len(drawn.points)
        assert set(re.findall(r"https?://[^\s\"'<>]+", drawn.svg)) <= {
            "http://www.w3.org/2000/svg",
            "http://www.w3.org/1999/xlink",
        }
        # the month axis in time order, not alphabetical (Feb before Jan)
        assert drawn.svg.index(">Jan 2025<") < drawn.svg.index(">Feb 2025<")


def test_funnel_steps_are_metric_labels_in_funnel_order() -> None:
    funnel_chart = next(chart for chart in MARKETING.charts if chart.key == "funnel")
    steps = funnel_chart.metrics
    results = {
        f"{MARKETING.exposure}.{name}": {"columns": list(query.metrics), "rows": []}
        for name, query in MARKETING.queries.items()
    }
    results[f"{MARKETING.exposure}.funnel"]["rows"] = [[100.0, 80.0, 30.0, 20.0, 15.0]]
    labels = {step: step.replace("_", " ").capitalize() for step in steps}
    [funnel] = [drawn for drawn in draw(MARKETING, results, labels) if drawn.chart.key == "funnel"]
    assert [point.category for point in funnel.points] == [labels[step] for step in steps]
    assert [point.value for point in funnel.points] == [100.0, 80.0, 30.0, 20.0, 15.0]
    assert funnel.category_title == "Step" and funnel.value_title == "Sessions"


def test_a_report_shows_the_sources_its_lineage_reaches_with_their_last_load() -> None:
    manifest = {
        "parent_map": {
            "exposure.p.report": ["metric.p.revenue"],
            "metric.p.revenue": ["semantic_model.p.orders"],
            "semantic_model.p.orders": ["model.p.fct_orders"],
            "model.p.fct_orders": ["source.p.shop.orders", "source.p.shop.lines", "seed.p.fx"],
            "model.p.other": ["source.p.web.events"],
        },
        "sources": {
            "source.p.shop.orders": {"source_name": "shop"},
            "source.p.shop.lines": {"source_name": "shop"},
            "source.p.web.events": {"source_name": "web"},
        },
    }
    assert upstream_sources(manifest, "exposure.p.report") == {"shop"}

    def check(table: str, status: str, hour: int) -> SourceFreshness:
        loaded = datetime(2025, 3, 1, hour, tzinfo=UTC)
        return SourceFreshness("shop", table, status, loaded, 3600.0 * (12 - hour), "", "", None)

    checks = [check("orders", "pass", 9), check("lines", "warn", 7)]
    [shop] = latest_loads(checks, {"shop", "web"})
    # the newest load, and the worst table's status: a stale table makes the report stale
    assert (shop.source, shop.loaded_at.hour, shop.age_seconds, shop.status) == (
        "shop",
        9,
        3 * 3600.0,
        "warn",
    )


def test_the_page_summary_drops_the_description_link_to_the_page_itself() -> None:
    description = (
        "Revenue at a glance, see `fct_revenue_daily` and\n[the docs](index.html).\n"
        "[Open the finance dashboard](finance-dashboard.html).\n\nMetrics: net revenue."
    )
    assert exposure_summary(description, "finance-dashboard.html") == (
        "Revenue at a glance, see fct_revenue_daily and the docs."
    )


def test_a_report_that_could_not_be_queried_says_why_instead_of_charts() -> None:
    exposure = {
        "unique_id": "exposure.larkspur.finance_dashboard",
        "description": "Revenue at a glance.",
        "owner": {"name": "Finance", "email": "finance@example.com"},
        "maturity": "high",
    }
    problem = "MetricFlow query finance_dashboard.revenue failed: no such metric (see the hint)"
    body = render_dashboard(
        REVENUE, exposure, {}, {}, {}, [], datetime(2025, 3, 1, tzinfo=UTC), problem
    )
    assert f'<p class="fail" id="report-problem">The charts could not be drawn: {problem}</p>' in (
        body.replace("&#39;", "'")
    )
    assert "<figure" not in body
    assert '<strong id="built-at">2025-03-01 00:00 UTC</strong>' in body


def test_a_query_that_fails_names_itself_and_the_command_that_shows_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "dbt" / "target"
    target.mkdir(parents=True)
    (target / "semantic_manifest.json").write_text("{}")
    error = "Got error(s) during query resolution. Error #1: Message: no metric net_revenu"

    def metricflow_child(command: Sequence[str], **_: Any) -> subprocess.CompletedProcess[str]:
        """What `warehouse.metric_queries` writes when MetricFlow rejects a query."""
        Path(command[-1]).write_text(json.dumps({"finance_dashboard.revenue": {"error": error}}))
        return subprocess.CompletedProcess(list(command), 0, "", "")

    monkeypatch.setattr(metrics, "run_child", metricflow_child)
    request = {"metrics": ["net_revenu"], "group_by": [MONTH]}
    with pytest.raises(WarehouseError) as raised:
        metrics.query_metrics({"finance_dashboard.revenue": request}, resolve_paths(tmp_path))
    assert str(raised.value) == f"MetricFlow query finance_dashboard.revenue failed: {error}"
    assert raised.value.hint == (
        "see the whole message with "
        "`warehouse metrics query --metrics net_revenu --group-by metric_time__month`"
    )
