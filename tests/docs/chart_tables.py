"""The numbers under each chart of a report page (warehouse/dashboards.py), as the page shows them.

Each chart is a ``<figure data-chart="...">`` whose ``table.chart-data`` has a row per plotted
value: its category (a month, a carrier, a funnel step), its series when the chart has one,
and the value, exact in the cell's ``data-value``.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path


@dataclass(frozen=True)
class PlottedValue:
    category: str
    series: str | None
    value: float


class ChartTablesParser(HTMLParser):
    """Collects each chart's rows of (cell texts, data-value)."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: dict[str, list[PlottedValue]] = {}
        self.chart: str | None = None
        self.in_table = False
        self.cells: list[str] = []
        self.cell: list[str] | None = None
        self.value: float | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "figure" and attributes.get("data-chart"):
            self.chart = attributes["data-chart"]
            self.charts[self.chart] = []
        elif tag == "table" and "chart-data" in (attributes.get("class") or ""):
            self.in_table = True
        elif self.in_table and tag == "tr":
            self.cells, self.value = [], None
        elif self.in_table and tag == "td":
            self.cell = []
            if attributes.get("data-value") is not None:
                self.value = float(attributes["data-value"] or "nan")

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            self.cells.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.in_table and self.value is not None and self.chart:
            labels = self.cells[:-1]
            series = labels[1] if len(labels) > 1 else None
            self.charts[self.chart].append(PlottedValue(labels[0], series, self.value))
            self.value = None
        elif tag == "table":
            self.in_table = False
        elif tag == "figure":
            self.chart = None


def chart_tables(page: Path) -> dict[str, list[PlottedValue]]:
    """Per chart key, the values its table lists, in the page's order."""
    parser = ChartTablesParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.charts
