"""The three reports of the exposures, as pages of the docs site, drawn from the semantic layer.

Each `Dashboard` belongs to one exposure of ``models/marts/_marts__exposures.yml`` (whose
``url`` is the page) and lists MetricFlow queries and the charts drawn from them. Every number
on a page is a metric of ``models/semantic/``, queried when the site is built: all queries of
all pages run in one process (`warehouse.metrics.query_metrics`), so a chart and
``warehouse metrics query`` read the same engine and cannot disagree. Altair translates a
chart into Vega-Lite and vl-convert draws it as SVG, offline; the page inlines the SVG, and a
table under each chart holds the numbers it plots.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import altair as alt
import vl_convert
from markupsafe import Markup

from warehouse.metrics import metrics_command

MONTH = "metric_time__month"
# How a chart's numbers read: EUR, a share, a count, days.
Unit = Literal["eur", "percent", "count", "days"]
# The shopping funnel, from a session to an order: each step a subset of the one before.
FUNNEL_STEPS = (
    "web_sessions",
    "sessions_with_product_view",
    "sessions_with_add_to_cart",
    "sessions_with_checkout",
    "converted_sessions",
)
# How a dimension is named on a page; MetricFlow's names (entity__dimension) otherwise.
DIMENSION_LABELS = {
    MONTH: "Month",
    "geography__country_code": "Shipping country",
    "payment__payment_method": "Payment method",
    "channel__channel_name": "Channel",
    "carrier__carrier_name": "Carrier",
    "warehouse__warehouse_code": "Warehouse",
}
# What an empty dimension value means on a page (the unknown member of a dimension).
EMPTY_LABEL = "unknown"
# Vega-Lite (d3) formats for axes, and Python's for the tables under the charts.
AXIS_FORMATS: dict[Unit, str] = {"eur": ",~r", "percent": ".1~%", "count": ",~r", "days": ",~r"}
TABLE_FORMATS: dict[Unit, str] = {
    "eur": "{:,.2f}",
    "percent": "{:.2%}",
    "count": "{:,.0f}",
    "days": "{:,.1f}",
}
# The plot's size inside the SVG. The page scales the SVG to its card, at most 600 px wide
# (site.css): drawn small, a chart keeps legible text when a phone shrinks it.
CHART_WIDTH = 340
CHART_HEIGHT = 220
# Vega-Lite's categorical default, named: a series is coloured by its place in the sorted values.
PALETTE = "tableau10"
# vl-convert measures text with the machine's fonts and the browser draws it with the
# reader's: one family present for both (Debian's DejaVu, or Verdana, cut alike) keeps a long
# label inside the space measured for it.
FONT = "DejaVu Sans, Verdana, sans-serif"
# The site's blue, for a chart of one series.
BAR_COLOUR = "#1f5f8b"


@dataclass(frozen=True)
class MetricQuery:
    """One MetricFlow query: metrics by dimensions (`mf query --metrics ... --group-by ...`)."""

    metrics: tuple[str, ...]
    group_by: tuple[str, ...] = ()

    def request(self) -> dict[str, list[str]]:
        return {"metrics": list(self.metrics), "group_by": list(self.group_by)}

    def command(self) -> str:
        """The `warehouse metrics` command that prints the same numbers."""
        return metrics_command(self.request())


@dataclass(frozen=True)
class Chart:
    """A chart of one query's result.

    By month (``category`` = metric_time__month): columns per month. By another dimension:
    a horizontal bar per value. Without a category, each metric is a step of a funnel.
    ``series`` colours the marks, stacked when they are parts of a whole.
    """

    key: str
    title: str
    query: str
    metrics: tuple[str, ...]
    unit: Unit
    category: str | None = None
    series: str | None = None
    stacked: bool = False
    # the value axis's title; the metric's label when the chart plots one metric
    value_title: str | None = None


@dataclass(frozen=True)
class Dashboard:
    """A report page: its exposure, its file in the site, its queries and charts."""

    exposure: str
    page: str
    nav_label: str
    queries: Mapping[str, MetricQuery]
    charts: tuple[Chart, ...]

    @property
    def metrics(self) -> set[str]:
        """Every metric the page plots."""
        return {metric for chart in self.charts for metric in chart.metrics}


@dataclass(frozen=True)
class Point:
    """One plotted value, as the chart and its table show it."""

    category: str
    series: str | None
    value: float


@dataclass(frozen=True)
class DrawnChart:
    """A chart ready for the page: its SVG, the values it plots and how to query them."""

    chart: Chart
    svg: Markup
    points: list[Point]
    command: str
    category_title: str
    value_title: str

    @property
    def series_title(self) -> str | None:
        series = self.chart.series
        return DIMENSION_LABELS.get(series, series) if series else None

    def formatted(self, value: float) -> str:
        return TABLE_FORMATS[self.chart.unit].format(value)


FINANCE = Dashboard(
    exposure="finance_dashboard",
    page="finance-dashboard.html",
    nav_label="Finance",
    queries={
        "revenue": MetricQuery(("net_revenue",), (MONTH, "geography__country_code")),
        "payments": MetricQuery(("refund_rate", "payout_fees", "payout_fee_rate"), (MONTH,)),
        "payment_methods": MetricQuery(("charged_amount",), (MONTH, "payment__payment_method")),
    },
    charts=(
        Chart(
            "net-revenue-by-country",
            "Net revenue by month and shipping country (EUR)",
            "revenue",
            ("net_revenue",),
            "eur",
            category=MONTH,
            series="geography__country_code",
            stacked=True,
        ),
        Chart(
            "refund-rate", "Refund rate by month", "payments", ("refund_rate",), "percent", MONTH
        ),
        Chart(
            "payments-by-method",
            "Payments (succeeded charges) by month and method (EUR)",
            "payment_methods",
            ("charged_amount",),
            "eur",
            category=MONTH,
            series="payment__payment_method",
            stacked=True,
        ),
        Chart(
            "payout-fees", "Payout fees by month (EUR)", "payments", ("payout_fees",), "eur", MONTH
        ),
        Chart(
            "payout-fee-rate",
            "Payout fees as a share of what the payouts settle",
            "payments",
            ("payout_fee_rate",),
            "percent",
            MONTH,
        ),
    ),
)

MARKETING = Dashboard(
    exposure="marketing_performance_report",
    page="marketing-performance-report.html",
    nav_label="Marketing",
    queries={
        "channels": MetricQuery(("ad_spend", "roas", "cac"), (MONTH, "channel__channel_name")),
        "traffic": MetricQuery(("web_sessions", "conversion_rate"), (MONTH,)),
        "funnel": MetricQuery(FUNNEL_STEPS),
    },
    charts=(
        Chart(
            "ad-spend",
            "Ad spend by channel and month (EUR)",
            "channels",
            ("ad_spend",),
            "eur",
            category=MONTH,
            series="channel__channel_name",
            stacked=True,
        ),
        Chart(
            "roas",
            "ROAS by channel and month (EUR of revenue per EUR spent)",
            "channels",
            ("roas",),
            "count",
            category=MONTH,
            series="channel__channel_name",
        ),
        Chart(
            "cac",
            "CAC by channel and month (EUR per new customer)",
            "channels",
            ("cac",),
            "eur",
            category=MONTH,
            series="channel__channel_name",
        ),
        Chart("sessions", "Web sessions by month", "traffic", ("web_sessions",), "count", MONTH),
        Chart(
            "conversion-rate",
            "Conversion rate by month",
            "traffic",
            ("conversion_rate",),
            "percent",
            MONTH,
        ),
        Chart(
            "funnel",
            "Conversion funnel: sessions reaching each step, whole period",
            "funnel",
            FUNNEL_STEPS,
            "count",
            value_title="Sessions",
        ),
    ),
)

LOGISTICS = Dashboard(
    exposure="logistics_operations_review",
    page="logistics-operations-review.html",
    nav_label="Logistics",
    queries={
        "carriers": MetricQuery(
            ("on_time_delivery_rate", "average_transit_days", "cost_per_shipment"),
            ("carrier__carrier_name", "warehouse__warehouse_code"),
        ),
        "stock": MetricQuery(
            ("stock_out_days", "days_of_cover"),
            (MONTH, "warehouse__warehouse_code"),
        ),
    },
    charts=(
        Chart(
            "on-time-rate",
            "On-time delivery rate by carrier and warehouse",
            "carriers",
            ("on_time_delivery_rate",),
            "percent",
            category="carrier__carrier_name",
            series="warehouse__warehouse_code",
        ),
        Chart(
            "transit-days",
            "Average transit days by carrier and warehouse",
            "carriers",
            ("average_transit_days",),
            "days",
            category="carrier__carrier_name",
            series="warehouse__warehouse_code",
        ),
        Chart(
            "cost-per-shipment",
            "Shipping cost per shipment by carrier and warehouse (EUR)",
            "carriers",
            ("cost_per_shipment",),
            "eur",
            category="carrier__carrier_name",
            series="warehouse__warehouse_code",
        ),
        Chart(
            "stock-out-days",
            "Stock-out days (product-days without stock) by month and warehouse",
            "stock",
            ("stock_out_days",),
            "count",
            category=MONTH,
            series="warehouse__warehouse_code",
        ),
        Chart(
            "days-of-cover",
            "Days of cover at the month's last snapshot, by warehouse",
            "stock",
            ("days_of_cover",),
            "days",
            category=MONTH,
            series="warehouse__warehouse_code",
        ),
    ),
)

DASHBOARDS = (FINANCE, MARKETING, LOGISTICS)


def metric_requests(dashboards: Iterable[Dashboard] = DASHBOARDS) -> dict[str, dict[str, Any]]:
    """Every query of every page, named `<exposure>.<query>`, for one MetricFlow process."""
    return {
        f"{dashboard.exposure}.{name}": query.request()
        for dashboard in dashboards
        for name, query in dashboard.queries.items()
    }


def month_label(value: str) -> str:
    """`Jan 2025` from MetricFlow's `2025-01-01T00:00:00`."""
    return f"{datetime.fromisoformat(value):%b %Y}"


