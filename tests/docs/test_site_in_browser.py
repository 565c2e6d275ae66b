"""The docs site in a real browser: search, a model page, lineage, data quality, the bus matrix,
the star-schema ERDs and the exposures' report pages (on a laptop and a phone).

Uses Debian's Chromium (the `browser` fixture of tests/conftest.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import BuiltWarehouse
from tests.docs.test_erd import MART_RELATIONSHIPS, STAR_ENTITIES
from warehouse.dashboards import DASHBOARDS
from warehouse.docs_site import build_site, docs_target_dir, site_server
from warehouse.settings import PROJECT_DIR

SCREENSHOTS = PROJECT_DIR / "artifacts" / "screenshots"
MART_MODEL = "fct_order_lines"
# dbt's docs app parses the whole manifest and catalog before it draws anything: seconds on a
# busy machine (two test workers building warehouses beside the browser), so a fresh load of
# index.html is given longer than Playwright's default 5 s.
DBT_DOCS_STARTUP_MS = 30_000
VIEWPORTS = {"laptop": {"width": 1400, "height": 900}, "phone": {"width": 390, "height": 844}}
# The report pages' screenshots follow the walk-through's (01-12).
FIRST_REPORT_SCREENSHOT = 20


@dataclass(frozen=True)
class ServedSite:
    base_url: str
    folder: Path
    build_seconds: float


@pytest.fixture(scope="module")
def served_site(built_warehouse: BuiltWarehouse) -> Iterator[ServedSite]:
    """The site of the session's warehouse, built again here and served on a free port."""
    paths = built_warehouse.paths
    if not (paths.dbt_target_dir / "run_results.json").exists():
        pytest.fail(f"warehouse demo did not run dbt build:\n{built_warehouse.output[-2000:]}")
    started = time.monotonic()
    index = build_site(paths, quiet=True)
    build_seconds = time.monotonic() - started
    server = site_server(index.parent, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ServedSite(
            base_url=f"http://127.0.0.1:{server.server_address[1]}",
            folder=index.parent,
            build_seconds=build_seconds,
        )
    finally:
        server.shutdown()
        server.server_close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def expected_test_counts(run_results: dict) -> Counter[str]:
    """Tests per outcome, counted straight from run_results.json."""
    outcome = {"pass": "passed", "warn": "warned", "fail": "failed", "error": "failed"}
    return Counter(
        outcome.get(result["status"], "not_run")
        for result in run_results["results"]
        if result["unique_id"].startswith(("test.", "unit_test."))
    )


def test_stakeholder_walks_through_the_site(
    served_site: ServedSite, browser: Browser, built_warehouse: BuiltWarehouse
) -> None:
    paths = built_warehouse.paths
    manifest = json.loads((docs_target_dir(paths) / "manifest.json").read_text())
    run_results = json.loads((paths.dbt_target_dir / "run_results.json").read_text())
    sources = json.loads((docs_target_dir(paths) / "sources.json").read_text())
    model = manifest["nodes"][f"model.larkspur.{MART_MODEL}"]

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()

    page.goto(f"{served_site.base_url}/index.html")
    expect(page.get_by_text("Welcome!")).to_be_visible(timeout=DBT_DOCS_STARTUP_MS)
    expect(page.locator("#site-nav a", has_text="Data quality")).to_be_visible()
    expect(page.locator("#site-nav a[href='erd.html']")).to_be_visible()
    # The site's links sit between dbt's logo and its search box, covering neither.
    nav = page.locator("#site-nav").bounding_box()
    search_box = page.locator("input[ng-model='search.query']").bounding_box()
    logo = page.locator(".logo svg, .logo img").first.bounding_box()
    assert nav and search_box and logo
    assert logo["x"] + logo["width"] <= nav["x"]
    assert nav["x"] + nav["width"] <= search_box["x"]
    screenshot(page, "01_overview")

    page.fill("input[ng-model='search.query']", MART_MODEL)
    result = page.locator(".search-result h4", has_text=MART_MODEL).filter(
        has=page.get_by_text(MART_MODEL, exact=True)
    )
    expect(result).to_have_count(1)
    screenshot(page, "02_search")

    result.click()
    expect(page).to_have_url(f"{served_site.base_url}/index.html#!/model/{model['unique_id']}")
    expect(page.locator("h1").first).to_contain_text(MART_MODEL)
    description_start = " ".join(model["description"].split())[:40]
    expect(page.get_by_text(description_start).first).to_be_visible()
    columns_table = page.locator("column-details table").first
    documented = list(model["columns"])
    assert len(documented) >= 10
    for column in documented:
        expect(columns_table).to_contain_text(column)
    screenshot(page, "03_model_fct_order_lines")

    page.locator(".launcher-btn a").click()
    graph = page.locator("#cy canvas").first
    expect(graph).to_be_visible()
    page.wait_for_timeout(1500)  # cytoscape animates the layout into place
    screenshot(page, "04_lineage_graph")

    page.locator("#site-nav a", has_text="Data quality").click()
    expect(page).to_have_url(f"{served_site.base_url}/data-quality.html")
    counts = expected_test_counts(run_results)
    assert counts["passed"] > 100
    for key, css in (("passed", "passed"), ("warned", "warned"), ("failed", "failed")):
        expect(page.locator(f"#test-summary .{css}-count")).to_have_text(str(counts[key]))
    expect(page.locator("table.freshness tbody tr")).to_have_count(len(sources["results"]))
    row = page.locator(f"tr[data-model='{MART_MODEL}']")
    # A generic test belongs to the model it is attached to, a singular or unit test to the
    # first model it reads.
    tests_on_model = [
        result
        for result in run_results["results"]
        if (
            definition := manifest["nodes"].get(result["unique_id"])
            or manifest["unit_tests"].get(result["unique_id"], {})
        )
        and definition.get("resource_type") in {"test", "unit_test"}
        and (definition.get("attached_node") or definition["depends_on"]["nodes"][0])
        == model["unique_id"]
    ]
    passed_on_model = sum(result["status"] == "pass" for result in tests_on_model)
    expect(row.locator("td").nth(2)).to_have_text(str(passed_on_model))
    screenshot(page, "05_data_quality")
    page.locator("#attention, table.freshness").first.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "06_data_quality_full.png"), full_page=True)

    page.locator("header nav a", has_text="Bus matrix").click()
    expect(page).to_have_url(f"{served_site.base_url}/bus-matrix.html")
    facts = {name for names in STAR_ENTITIES.values() for name in names if name.startswith("fct_")}
    expect(page.locator("#bus-matrix tbody tr")).to_have_count(len(facts))
    expect(page.locator("tr[data-fact='fct_order_lines'] td.cell", has_text="✔")).to_have_count(5)
    screenshot(page, "07_bus_matrix")

    page.locator("header nav a", has_text="ER diagrams").click()
    expect(page).to_have_url(f"{served_site.base_url}/erd.html")
    expect(page.locator("svg.erd")).to_have_count(len(STAR_ENTITIES))
    expect(page.locator("#erd-legend")).to_be_visible()
    screenshot(page, "08_erd_page")
    for number, (mart, names) in enumerate(sorted(STAR_ENTITIES.items()), start=9):
        diagram = page.locator(f"svg.erd[data-mart='{mart}']")
        diagram.scroll_into_view_if_needed()
        expect(diagram).to_be_visible()
        for name in names:
            expect(diagram.locator(f"a.entity[data-entity='{name}']")).to_be_visible()
        lines = [rel for rel in MART_RELATIONSHIPS if {rel[0], rel[2]} <= names]
        expect(diagram.locator("g.relationship")).to_have_count(len(lines))
        diagram.screenshot(path=str(SCREENSHOTS / f"{number:02d}_erd_{mart}.png"))
    # A box opens its model's page in dbt's docs.
    page.locator(f"svg.erd[data-mart='finance'] a.entity[data-entity='{MART_MODEL}']").click()
    expect(page).to_have_url(f"{served_site.base_url}/index.html#!/model/{model['unique_id']}")
    expect(page.locator("h1").first).to_contain_text(MART_MODEL, timeout=DBT_DOCS_STARTUP_MS)
    context.close()

    assert f"{served_site.base_url}/index.html" in requested
    assert requests_elsewhere(requested) == []


