"""The report pages of the exposures (warehouse/dashboards.py) in the demo's docs site.

Each exposure points at its page and depends on the metrics the page plots; each page draws
every chart as inline SVG, lists the numbers under it, says when it was built and how fresh
each source system it reads is, and references nothing outside the site. That the plotted
numbers are MetricFlow's is tests/semantic/test_metricflow.py's
`test_report_pages_plot_what_mf_query_returns`; the pages in a browser,
tests/docs/test_site_in_browser.py.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import BuiltWarehouse
from tests.docs.chart_tables import chart_tables
from warehouse.dashboards import DASHBOARDS, Dashboard
from warehouse.docs_site import CONTENT_SECURITY_POLICY, SITE_PAGES, docs_target_dir, format_time

pytestmark = pytest.mark.e2e

# Source systems each report must show the freshness of, whatever else its lineage reaches.
SOURCES_READ = {
    "finance_dashboard": {"shop", "payments", "fx"},
    "marketing_performance_report": {"ads", "web", "shop"},
    "logistics_operations_review": {"logistics", "shop"},
}
# The only addresses an inline SVG names: XML namespaces, which are never fetched.
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


@pytest.fixture(scope="module")
def demo(built_warehouse: BuiltWarehouse) -> BuiltWarehouse:
    assert built_warehouse.returncode == 0, built_warehouse.output[-4000:]
    return built_warehouse


@pytest.fixture(scope="module")
def manifest(demo: BuiltWarehouse) -> dict[str, Any]:
    return json.loads((docs_target_dir(demo.paths) / "manifest.json").read_text(encoding="utf-8"))


def page_html(demo: BuiltWarehouse, dashboard: Dashboard) -> str:
    return (demo.paths.docs_dir / dashboard.page).read_text(encoding="utf-8")


def test_every_exposure_points_at_its_page_and_the_metrics_it_plots(
    demo: BuiltWarehouse, manifest: dict[str, Any]
) -> None:
    exposures = {exposure["name"]: exposure for exposure in manifest["exposures"].values()}
    # every report has its page; the data scientists' notebook is no page of the site
    reports = {name for name, exposure in exposures.items() if exposure["type"] != "notebook"}
    assert reports == {dashboard.exposure for dashboard in DASHBOARDS}
    for dashboard in DASHBOARDS:
        exposure = exposures[dashboard.exposure]
        assert exposure["url"] == dashboard.page
        assert (demo.paths.docs_dir / exposure["url"]).is_file()
        # the description links to the page, for readers of dbt's docs
        assert f"]({dashboard.page})" in exposure["description"]
        metrics = {node.rsplit(".", 1)[-1] for node in exposure["depends_on"]["nodes"]}
        assert all(node.startswith("metric.") for node in exposure["depends_on"]["nodes"])
        assert metrics == dashboard.metrics, dashboard.exposure
    # the top bar of every page links each report
    assert {page for page, _ in SITE_PAGES} >= {dashboard.page for dashboard in DASHBOARDS}


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda dashboard: dashboard.exposure)
def test_report_page_draws_every_chart_with_its_numbers(
    demo: BuiltWarehouse, dashboard: Dashboard
) -> None:
    html = page_html(demo, dashboard)
    figures = re.findall(r'<figure class="chart" id="[^"]+" data-chart="([^"]+)">', html)
    assert figures == [chart.key for chart in dashboard.charts]
    tables = chart_tables(demo.paths.docs_dir / dashboard.page)
    for chart in dashboard.charts:
        figure = html.split(f'data-chart="{chart.key}"', 1)[1].split("</figure>", 1)[0]
        # vl-convert's SVG, inline, with one bar (a path in a rect mark) per plotted value
        svg = figure.split("<svg", 1)[1].split("</svg>", 1)[0]
        marks = svg.split('class="mark-rect', 1)[1].split("</g>", 1)[0]
        bars = re.findall(r"<path\b", marks)
        assert len(tables[chart.key]) >= 2, chart.key
        assert len(bars) == len(tables[chart.key]), chart.key
        # and the command that prints the same numbers
        query = dashboard.queries[chart.query]
        assert f"--metrics {','.join(query.metrics)}" in figure


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda dashboard: dashboard.exposure)
def test_report_page_says_when_it_was_built_and_how_fresh_its_sources_are(
    demo: BuiltWarehouse, dashboard: Dashboard
) -> None:
    html = page_html(demo, dashboard)
    built = re.search(r'<strong id="built-at">([^<]+)</strong>', html)
    assert built and f"page generated {built.group(1)}" in html
    generated = datetime.strptime(built.group(1), "%Y-%m-%d %H:%M UTC")
    sources = json.loads((docs_target_dir(demo.paths) / "sources.json").read_text())
    # the last load per source system: its newest table's max_loaded_at
    newest: dict[str, str] = {}
    for result in sources["results"]:
        source = result["unique_id"].split(".")[2]
        newest[source] = max(newest.get(source, ""), result["max_loaded_at"])
    rows = dict(
        re.findall(r'<tr data-source="([^"]+)"><td>[^<]*</td><td class="when">([^<]+)</td>', html)
    )
    assert rows.keys() >= SOURCES_READ[dashboard.exposure]
    assert rows.keys() <= newest.keys()
    for source, shown in rows.items():
        assert shown == format_time(datetime.fromisoformat(newest[source])), source
        assert datetime.strptime(shown, "%Y-%m-%d %H:%M UTC") <= generated


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=lambda dashboard: dashboard.exposure)
def test_report_page_names_no_other_host(demo: BuiltWarehouse, dashboard: Dashboard) -> None:
    html = page_html(demo, dashboard)
    assert f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">' in (
        html.replace("&#39;", "'")
    )
    assert set(re.findall(r"https?://[^\s\"'<>)&]+", html)) <= NAMESPACES
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=\"(?!data:)", html)
