"""Run several MetricFlow queries in one process through MetricFlow's Python API.

Usage: ``python -m warehouse.metric_queries REQUESTS_JSON RESULTS_JSON``, in the folder
`warehouse.metrics.prepare_metricflow_project` makes (the one `warehouse metrics` runs `mf` in),
with ``DBT_PROJECT_DIR`` and ``DBT_PROFILES_DIR`` pointing at it. The first file maps a name to
one query, ``{"revenue": {"metrics": ["net_revenue"], "group_by": ["metric_time__month"]}}``;
the second receives, per name, the column names and rows of its result (dates as ISO strings,
decimals as floats), or the one line that says why it failed.

The engine is the one `mf query` builds (dbt-metricflow's `CLIConfiguration`): the same
semantic manifest, the same SQL, the same warehouse connection, so a number read here and one
`mf query` prints cannot differ. Importing it costs seconds; every query after the first costs
a fraction of one. The process ends when done, which releases dbt-duckdb's hold on the
warehouse file.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from warehouse.metrics import disable_update_check


def json_value(value: object) -> object:
    """A result cell as JSON can hold it: ISO dates, floats for decimals."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def run_queries(requests: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, Any]]:
    """Each named request's columns and rows, or its error."""
    disable_update_check()
    from dbt_metricflow.cli.cli_configuration import CLIConfiguration
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    configuration = CLIConfiguration()
    configuration.setup(configure_file_logging=False)
    results: dict[str, dict[str, Any]] = {}
    for name, request in requests.items():
        query = MetricFlowQueryRequest.create(
            metric_names=request["metrics"],
            group_by_names=request.get("group_by") or None,
            order_by_names=request.get("group_by") or None,
        )
        try:
            table = configuration.mf.query(query).result_df
        except Exception as error:  # any failure is reported per query, with its cause
            results[name] = {"error": " ".join(str(error).split())[:500]}
            continue
        results[name] = {
            "columns": list(table.column_names),
            "rows": [[json_value(value) for value in row] for row in table.rows],
        }
    return results


def main() -> None:
    requests_file, results_file = Path(sys.argv[1]), Path(sys.argv[2])
    requests = json.loads(requests_file.read_text(encoding="utf-8"))
    results = run_queries(requests)
    # a file, not stdout: dbt's and MetricFlow's loggers may write to stdout
    results_file.write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    main()