def dimension_label(dimension: str, value: object) -> str:
    if value is None or value == "":
        return EMPTY_LABEL
    return month_label(str(value)) if dimension == MONTH else str(value)


def chart_points(
    chart: Chart, result: Mapping[str, Any], metric_labels: Mapping[str, str]
) -> list[Point]:
    """The values a chart plots, from its query's columns and rows; empty metric values are
    left out (a ratio without a denominator)."""
    columns = result["columns"]
    points = []
    for values in result["rows"]:
        row = dict(zip(columns, values, strict=True))
        for metric in chart.metrics:
            if row[metric] is None:
                continue
            category = (
                dimension_label(chart.category, row[chart.category])
                if chart.category
                else metric_labels.get(metric, metric)
            )
            series = dimension_label(chart.series, row[chart.series]) if chart.series else None
            points.append(Point(category, series, float(row[metric])))
    return points


def axis_label(chart: Chart, point: Point) -> str:
    """A mark's place on the category axis: a horizontal bar names its series too (few
    carriers serve more than one warehouse, so side-by-side slots would be mostly empty)."""
    if chart.category != MONTH and point.series is not None:
        return f"{point.category} · {point.series}"
    return point.category


def vega_lite_chart(chart: Chart, points: list[Point], value_title: str) -> alt.Chart:
    """Altair's description of a chart: columns by month, or horizontal bars."""
    values = [
        {"category": axis_label(chart, point), "series": point.series, "value": point.value}
        for point in points
    ]
    # the data's own order: months in time order, funnel steps in funnel order
    order = list(dict.fromkeys(value["category"] for value in values))
    horizontal = chart.category != MONTH
    value_channel, category_channel = (alt.X, alt.Y) if horizontal else (alt.Y, alt.X)
    number_format = AXIS_FORMATS[chart.unit]
    value = value_channel(
        "value:Q",
        title=value_title,
        axis=alt.Axis(format=number_format),
        stack="zero" if chart.stacked else None,
    )
    category = category_channel(
        "category:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=180)
    )
    encoding: dict[str, Any] = (
        {"x": value, "y": category} if horizontal else {"x": category, "y": value}
    )
    if chart.series:
        encoding["color"] = alt.Color(
            "series:N",
            title=DIMENSION_LABELS.get(chart.series, chart.series),
            scale=alt.Scale(scheme=PALETTE),
            legend=alt.Legend(orient="bottom", columns=4),
        )
        if not (horizontal or chart.stacked):
            encoding["xOffset"] = alt.XOffset("series:N")
    return (
        alt.Chart(alt.Data(values=values))
        .mark_bar(color=alt.Undefined if chart.series else BAR_COLOUR)
        .encode(**encoding)
        .properties(width=CHART_WIDTH, height=CHART_HEIGHT)
        .configure(font=FONT)
        .configure_axis(labelFontSize=12, titleFontSize=12)
        .configure_legend(labelFontSize=12, titleFontSize=12)
        .configure_view(stroke=None)
    )


def draw(
    dashboard: Dashboard,
    results: Mapping[str, Mapping[str, Any]],
    metric_labels: Mapping[str, str],
) -> list[DrawnChart]:
    """Every chart of a page, drawn as SVG from the results of `metric_requests`."""
    drawn = []
    for chart in dashboard.charts:
        result = results[f"{dashboard.exposure}.{chart.query}"]
        points = chart_points(chart, result, metric_labels)
        # the funnel's category is the step; a chart of one metric is titled by its label
        value_title = chart.value_title or metric_labels.get(chart.metrics[0], chart.metrics[0])
        category_title = DIMENSION_LABELS.get(chart.category, chart.category or "Step")
        # vl-convert escapes the data it writes into the SVG: the page inlines it as it is
        svg = Markup(
            vl_convert.vegalite_to_svg(
                vega_lite_chart(chart, points, value_title).to_dict(),
                # the data is inline: nothing may be fetched while drawing
                allowed_base_urls=[],
            )
        )
        query = dashboard.queries[chart.query]
        drawn.append(DrawnChart(chart, svg, points, query.command(), category_title, value_title))
    return drawn
