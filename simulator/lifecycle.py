"""Replays the scheduled events that fall on a day: order statuses, charges, refunds, shipments,
carrier scans, stock movements, late rows and re-delivered files."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from simulator.inventory import Inventory
from simulator.world import World, iso


@dataclass
class DayOutput:
    """What the day's files and payouts are made of, collected while replaying the day."""

    shipment_rows: list[list] = field(default_factory=list)
    tracking_rows: list[dict] = field(default_factory=list)
    late_web_lines: list[dict] = field(default_factory=list)
    redeliveries: list[dict] = field(default_factory=list)
    # currency -> [gross amount, charge count, fees] of charges that succeeded today
    charges: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    refunds: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def replay_day(world: World, day: int, inventory: Inventory) -> DayOutput:
    """Apply every event scheduled for `day` in time order, then forget them."""
    output = DayOutput()
    events = world.db.execute(
        "select kind, due_at, payload from state.scheduled where due_day = ? order by due_at, seq",
        (day,),
    ).fetchall()
    for kind, at, payload in events:
        details = json.loads(payload)
        HANDLERS[kind](world, inventory, output, at, details)
        # Defects planned with an event count once the event reaches its system or file.
        for defect, detail in details.get("defects", ()):
            world.record_defect(defect, day, **detail)
    world.db.execute("delete from state.scheduled where due_day = ?", (day,))
    return output


def _order_status(world: World, inventory, output, at: int, payload: dict) -> None:
    world.db.execute(
        "update orders set status = ?, updated_at = ? where order_id = ?",
        (payload["status"], iso(at, payload["offset"]), payload["order_id"]),
    )
    world.db.execute(
        "insert into order_status_history (order_id, status, changed_at) values (?, ?, ?)",
        (payload["order_id"], payload["status"], iso(at)),
    )


def _succeeded(output: DayOutput, currency: str, amount: int) -> None:
    totals = output.charges[currency.upper()]
    totals[0] += amount
    totals[1] += 1
    # The processor's fee: 1.4 % plus 25 minor units per successful charge.
    totals[2] += round(amount * 0.014) + 25


def _charge(world: World, inventory, output: DayOutput, at: int, payload: dict) -> None:
    row = payload["row"]
    world.db.execute(
        "insert into api.charges (id, order_number, customer_email, amount, currency, status,"
        " payment_method, risk_score, created, updated) values (:id, :order_number,"
        " :customer_email, :amount, :currency, :status, :payment_method, :risk_score, :created,"
        " :updated)",
        row,
    )
    if row["status"] == "succeeded":
        _succeeded(output, row["currency"], payload["amount"])


def _charge_succeeded(world: World, inventory, output: DayOutput, at: int, payload: dict) -> None:
    world.db.execute(
        "update api.charges set status = 'succeeded', updated = ? where id = ?",
        (at, payload["id"]),
    )
    _succeeded(output, payload["currency"], payload["amount"])


def _charge_resend(world: World, inventory, output, at: int, payload: dict) -> None:
    # The processor re-sends an unchanged charge: it reappears after the cursor of a consumer
    # that already has it, on a later page or in a later incremental load.
    world.db.execute("update api.charges set updated = ? where id = ?", (at, payload["id"]))
    world.record_defect("resent_charge", world.day_of(at), charge_id=payload["id"])


def _refund(world: World, inventory, output, at: int, payload: dict) -> None:
    world.db.execute(
        "insert into api.refunds values (:id, :charge_id, :amount, :currency, :reason, :status,"
        " :created, :updated)",
        payload["row"],
    )


def _refund_succeeded(world: World, inventory, output: DayOutput, at: int, payload: dict) -> None:
    world.db.execute(
        "update api.refunds set status = 'succeeded', updated = ? where id = ?",
        (at, payload["id"]),
    )
    currency, amount = world.db.execute(
        "select currency, amount from api.refunds where id = ?", (payload["id"],)
    ).fetchone()
    output.refunds[currency.upper()] += amount


def _shipment(world: World, inventory: Inventory, output: DayOutput, at: int, payload) -> None:
    output.shipment_rows.append(payload["row"])
    for product_id, quantity in payload["lines"]:
        inventory.ship(payload["warehouse"], product_id, quantity)


def _tracking_row(world: World, inventory, output: DayOutput, at: int, payload: dict) -> None:
    output.tracking_rows.append(payload)


def _web_line(world: World, inventory, output: DayOutput, at: int, payload: dict) -> None:
    output.late_web_lines.append(payload)


def _release_stock(world: World, inventory: Inventory, output, at: int, payload: dict) -> None:
    for product_id, quantity in payload["lines"]:
        inventory.release(payload["warehouse"], product_id, quantity)


def _restock(world: World, inventory: Inventory, output, at: int, payload: dict) -> None:
    for product_id, quantity in payload["lines"]:
        inventory.restock(payload["warehouse"], product_id, quantity)


def _inbound_arrival(world: World, inventory: Inventory, output, at: int, payload: dict) -> None:
    inventory.receive(payload["warehouse"], payload["product_id"], payload["quantity"])


def _payout_paid(world: World, inventory, output, at: int, payload: dict) -> None:
    world.db.execute(
        "update api.payouts set status = 'paid', updated = ? where id = ?", (at, payload["id"])
    )


def _redeliver(world: World, inventory, output: DayOutput, at: int, payload: dict) -> None:
    output.redeliveries.append(payload)


HANDLERS = {
    "order_status": _order_status,
    "charge": _charge,
    "charge_succeeded": _charge_succeeded,
    "charge_resend": _charge_resend,
    "refund": _refund,
    "refund_succeeded": _refund_succeeded,
    "shipment": _shipment,
    "tracking_row": _tracking_row,
    "web_line": _web_line,
    "release_stock": _release_stock,
    "restock": _restock,
    "inbound_arrival": _inbound_arrival,
    "payout_paid": _payout_paid,
    "redeliver": _redeliver,
}
