"""The stakeholder docs site: dbt's static docs, data quality, the bus matrix and the ERDs.

`build_site` writes one self-contained folder (`<data_dir>/docs`) that any web host can serve:

- ``index.html``: dbt's single-file static docs, rewritten so that it makes no request to
  another host (dbt's page carries a Snowplow tracker and a template favicon path; a
  Content-Security-Policy keeps anything else, such as an image in a model description, local).
- ``data-quality.html``: per model, its tests passed / warned / failed with failing-row counts
  from each node's latest build result (`warehouse.dbt.read_latest_results`: a ``--select``
  build updates only the nodes it ran), and source freshness from ``sources.json``.
- one page per exposure (``finance-dashboard.html``, ...; `warehouse.dashboards`): its charts,
  drawn from MetricFlow queries run in one process when the site is built, with the last load
  of each source system the report reads.
- ``bus-matrix.html``: facts x conformed dimensions, and ``erd.html``: one entity-relationship
  diagram per mart (inline SVG drawn by D2), both from dbterd's reading of the
  ``relationships`` tests (`warehouse.relationships`, `warehouse.erd`); ``erd/<mart>.mmd`` and
  ``erd/<mart>.dbml`` hold dbterd's text of each.

Every page is a Jinja2 template of ``warehouse/templates/`` (`warehouse.templating`), escaped by
default; ``base.html`` holds the top bar that links the pages.

dbt's docs and freshness commands run with their own target folder (`<data_dir>/dbt/docs`):
both write ``run_results.json``, which must not pass for a build's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from markupsafe import Markup

from warehouse.dashboards import (
    DASHBOARDS,
    Dashboard,
    draw,
    metric_requests,
)
from warehouse.dbt import dbt_command, read_latest_results, run_dbt_process
from warehouse.erd import (
    ERD_FOLDER,
    ERD_PAGE,
    build_erd,
    model_href,
    render_bus_matrix,
    render_erd_page,
)
from warehouse.errors import WarehouseError
from warehouse.metrics import query_metrics
from warehouse.settings import Paths
from warehouse.templating import render

DATA_QUALITY_PAGE = "data-quality.html"
BUS_MATRIX_PAGE = "bus-matrix.html"
SITE_PAGES = (
    ("index.html", "Documentation"),
    (DATA_QUALITY_PAGE, "Data quality"),
    (BUS_MATRIX_PAGE, "Bus matrix"),
    (ERD_PAGE, "ER diagrams"),
    *((dashboard.page, dashboard.nav_label) for dashboard in DASHBOARDS),
)

# The browser enforces this for every copy of the site: scripts, styles, fonts and images may
# come only from the page itself (inline, data: URIs) or its own host.
CONTENT_SECURITY_POLICY = (
    "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "form-action 'none'; base-uri 'none'"
)
FAVICON = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E"
    "%3Crect width='16' height='16' rx='3' fill='%23ff694b'/%3E%3C/svg%3E"
)

# What dbt's page would fetch from elsewhere, and what the copy says instead. The tracker only
# starts when the manifest allows anonymous usage statistics (ours does not); the rewrite makes
# that independent of configuration.
DBT_PAGE_REWRITES = {
    # Snowplow: the tracker script from a CDN, its collector, and the URL it reports.
    "!0===e.track&&r.turn_on_tracking()": "!1",
    "//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js": "",
    "fishtownanalytics.sinter-collect.com": "",
    "https://fuzzed.getdbt.com/": "",
    # An unrendered template expression: the browser would request it as a relative path.
    "href=\"${require('./assets/favicons/favicon.ico')}\"": f'href="{FAVICON}"',
    # Icon fonts and an image that the single-file page references but does not contain.
    'url("../fonts/arrows/arrows.woff")': "none",
    'url("../fonts/entypo/entypo.woff")': "none",
    'url("../img/carets/down.svg")': "none",
    # The sidebar's icons: before Angular interpolates the attribute the browser fetches the
    # raw template as a URL; ng-attr sets SVG 2's plain href only once it has a value.
    '<use xlink:href="{{ getIcon(': '<use ng-attr-href="{{ getIcon(',
}
EXTERNAL_HOSTS_IN_DBT_PAGE = (
    "d1fc8wv8zag5ca.cloudfront.net",
    "sinter-collect.com",
    "fuzzed.getdbt.com",
)

# Right of dbt's logo (some 125 px wide), over the start of dbt's header (from 300 px), whose
# search box templates/dbt_head.html moves right to make room.
SITE_NAV_STYLE = (
    "position:fixed;top:25px;left:140px;z-index:10000;display:flex;gap:4px;"
    "font:600 12px/1 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,sans-serif"
)
SITE_NAV_LINK_STYLE = (
    "background:#fff;color:#0f3a5a;border:1px solid #c9d3dd;border-radius:14px;"
    "padding:7px 8px;text-decoration:none;box-shadow:0 1px 3px rgba(0,0,0,.12)"
)
SITE_NAV_LABELS = {ERD_PAGE: "ERDs"}

TEST_STATUSES_PASSED = {"pass"}
TEST_STATUSES_FAILED = {"fail", "error", "runtime error"}
MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# A source's freshness is its worst table's: any stale table makes the source's reports stale.
FRESHNESS_SEVERITY = ("pass", "warn", "error", "runtime error")
# Stakeholders read the marts first; the layers below them follow in pipeline order, reversed.
LAYER_ORDER = ("marts", "snapshots", "ods", "staging", "seeds")


def docs_target_dir(paths: Paths) -> Path:
    """dbt's target folder for the docs and freshness commands, apart from the build's."""
    return paths.data_dir / "dbt" / "docs"


def build_site(
    paths: Paths,
    *,
    target: str | None = None,
    quiet: bool = False,
    freshness_results: Path | None = None,
) -> Path:
    """Generate the docs site into ``paths.docs_dir`` and return its ``index.html``.

    Runs ``dbt docs generate --static`` and ``dbt source freshness`` (a freshness failure is
    shown on the data-quality page, not raised), then writes the four pages, dbterd's text and
    the report pages (a failed MetricFlow query is shown on them, not raised).
    With ``freshness_results``, the ``sources.json`` of a freshness check just run (the
    Airflow DAG's own task), the site shows that check instead of running another.
    """
    target_dir = docs_target_dir(paths)
    generated = run_dbt_into(["docs", "generate", "--static"], paths, target_dir, target, quiet)
    static_page = target_dir / "static_index.html"
    if generated.returncode != 0 or not static_page.exists():
        raise WarehouseError(
            "dbt docs generate failed: " + last_lines(generated, 2),
            hint="run `warehouse build` first and fix what it reports",
        )
    sources_file = target_dir / "sources.json"
    # A stale sources.json must never pass for this run's freshness.
    sources_file.unlink(missing_ok=True)
    freshness_problem = None
    if freshness_results is not None and freshness_results.exists():
        shutil.copyfile(freshness_results, sources_file)
    else:
        freshness = run_dbt_into(["source", "freshness"], paths, target_dir, target, quiet)
        if not sources_file.exists():
            freshness_problem = "dbt source freshness did not run: " + last_lines(freshness, 2)

    manifest = read_json(target_dir / "manifest.json")
    run_results = read_latest_results(paths, target)
    sources = read_json(sources_file) if sources_file.exists() else None
    now = datetime.now(UTC)

    paths.docs_dir.mkdir(parents=True, exist_ok=True)
    index = paths.docs_dir / "index.html"
    write_atomically(index, localise_dbt_page(static_page.read_text(encoding="utf-8")))
    report = summarise_data_quality(manifest, run_results, sources, freshness_problem)
    write_atomically(paths.docs_dir / DATA_QUALITY_PAGE, render_data_quality(report, now))
    site_erd = build_erd(target_dir, manifest, paths.docs_dir / ERD_FOLDER)
    matrix_subtitle = "Which business processes (facts) share which dimensions"
    write_atomically(
        paths.docs_dir / BUS_MATRIX_PAGE,
        page("Bus matrix", matrix_subtitle, render_bus_matrix(site_erd.erd), now, erd_style=True),
    )
    erd_subtitle = "How the tables of each mart's star schema join"
    write_atomically(
        paths.docs_dir / ERD_PAGE,
        page("ER diagrams", erd_subtitle, render_erd_page(site_erd.stars), now, erd_style=True),
    )
    write_dashboards(paths, manifest, report.freshness, now, target)
    return index


def run_dbt_into(
    args: list[str], paths: Paths, target_dir: Path, target: str | None, quiet: bool
) -> subprocess.CompletedProcess[str]:
    """Run one dbt command like `warehouse.dbt.run_dbt`, but with its artefacts in target_dir."""
    command = dbt_command(args, paths, target, target_dir)
    return run_dbt_process(command, paths, capture=quiet)


def last_lines(completed: subprocess.CompletedProcess[str], count: int) -> str:
    """The last non-empty lines a captured command printed, or where to find them."""
    output = (completed.stdout or "") + (completed.stderr or "")
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return "; ".join(lines[-count:]) or f"exit code {completed.returncode}, see dbt's log"


def read_json(path: Path) -> dict[str, Any]:
    """A dbt artefact, with a clear error when it is unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise WarehouseError(
            f"cannot read dbt artefact {path}: {error}",
            hint="run `warehouse build`, then `warehouse docs` again",
        ) from error


def write_atomically(path: Path, text: str) -> None:
    """Replace a page in one step, so that a server never hands out half a file."""
    partial_file = path.with_name(path.name + ".partial")
    partial_file.write_text(text, encoding="utf-8")
    os.replace(partial_file, path)


def localise_dbt_page(page: str) -> str:
    """dbt's static page without requests to other hosts, with links to the site's pages."""
    for original, replacement in DBT_PAGE_REWRITES.items():
        page = page.replace(original, replacement)
    head = render("dbt_head.html", content_security_policy=CONTENT_SECURITY_POLICY)
    # The charset declaration stays first.
    page = page.replace('<meta charset="utf-8">', '<meta charset="utf-8">' + head, 1)
    page = page.replace("<title>dbt Docs</title>", "<title>Larkspur warehouse docs</title>", 1)
    nav = render(
        "site_nav.html",
        nav_style=SITE_NAV_STYLE,
        link_style=SITE_NAV_LINK_STYLE,
        links=[(href, label, SITE_NAV_LABELS.get(href, label)) for href, label in SITE_PAGES[1:]],
    )
    # Outside dbt's Angular view, so that the app's templates stay untouched.
    return page.replace("<body>", "<body>" + nav, 1)


# --- data quality ---------------------------------------------------------------------------


@dataclass
class TestOutcome:
    """One data or unit test of the last build."""

    unique_id: str
    label: str
    status: str
    failing_rows: int | None
    message: str | None


@dataclass
class NodeQuality:
    """A model (or seed, snapshot, source) with its build status and its tests."""

    unique_id: str
    name: str
    group: str
    description: str
    build_status: str | None = None
    build_message: str | None = None
    tests: list[TestOutcome] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(test.status in TEST_STATUSES_PASSED for test in self.tests)

    @property
    def warned(self) -> int:
        return sum(test.status == "warn" for test in self.tests)

    @property
    def failed(self) -> int:
        return sum(test.status in TEST_STATUSES_FAILED for test in self.tests)

    @property
    def not_run(self) -> int:
        return sum(test.status == "skipped" for test in self.tests)

    @property
    def failing_rows(self) -> int:
        """Rows that failed or warned, summed over this node's tests."""
        return sum(test.failing_rows or 0 for test in self.tests if test.status != "pass")


@dataclass
class SourceFreshness:
    """One source table's freshness check."""

    source: str
    table: str
    status: str
    max_loaded_at: datetime | None
    age_seconds: float | None
    warn_after: str
    error_after: str
    message: str | None


@dataclass
class DataQualityReport:
    """What the data-quality page shows."""

    command: str | None
    results_generated_at: datetime | None
    elapsed_seconds: float | None
    nodes: list[NodeQuality]
    freshness: list[SourceFreshness]
    freshness_checked_at: datetime | None
    freshness_problem: str | None

    @property
    def test_counts(self) -> Counter[str]:
        """Tests per outcome (passed, warned, failed, not run) over all nodes."""
        counts: Counter[str] = Counter()
        for node in self.nodes:
            counts.update(
                passed=node.passed, warned=node.warned, failed=node.failed, not_run=node.not_run
            )
        return counts


def summarise_data_quality(
    manifest: dict[str, Any],
    run_results: dict[str, Any] | None,
    sources: dict[str, Any] | None,
    freshness_problem: str | None = None,
) -> DataQualityReport:
    """Group the last run's test results by the node they test, and read source freshness."""
    tested_things = {
        **manifest.get("nodes", {}),
        **manifest.get("sources", {}),
        **manifest.get("unit_tests", {}),
    }
    nodes: dict[str, NodeQuality] = {}

    def node_for(unique_id: str) -> NodeQuality:
        if unique_id not in nodes:
            definition = tested_things.get(unique_id, {})
            nodes[unique_id] = NodeQuality(
                unique_id=unique_id,
                name=definition.get("name") or unique_id.rsplit(".", 1)[-1],
                group=node_group(definition),
                description=first_sentence(definition.get("description") or ""),
            )
        return nodes[unique_id]

    for result in (run_results or {}).get("results", []):
        unique_id = result["unique_id"]
        definition = tested_things.get(unique_id, {})
        kind = definition.get("resource_type") or unique_id.split(".", 1)[0]
        message = (result.get("message") or "").strip() or None
        if kind in {"test", "unit_test"}:
            tested = tested_node_id(definition)
            if tested is None:
                continue
            node_for(tested).tests.append(
                TestOutcome(
                    unique_id=unique_id,
                    label=test_label(definition, unique_id),
                    status=result.get("status", "unknown"),
                    failing_rows=result.get("failures"),
                    message=message,
                )
            )
        elif kind in {"model", "seed", "snapshot"}:
            node = node_for(unique_id)
            node.build_status = result.get("status")
            node.build_message = message if node.build_status != "success" else None

    metadata = (run_results or {}).get("metadata", {})
    return DataQualityReport(
        command=(run_results or {}).get("args", {}).get("which"),
        results_generated_at=parse_time(metadata.get("generated_at")),
        elapsed_seconds=(run_results or {}).get("elapsed_time"),
        nodes=sorted(nodes.values(), key=node_sort_key),
        freshness=source_freshness(manifest, sources),
        freshness_checked_at=parse_time((sources or {}).get("metadata", {}).get("generated_at")),
        freshness_problem=freshness_problem,
    )


def tested_node_id(definition: dict[str, Any]) -> str | None:
    """The model, seed, snapshot or source a test is attached to."""
    if definition.get("attached_node"):
        return definition["attached_node"]
    depends_on = definition.get("depends_on", {}).get("nodes", [])
    return depends_on[0] if depends_on else None


def test_label(definition: dict[str, Any], unique_id: str) -> str:
    """A readable name: `not_null on order_id` rather than dbt's generated test name."""
    if definition.get("resource_type") == "unit_test":
        return f"unit test {definition.get('name', unique_id)}"
    metadata = definition.get("test_metadata") or {}
    if metadata.get("name"):
        column = definition.get("column_name")
        return f"{metadata['name']} on {column}" if column else metadata["name"]
    return definition.get("name") or unique_id.rsplit(".", 1)[-1]


def node_group(definition: dict[str, Any]) -> str:
    """The folder a node lives in (`marts/finance`), or `sources/<name>` for a source."""
    if definition.get("resource_type") == "source":
        return f"sources/{definition.get('source_name', '')}"
    folder = Path(definition.get("original_file_path") or "").parent.as_posix()
    return folder.removeprefix("models/") if folder not in {"", "."} else "other"


def node_sort_key(node: NodeQuality) -> tuple[int, str, str]:
    layer = node.group.split("/", 1)[0]
    rank = LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER)
    return rank, node.group, node.name


