"""The data-quality page builder on small hand-written dbt artefacts."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import dbt
import pytest

from warehouse.docs_site import (
    localise_dbt_page,
    render_data_quality,
    site_server,
    summarise_data_quality,
)
from warehouse.errors import WarehouseError

FCT = "model.larkspur.fct_orders"
DIM = "model.larkspur.dim_customer"


def model(unique_id: str, folder: str, description: str = "") -> dict:
    name = unique_id.rsplit(".", 1)[-1]
    return {
        "unique_id": unique_id,
        "name": name,
        "resource_type": "model",
        "fqn": ["larkspur", *folder.split("/"), name],
        "original_file_path": f"models/{folder}/{name}.sql",
        "description": description,
        "columns": {},
    }


def generic_test(name: str, attached: str, column: str, parents: list[str], **kwargs) -> dict:
    return {
        "unique_id": f"test.larkspur.{name}",
        "name": name,
        "resource_type": "test",
        "attached_node": attached,
        "column_name": column,
        "depends_on": {"nodes": parents},
        "test_metadata": {"name": name.split("_", 1)[0], "kwargs": kwargs},
    }


MANIFEST = {
    "nodes": {
        FCT: model(FCT, "marts/finance", "Grain: one order. Amounts in EUR."),
        DIM: model(DIM, "marts/core", "One row per customer version."),
        "test.larkspur.unique_orders": generic_test("unique_orders", FCT, "order_sk", [FCT]),
        "test.larkspur.notnull_orders": generic_test("notnull_orders", FCT, "order_id", [FCT]),
        "test.larkspur.relationships_orders": generic_test(
            "relationships_orders",
            FCT,
            "customer_sk",
            [DIM, FCT],
            column_name="customer_sk",
            field="customer_sk",
        ),
        "test.larkspur.unique_customer": generic_test("unique_customer", DIM, "customer_sk", [DIM]),
    },
    "sources": {
        "source.larkspur.shop.orders": {
            "name": "orders",
            "source_name": "shop",
            "resource_type": "source",
            "freshness": {"warn_after": {"count": 1, "period": "day"}},
        }
    },
    "unit_tests": {
        "unit_test.larkspur.fct_orders.converts_to_eur": {
            "name": "converts_to_eur",
            "resource_type": "unit_test",
            "model": "fct_orders",
            "depends_on": {"nodes": [FCT]},
        }
    },
}
RUN_RESULTS = {
    "metadata": {"generated_at": "2026-03-02T06:00:00.000000Z"},
    "elapsed_time": 42.0,
    "args": {"which": "build"},
    "results": [
        {"unique_id": FCT, "status": "success", "message": "OK"},
        {"unique_id": DIM, "status": "success", "message": "OK"},
        {"unique_id": "test.larkspur.unique_orders", "status": "pass", "failures": 0},
        {
            "unique_id": "test.larkspur.notnull_orders",
            "status": "fail",
            "failures": 17,
            "message": "Got 17 results, configured to fail if != 0",
        },
        {
            "unique_id": "test.larkspur.relationships_orders",
            "status": "warn",
            "failures": 3,
            "message": "Got 3 results, configured to warn if != 0",
        },
        {"unique_id": "test.larkspur.unique_customer", "status": "pass", "failures": 0},
        {"unique_id": "unit_test.larkspur.fct_orders.converts_to_eur", "status": "pass"},
    ],
}
SOURCES = {
    "metadata": {"generated_at": "2026-03-02T06:05:00Z"},
    "results": [
        {
            "unique_id": "source.larkspur.shop.orders",
            "status": "warn",
            "max_loaded_at": "2026-02-28T18:05:00+00:00",
            "max_loaded_at_time_ago_in_s": 129600.0,
            "criteria": {"warn_after": {"count": 1, "period": "day"}, "error_after": {}},
        }
    ],
}
NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def test_tests_are_counted_per_model_with_failing_rows() -> None:
    report = summarise_data_quality(MANIFEST, RUN_RESULTS, SOURCES)

    by_name = {node.name: node for node in report.nodes}
    orders = by_name["fct_orders"]
    assert (orders.passed, orders.warned, orders.failed) == (2, 1, 1)
    assert orders.failing_rows == 20
    assert orders.build_status == "success"
    assert orders.description == "Grain: one order."
    customers = by_name["dim_customer"]
    assert (customers.passed, customers.warned, customers.failed) == (1, 0, 0)
    assert report.test_counts == {"passed": 3, "warned": 1, "failed": 1, "not_run": 0}
    assert [node.group for node in report.nodes] == ["marts/core", "marts/finance"]

    [freshness] = report.freshness
    assert (freshness.source, freshness.table, freshness.status) == ("shop", "orders", "warn")
    assert freshness.max_loaded_at == datetime(2026, 2, 28, 18, 5, tzinfo=UTC)
    assert (freshness.warn_after, freshness.error_after) == ("1 day", "")


def test_page_shows_counts_failures_and_freshness() -> None:
    page = render_data_quality(summarise_data_quality(MANIFEST, RUN_RESULTS, SOURCES), NOW)

    assert '<strong class="passed-count">3</strong>' in page
    assert '<strong class="failed-count">1</strong>' in page
    assert "notnull on order_id" in page
    assert "Got 17 results, configured to fail if != 0" in page
    assert '<td class="number">17</td>' in page
    assert "2026-02-28 18:05 UTC" in page
    assert '<td class="number">36 h 0 min</td>' in page
    assert "page generated 2026-03-02 07:00 UTC" in page
    assert 'href="index.html"' in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_page_without_a_build_or_freshness_says_what_to_do() -> None:
    report = summarise_data_quality(MANIFEST, None, None, "dbt source freshness did not run: x")
    page = render_data_quality(report, NOW)

    assert report.nodes == []
    assert "No dbt build has run yet: run <code>warehouse build</code>." in page
    assert "dbt source freshness did not run: x" in page


def test_text_from_the_artefacts_is_escaped_on_the_page() -> None:
    results = {
        **RUN_RESULTS,
        "results": [
            {**result, "message": '<script>alert("x")</script> & more'}
            if result["unique_id"] == "test.larkspur.notnull_orders"
            else result
            for result in RUN_RESULTS["results"]
        ],
    }
    page = render_data_quality(summarise_data_quality(MANIFEST, results, SOURCES), NOW)

    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in page
    assert page.count("<html") == 1 and page.count("<header>") == 1


def test_dbt_page_loses_its_external_requests() -> None:
    template = Path(dbt.__path__[0]) / "task" / "docs" / "index.html"
    page = localise_dbt_page(template.read_text(encoding="utf-8"))

    for host in ("cloudfront.net", "sinter-collect.com", "fuzzed.getdbt.com"):
        assert host not in page
    assert "${require(" not in page
    assert 'http-equiv="Content-Security-Policy"' in page
    assert '<nav id="site-nav"' in page and 'href="data-quality.html"' in page
    assert 'href="bus-matrix.html"' in page and 'href="erd.html"' in page


def test_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>site</p>")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(WarehouseError, match=r"cannot serve the docs on 127\.0\.0\.1"):
            site_server(tmp_path, taken.getsockname()[1])
