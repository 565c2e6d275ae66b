"""The simulator's data: deterministic, at the scaled volumes, consistent across systems."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import sqlite3
from collections import Counter
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from simulator import DefectRates, SimulatorError, simulate

DAYS = 60
SCALE = 0.01


def fingerprint(sources: Path) -> dict[str, str]:
    """A hash per file (databases: per table, of its sorted rows)."""
    hashes = {}
    for path in sorted(sources.rglob("*")):
        if path.is_file() and path.suffix != ".sqlite":
            hashes[str(path.relative_to(sources))] = hashlib.sha256(path.read_bytes()).hexdigest()
    for database in ("shop.sqlite", "api.sqlite", "simulator_state.sqlite"):
        with sqlite3.connect(sources / database) as connection:
            tables = connection.execute("select name from sqlite_master where type = 'table'")
            for (table,) in tables.fetchall():
                rows = connection.execute(f"select * from {table} order by 1, 2").fetchall()
                hashes[f"{database}:{table}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return hashes


def web_lines(sources: Path) -> list[tuple[str, int, str]]:
    """(file name, 1-based line number, text) of every line of every web export."""
    lines = []
    for path in sorted((sources / "web").glob("events_*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            lines.extend(
                (path.name, number, line.rstrip("\n")) for number, line in enumerate(stream, 1)
            )
    return lines


def csv_rows(sources: Path, source: str) -> list[tuple[str, int, list[str], list[str]]]:
    """(file name, 1-based line number, header, fields) of every data row of a logistics CSV."""
    delimiter, encoding = (";", "cp1252") if source == "tracking" else (",", "utf-8")
    rows = []
    for path in sorted((sources / "logistics" / source).glob("*.csv")):
        reader = csv.reader(io.StringIO(path.read_bytes().decode(encoding)), delimiter=delimiter)
        header = next(reader)
        rows.extend((path.name, number, header, fields) for number, fields in enumerate(reader, 2))
    return rows


def shop(simulated: object) -> sqlite3.Connection:
    return sqlite3.connect(simulated.sources / "shop.sqlite")


def api(simulated: object) -> sqlite3.Connection:
    return sqlite3.connect(simulated.sources / "api.sqlite")


def test_result_describes_the_run(sixty_days: object) -> None:
    result = sixty_days.result
    assert (result.first_day, result.last_day, result.days) == (
        date(2025, 1, 1),
        date(2025, 3, 1),
        DAYS,
    )
    assert (result.seed, result.scale) == (42, SCALE)
    assert result.rows["logistics.inventory"] == sum(
        pq.read_metadata(path).num_rows
        for path in (sixty_days.sources / "logistics" / "inventory").glob("*.parquet")
    )
    assert len(list((sixty_days.sources / "web").glob("events_*.jsonl.gz"))) == DAYS


def test_split_runs_give_byte_identical_data(
    sixty_days: object, sixty_days_in_two_runs: object
) -> None:
    first, second = fingerprint(sixty_days.sources), fingerprint(sixty_days_in_two_runs.sources)
    assert len(first) > 250
    assert [key for key in first if first[key] != second.get(key)] == []
    assert first.keys() == second.keys()
    assert sixty_days_in_two_runs.result.first_day == date(2025, 1, 21)


def test_another_seed_gives_other_data(tmp_path: Path, sixty_days: object) -> None:
    other = simulate(tmp_path, 2, seed=7, scale=SCALE).sources_dir
    ours = sixty_days.sources / "web" / "events_2025-01-01.jsonl.gz"
    assert (other / "web" / ours.name).read_bytes() != ours.read_bytes()


def test_continuing_with_other_settings_is_a_clear_error(tmp_path: Path) -> None:
    simulate(tmp_path, 1, scale=0.002)
    with pytest.raises(SimulatorError, match=r"scale=0.002, not 0.5.*another data folder"):
        simulate(tmp_path, 1, scale=0.5)
    with pytest.raises(SimulatorError, match="seed=42, not 1"):
        simulate(tmp_path, 1, seed=1)
    with pytest.raises(SimulatorError, match="at least 1"):
        simulate(tmp_path, 0)
    with pytest.raises(SimulatorError, match="between 0 and 1"):
        DefectRates(late_web_event=2.0)
    assert simulate(tmp_path, 1, scale=0.002, seed=42).first_day == date(2025, 1, 2)


def test_volumes_follow_the_scale(sixty_days: object) -> None:
    expected_orders = 1_000_000 * SCALE * DAYS / 365
    with shop(sixty_days) as connection:
        orders, lines, units = connection.execute(
            "select count(distinct order_id), count(*), sum(quantity) from order_lines"
        ).fetchone()
        products = connection.execute("select count(*) from products").fetchone()[0]
        countries = dict(
            connection.execute("select country_code, count(*) from addresses group by 1").fetchall()
        )
    assert 0.85 * expected_orders < orders < 1.15 * expected_orders
    assert 2.1 < lines / orders < 2.8
    assert units > lines
    assert 150 < products < 250
    assert {"DE", "FR", "NL", "GB", "US", "SE"} <= set(countries)
    tables = sixty_days.truth["tables"]
    expected_events = 20_000_000 * SCALE * DAYS / 365
    assert 0.85 * expected_events < tables["web.events"]["entities"] < 1.15 * expected_events
    shipments = tables["logistics.shipments"]["entities"]
    assert 0.85 * orders < shipments < orders
    assert 4 < tables["logistics.tracking"]["entities"] / shipments < 6.5
    assert tables["logistics.inventory"]["rows"] >= 3 * products * DAYS * 0.9


def test_orders_add_up_and_follow_their_lifecycle(sixty_days: object) -> None:
    with shop(sixty_days) as connection:
        unbalanced = connection.execute(
            "select count(*) from orders where abs(subtotal_amount - discount_amount"
            " + shipping_amount + tax_amount - total_amount) > 0.005"
        ).fetchone()[0]
        bad_lines = connection.execute(
            "select count(*) from order_lines where abs(quantity * unit_price - discount_amount"
            " + tax_amount - line_total) > 0.005"
        ).fetchone()[0]
        statuses = dict(connection.execute("select status, count(*) from orders group by 1"))
        histories = connection.execute(
            "select group_concat(status, '>') from (select order_id, status from"
            " order_status_history order by order_id, changed_at, status_history_id)"
            " group by order_id"
        ).fetchall()
        currencies = dict(
            connection.execute("select currency_code, count(*) from orders group by 1").fetchall()
        )
    assert (unbalanced, bad_lines) == (0, 0)
    # Orders placed in the last minutes of the last day may still wait for their payment.
    assert set(statuses) - {"pending"} == {"paid", "shipped", "delivered", "cancelled", "returned"}
    assert statuses.get("pending", 0) < 5
    assert statuses["delivered"] > statuses["shipped"] > statuses["returned"]
    allowed = {
        "pending",
        "pending>paid>shipped>delivered",
        "pending>paid>shipped>delivered>returned",
        "pending>paid>shipped",
        "pending>paid",
        "pending>paid>cancelled",
        "pending>cancelled",
    }
    assert {history for (history,) in histories} <= allowed
    assert set(currencies) == {"EUR", "GBP", "USD"}


def test_systems_quote_each_other_consistently(sixty_days: object) -> None:
    with shop(sixty_days) as connection:
        order_numbers = {
            number for (number,) in connection.execute("select order_number from orders")
        }
        ever_paid = {
            number
            for (number,) in connection.execute(
                "select order_number from orders join order_status_history using (order_id)"
                " where order_status_history.status = 'paid'"
            )
        }
    with api(sixty_days) as connection:
        charge_orders = {
            number for (number,) in connection.execute("select order_number from charges")
        }
        charge_ids = {charge_id for (charge_id,) in connection.execute("select id from charges")}
        refund_charges = {c for (c,) in connection.execute("select charge_id from refunds")}
        utm_campaigns = {u for (u,) in connection.execute("select utm_campaign from campaigns")}
    assert charge_orders <= order_numbers
    assert refund_charges <= charge_ids

    shipments = csv_rows(sixty_days.sources, "shipments")
    shipped_orders = {fields[1] for _, _, header, fields in shipments if len(fields) == len(header)}
    assert shipped_orders - {""} <= ever_paid
    shipment_ids = {fields[0] for *_, fields in shipments}
    tracked = {
        fields[1]
        for *_, header, fields in csv_rows(sixty_days.sources, "tracking")
        if len(fields) == len(header)
    }
    assert tracked <= shipment_ids

    completed, campaigns_seen = set(), set()
    for _, _, line in web_lines(sixty_days.sources):
        if '"order_completed"' in line and line.endswith("}"):
            completed.add(line.split('"order_number":"')[1].split('"')[0])
        if '"utm_campaign":"' in line and line.endswith("}"):
            campaigns_seen.add(line.split('"utm_campaign":"')[1].split('"')[0])
    assert completed <= order_numbers
    assert len(completed) > 0.85 * len(order_numbers)
    assert campaigns_seen and campaigns_seen <= utm_campaigns


def test_payouts_net_charges_of_the_day_less_fees(sixty_days: object) -> None:
    with api(sixty_days) as connection:
        payouts = connection.execute(
            "select currency, amount, fee_amount, charge_count, status, arrival_date from payouts"
        ).fetchall()
        succeeded = connection.execute(
            "select count(*) from charges where status = 'succeeded'"
        ).fetchone()[0]
    assert {currency for currency, *_ in payouts} == {"eur", "gbp", "usd"}
    assert sum(count for _, _, _, count, _, _ in payouts) == succeeded
    # Refunds can exceed a quiet day's charges in a small currency: such payouts are negative.
    assert sum(amount > 0 for _, amount, *_ in payouts) > 0.9 * len(payouts)
    for _, _, fee, count, status, arrival in payouts:
        assert fee >= 25 * count
        assert status == ("paid" if arrival <= "2025-03-01" else "in_transit")


def test_every_defect_kind_occurs_near_its_rate(sixty_days: object) -> None:
    truth = sixty_days.truth
    defects = {kind: entry["count"] for kind, entry in truth["defects"].items()}
    assert all(count > 0 for count in defects.values()), defects
    for kind, entry in truth["defects"].items():
        assert entry["count"] == len(entry["items"]), kind
    tables = truth["tables"]
    events = tables["web.events"]["entities"]
    tracking = tables["logistics.tracking"]["entities"]
    rates = DefectRates()
    checks = {
        "duplicate_web_event": (events, rates.duplicate_web_event),
        "late_web_event": (events, rates.late_web_event),
        "malformed_web_line": (events, rates.malformed_web_line),
        "duplicate_tracking_event": (tracking, rates.duplicate_tracking_event),
        "late_tracking_event": (tracking, rates.late_tracking_event),
        "null_charge_amount": (tables["payments.charges"]["entities"], rates.null_required_field),
    }
    for kind, (population, rate) in checks.items():
        assert 0.6 * rate < defects[kind] / population < 1.5 * rate, kind


def test_web_defects_are_where_the_ground_truth_says(sixty_days: object) -> None:
    truth = sixty_days.truth["defects"]
    lines = web_lines(sixty_days.sources)
    by_position = {(name, number): text for name, number, text in lines}
    occurrences = Counter(text[13:49] for _, _, text in lines if text.endswith("}"))
    for item in truth["malformed_web_line"]["items"]:
        broken = by_position[(item["file"], item["line"])]
        assert not broken.endswith("}") and item["event_id"] in broken
    for item in truth["duplicate_web_event"]["items"]:
        assert occurrences[item["event_id"]] == 2
    late_files = {name: text for name, _, text in lines}
    for item in truth["late_web_event"]["items"][:50]:
        if item["file"] in late_files:
            assert any(item["event_id"] in text for name, _, text in lines if name == item["file"])
    assert sum(1 for _ in lines) == sixty_days.truth["tables"]["web.events"]["rows"]


def test_logistics_defects_are_where_the_ground_truth_says(sixty_days: object) -> None:
    truth = sixty_days.truth["defects"]
    for source in ("shipments", "tracking"):
        rows = {
            (name, number): (header, fields)
            for name, number, header, fields in csv_rows(sixty_days.sources, source)
        }
        for item in truth[f"malformed_{source}_row"]["items"]:
            header, fields = rows[(item["file"], item["line"])]
            assert len(fields) != len(header) and fields[0] == item["id"]
    shipments = {fields[0]: fields for *_, fields in csv_rows(sixty_days.sources, "shipments")}
    for item in truth["null_shipment_order_number"]["items"]:
        assert shipments[item["shipment_id"]][1] == ""
    tracking_ids = Counter(fields[0] for *_, fields in csv_rows(sixty_days.sources, "tracking"))
    for item in truth["duplicate_tracking_event"]["items"]:
        assert tracking_ids[item["tracking_event_id"]] == 2
    codes = {fields[3] for *_, fields in csv_rows(sixty_days.sources, "tracking")}
    assert {item["event_code"] for item in truth["unknown_tracking_event_code"]["items"]} <= codes
    for item in truth["redelivered_file"]["items"]:
        folder = "tracking" if item["file"].startswith("tracking") else "shipments"
        content = (sixty_days.sources / "logistics" / folder / item["file"]).read_bytes()
        assert all(missing.encode() in content for missing in item["missing_ids"])


def test_api_and_shop_defects_are_where_the_ground_truth_says(sixty_days: object) -> None:
    truth = sixty_days.truth["defects"]
    with api(sixty_days) as connection:
        for item in truth["null_charge_amount"]["items"]:
            amount = connection.execute(
                "select amount from charges where id = ?", (item["charge_id"],)
            ).fetchone()
            assert amount == (None,)
        reasons = dict(connection.execute("select id, reason from refunds"))
        for item in truth["unknown_refund_reason"]["items"]:
            assert reasons[item["refund_id"]] == item["reason"] == reasons[item["refund_id"]]
            assert item["reason"] not in {"requested_by_customer", "duplicate", "fraudulent"}
        resent = connection.execute(
            "select count(*) from charges where id in ({}) and updated - created >= 86400".format(
                ",".join("?" * len(truth["resent_charge"]["items"]))
            ),
            [item["charge_id"] for item in truth["resent_charge"]["items"]],
        ).fetchone()[0]
        assert resent == len({item["charge_id"] for item in truth["resent_charge"]["items"]})
    with shop(sixty_days) as connection:
        deleted = [item["customer_id"] for item in truth["hard_deleted_customer"]["items"]]
        marks = ",".join("?" * len(deleted))
        assert (
            connection.execute(
                f"select count(*) from customers where customer_id in ({marks})", deleted
            ).fetchone()[0]
            == 0
        )
        assert (
            connection.execute(
                f"select count(*) from addresses where customer_id in ({marks})", deleted
            ).fetchone()[0]
            == 0
        )
        local = [
            item["key"] for item in truth["mixed_offset"]["items"] if item["table"] == "orders"
        ]
        stamps = connection.execute(
            f"select ordered_at from orders where order_id in ({','.join('?' * len(local))})",
            local,
        ).fetchall()
        assert stamps and all(stamp[19:] in ("+01:00", "+00:00", "-05:00") for (stamp,) in stamps)


def test_schema_change_starts_on_its_day(sixty_days: object) -> None:
    shipments = sixty_days.sources / "logistics" / "shipments"
    before = (shipments / "shipments_2025-02-14.csv").read_text().splitlines()[0]
    after = (shipments / "shipments_2025-02-15.csv").read_text().splitlines()[0]
    assert "shipping_cost" in before and "freight_cost" not in before
    assert "freight_cost" in after and "shipping_cost" not in after
    change = 1739577600  # 2025-02-15T00:00:00Z, day 45
    with api(sixty_days) as connection:
        early = connection.execute(
            "select count(*), count(risk_score) from charges where created < ?", (change,)
        ).fetchone()
        late = connection.execute(
            "select count(*), count(risk_score) from charges where created >= ?", (change,)
        ).fetchone()
    assert early[0] > 0 and early[1] == 0
    assert late[0] > 0 and late[1] == late[0]
    assert sixty_days.truth["schema_change"]["date"] == "2025-02-15"


def test_fx_rates_are_business_days_near_their_anchors(sixty_days: object) -> None:
    with api(sixty_days) as connection:
        rates = connection.execute("select rate_date, currency, rate from fx_rates").fetchall()
    days = {date.fromisoformat(day) for day, _, _ in rates}
    assert all(day.weekday() < 5 for day in days) and date(2025, 1, 1) not in days
    assert len(days) == 42
    assert all(
        0.95 < rate / {"USD": 1.08, "GBP": 0.85}[currency] < 1.05 for _, currency, rate in rates
    )