def first_sentence(text: str) -> str:
    """The description's first sentence: enough for a table cell."""
    flat = " ".join(text.split())
    end = flat.find(". ")
    return flat if end == -1 else flat[: end + 1]


def parse_time(value: str | None) -> datetime | None:
    """A dbt timestamp as an aware UTC datetime (dbt writes naive UTC or offset forms)."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def source_freshness(
    manifest: dict[str, Any], sources: dict[str, Any] | None
) -> list[SourceFreshness]:
    """sources.json's results with each table's thresholds from the manifest."""
    checks = []
    for result in (sources or {}).get("results", []):
        definition = manifest.get("sources", {}).get(result["unique_id"], {})
        criteria = result.get("criteria") or definition.get("freshness") or {}
        # source.<project>.<source>.<table>
        source_name, _, table_name = result["unique_id"].split(".", 2)[-1].partition(".")
        checks.append(
            SourceFreshness(
                source=definition.get("source_name") or source_name,
                table=definition.get("name") or table_name,
                status=result.get("status", "unknown"),
                max_loaded_at=parse_time(result.get("max_loaded_at")),
                age_seconds=result.get("max_loaded_at_time_ago_in_s"),
                warn_after=threshold(criteria.get("warn_after")),
                error_after=threshold(criteria.get("error_after")),
                message=(result.get("error") or result.get("message") or None),
            )
        )
    return sorted(checks, key=lambda check: (check.source, check.table))


def threshold(rule: dict[str, Any] | None) -> str:
    """`1 day`, `12 hours`, or an empty string when there is no such threshold."""
    if not rule or not rule.get("count") or not rule.get("period"):
        return ""
    count, period = rule["count"], rule["period"]
    return f"{count} {period}" if count == 1 else f"{count} {period}s"


def human_age(seconds: float | None) -> str:
    """An age as a stakeholder says it: `45 min`, `5 h 12 min`, `3 d 4 h`."""
    if seconds is None:
        return ""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def format_time(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def page(
    title: str, subtitle: str, body: str, generated_at: datetime, *, erd_style: bool = False
) -> str:
    """A site page: the shared top bar with navigation, then `body` (HTML), and when it was
    generated (templates/base.html)."""
    return render(
        "base.html",
        title=title,
        subtitle=subtitle,
        body=Markup(body),
        generated=format_time(generated_at),
        site_pages=SITE_PAGES,
        content_security_policy=CONTENT_SECURITY_POLICY,
        favicon=FAVICON,
        erd_style=erd_style,
    )


def badge_class(status: str | None) -> str:
    """The CSS class that colours a status label."""
    if status in {"pass", "success"}:
        return "pass"
    if status == "warn":
        return "warn"
    return "fail" if status in TEST_STATUSES_FAILED else "none"


def render_data_quality(report: DataQualityReport, generated_at: datetime) -> str:
    """The data-quality page as one HTML document (templates/data_quality.html)."""
    attention = []
    for node in report.nodes:
        if node.build_status not in {None, "success"}:
            attention.append((node, "model build", node.build_status, None, node.build_message))
        for test in node.tests:
            if test.status not in TEST_STATUSES_PASSED:
                attention.append((node, test.label, test.status, test.failing_rows, test.message))
    groups: dict[str, list[NodeQuality]] = defaultdict(list)
    for node in report.nodes if report.command is not None else []:
        groups[node.group].append(node)
    body = render(
        "data_quality.html",
        report=report,
        attention=attention,
        groups=groups,
        passed_statuses=sorted(TEST_STATUSES_PASSED),
        format_time=format_time,
        human_age=human_age,
        badge_class=badge_class,
        model_href=model_href,
    )
    subtitle = "Are the numbers in the warehouse complete, current and correct?"
    return page("Data quality", subtitle, body, generated_at)


# --- dashboards ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceLoad:
    """A source system's last load, as its freshness check saw it."""

    source: str
    loaded_at: datetime | None
    age_seconds: float | None
    status: str