def requests_elsewhere(requested: list[str]) -> list[str]:
    """The requests that went to another host than the site's."""
    return [
        url
        for url in requested
        if urlsplit(url).hostname != "127.0.0.1" and urlsplit(url).scheme not in {"data", "blob"}
    ]


@pytest.mark.parametrize("device", VIEWPORTS)
def test_report_pages_draw_every_chart(
    served_site: ServedSite, browser: Browser, device: str
) -> None:
    viewport = VIEWPORTS[device]
    context = browser.new_context(viewport=viewport, is_mobile=device == "phone")
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{served_site.base_url}/data-quality.html")
    for number, dashboard in enumerate(DASHBOARDS, start=FIRST_REPORT_SCREENSHOT):
        # every page's top bar links every report
        page.locator("header nav a", has_text=dashboard.nav_label).click()
        expect(page).to_have_url(f"{served_site.base_url}/{dashboard.page}")
        expect(page.locator("figure.chart")).to_have_count(len(dashboard.charts))
        for chart in dashboard.charts:
            figure = page.locator(f"figure[data-chart='{chart.key}']")
            figure.scroll_into_view_if_needed()
            svg = figure.locator(".chart-svg svg")
            expect(svg).to_be_visible()
            # drawn: bars in the SVG, and a chart as wide as its card, inside the screen
            assert svg.locator(".mark-rect path").count() > 0, (dashboard.page, chart.key)
            box = svg.bounding_box()
            assert box and box["width"] > 250 and box["height"] > 100, (dashboard.page, chart.key)
            assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        expect(page.locator("#source-loads tbody tr[data-source]").first).to_be_visible()
        # nothing wider than the screen: no sideways scrolling on a phone
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.evaluate("window.scrollTo(0, 0)")
        name = dashboard.page.removesuffix(".html").replace("-", "_")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{number:02d}_{name}_{device}.png"), full_page=True)
    context.close()
    assert errors == []
    assert requests_elsewhere(requested) == []