def latest_loads(checks: list[SourceFreshness], sources: set[str]) -> list[SourceLoad]:
    """Per source of `sources`, its newest table load and its worst table's status."""
    loads = []
    for source in sorted(sources):
        tables = [check for check in checks if check.source == source]
        if not tables:
            continue
        newest = max(
            tables, key=lambda check: check.max_loaded_at or datetime.min.replace(tzinfo=UTC)
        )
        worst = max(
            (check.status for check in tables),
            key=lambda status: (
                FRESHNESS_SEVERITY.index(status)
                if status in FRESHNESS_SEVERITY
                else len(FRESHNESS_SEVERITY)
            ),
        )
        loads.append(SourceLoad(source, newest.max_loaded_at, newest.age_seconds, worst))
    return loads


def upstream_sources(manifest: dict[str, Any], unique_id: str) -> set[str]:
    """The names of the sources a node reads, through every model, metric and semantic model."""
    parents = manifest.get("parent_map", {})
    seen: set[str] = set()
    pending = [unique_id]
    while pending:
        for parent in parents.get(pending.pop(), []):
            if parent not in seen:
                seen.add(parent)
                pending.append(parent)
    sources = manifest.get("sources", {})
    return {sources[node]["source_name"] for node in seen if node in sources}


def find_exposure(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    """An exposure of the manifest by name, with a clear error when the YAML lost it."""
    for exposure in manifest.get("exposures", {}).values():
        if exposure["name"] == name:
            return exposure
    raise WarehouseError(
        f"no exposure {name} in the dbt project, which the docs site has a page for",
        hint="restore it in models/marts/_marts__exposures.yml",
    )


def metric_definitions(paths: Paths) -> dict[str, tuple[str, str]]:
    """Each metric's label and description, from the semantic manifest MetricFlow reads."""
    manifest = read_json(paths.dbt_target_dir / "semantic_manifest.json")
    return {
        metric["name"]: (
            metric.get("label") or metric["name"],
            plain_text(metric.get("description") or ""),
        )
        for metric in manifest.get("metrics", [])
    }


def write_dashboards(
    paths: Paths,
    manifest: dict[str, Any],
    freshness: list[SourceFreshness],
    generated_at: datetime,
    target: str | None,
) -> None:
    """Query every page's metrics in one MetricFlow process, then draw and write the pages.

    Like a failed freshness check, a failed query is shown (on each report page), not raised:
    the site, its data-quality page first, is most needed when the warehouse has a problem.
    """
    try:
        results, problem = query_metrics(metric_requests(), paths, target), None
        definitions = metric_definitions(paths)
    except WarehouseError as error:
        results, definitions = {}, {}
        problem = f"{error} ({error.hint})" if error.hint else str(error)
    for dashboard in DASHBOARDS:
        exposure = find_exposure(manifest, dashboard.exposure)
        body = render_dashboard(
            dashboard, exposure, manifest, results, definitions, freshness, generated_at, problem
        )
        title = exposure.get("label") or dashboard.exposure
        owner = (exposure.get("owner") or {}).get("name") or "its owner"
        subtitle = f"{exposure.get('type', 'report').capitalize()} for {owner}"
        write_atomically(paths.docs_dir / dashboard.page, page(title, subtitle, body, generated_at))


def render_dashboard(
    dashboard: Dashboard,
    exposure: dict[str, Any],
    manifest: dict[str, Any],
    results: dict[str, dict[str, Any]],
    definitions: dict[str, tuple[str, str]],
    freshness: list[SourceFreshness],
    generated_at: datetime,
    problem: str | None = None,
) -> str:
    """One report page's body (templates/dashboard.html); without charts when `problem`."""
    owner = exposure.get("owner") or {}
    plotted = sorted(dashboard.metrics)
    labels = {name: label for name, (label, _) in definitions.items()}
    return render(
        "dashboard.html",
        description=exposure_summary(exposure.get("description") or "", dashboard.page),
        owner=" ".join(
            filter(None, (owner.get("name"), f"({owner['email']})" if owner.get("email") else None))
        ),
        maturity=exposure.get("maturity") or "unknown",
        exposure_href=model_href(exposure["unique_id"]),
        built=format_time(generated_at),
        loads=latest_loads(freshness, upstream_sources(manifest, exposure["unique_id"])),
        charts=[] if problem else draw(dashboard, results, labels),
        problem=problem,
        definitions=[(name, *definitions.get(name, (name, ""))) for name in plotted],
        format_time=format_time,
        human_age=human_age,
        badge_class=badge_class,
    )


def plain_text(markdown: str) -> str:
    """A description's Markdown as one line of text: no emphasis, code marks or link targets."""
    text = MARKDOWN_LINK.sub(r"\1", markdown)
    return " ".join(text.replace("**", "").replace("`", "").split())


def exposure_summary(description: str, page_name: str) -> str:
    """An exposure description's first paragraph without its link to the page itself."""
    first_paragraph = description.strip().split("\n\n", 1)[0]
    own_link = re.compile(r"\[[^\]]*\]\(" + re.escape(page_name) + r"\)\.?")
    return plain_text(own_link.sub("", first_paragraph))


# --- serving ---------------------------------------------------------------------------------


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves the site's files without a log line per request."""

    # dbterd's Mermaid and DBML text opens in the browser, ready to copy, instead of downloading.
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".mmd": "text/plain; charset=utf-8",
        ".dbml": "text/plain; charset=utf-8",
    }

    def log_message(self, format: str, *args: Any) -> None:
        return


def site_server(folder: Path, port: int = 8080) -> ThreadingHTTPServer:
    """An HTTP server for `folder` on 127.0.0.1:port (0 picks a free port), not yet serving.

    Call ``serve_forever()`` on it (in a thread for tests) and ``server_close()`` when done;
    ``server.server_address[1]`` is the port it listens on.
    """
    if not (folder / "index.html").exists():
        raise WarehouseError(f"no docs site in {folder}", hint="run `warehouse docs` first")
    handler = partial(QuietHandler, directory=str(folder))
    try:
        return ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as error:
        raise WarehouseError(
            f"cannot serve the docs on 127.0.0.1:{port}: {error.strerror or error}",
            hint="choose another port with --port",
        ) from error
