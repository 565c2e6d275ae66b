"""Orders: placed by customers (often via a campaign), priced in the customer's currency, and
given their whole future at once (payment, shipping, tracking, delivery, returns) as scheduled
events, so that a later day only has to replay what falls on it."""

from __future__ import annotations

import random
from dataclasses import dataclass

from simulator.ads import Campaign
from simulator.config import (
    COUNTRIES,
    HUBS,
    ORDERS_PER_YEAR,
    PROMISED_TRANSIT_DAYS,
    UNKNOWN_REFUND_REASONS,
    UNKNOWN_TRACKING_CODES,
    WAREHOUSES,
    WEEKDAY_FACTORS,
)
from simulator.customers import Customer, load_customer, pick_customer
from simulator.fx import latest_rates
from simulator.inventory import Inventory, popularity
from simulator.world import SECONDS_PER_DAY, World, iso, money, poisson, random_token

# Relative order volume per hour of the day (UTC): quiet nights, busy evenings.
HOURLY_WEIGHTS = (
    1.0,
    0.6,
    0.4,
    0.3,
    0.3,
    0.4,
    0.7,
    1.1,
    1.6,
    2.0,
    2.2,
    2.3,
    2.4,
    2.3,
    2.2,
    2.2,
    2.3,
    2.6,
    3.0,
    3.4,
    3.6,
    3.2,
    2.5,
    1.6,
)
LINE_COUNT_WEIGHTS = (25, 30, 22, 13, 10)
PAYMENT_METHODS = (("card", 0.65), ("paypal", 0.22), ("klarna", 0.13))
HOUR = 3600


@dataclass(frozen=True)
class PlacedOrder:
    """What the web analytics of the order's session needs to know."""

    order_id: int
    order_number: str
    customer: Customer
    ordered_at: int
    product_ids: tuple[int, ...]
    campaign: Campaign | None
    tracked: bool


@dataclass(frozen=True)
class Catalogue:
    """The day's sellable products with their prices and cumulative popularity weights."""

    product_ids: list[int]
    prices_eur: dict[int, float]
    weights_kg: dict[int, float]
    cumulative_weights: list[float]

    @property
    def total_popularity(self) -> float:
        return self.cumulative_weights[-1] if self.cumulative_weights else 1.0


def load_catalogue(world: World) -> Catalogue:
    """The active products as of now."""
    rows = world.db.execute(
        "select product_id, list_price_eur, weight_kg from products where status = 'active' "
        "order by product_id"
    ).fetchall()
    cumulative, running = [], 0.0
    for product_id, _, _ in rows:
        running += popularity(world.settings.seed, product_id)
        cumulative.append(running)
    return Catalogue(
        product_ids=[row[0] for row in rows],
        prices_eur={row[0]: row[1] for row in rows},
        weights_kg={row[0]: row[2] for row in rows},
        cumulative_weights=cumulative,
    )


def place_orders(
    world: World,
    day: int,
    inventory: Inventory,
    catalogue: Catalogue,
    campaigns: list[Campaign],
    new_customers: list[tuple[int, int]],
) -> list[PlacedOrder]:
    """The day's orders: some new customers buy at once, the rest are returning customers."""
    rng = world.rng(day, "orders")
    start = world.day_start(day)
    calendar_day = world.date_of(day)
    expected = (
        ORDERS_PER_YEAR * world.settings.scale / 365 * WEEKDAY_FACTORS[calendar_day.weekday()]
    )
    target = poisson(rng, expected)

    buyers: list[tuple[int, Customer]] = []
    for customer_id, signed_up_at in new_customers:
        moment = signed_up_at + rng.randrange(120, 1800)
        if rng.random() < 0.5 and moment < start + SECONDS_PER_DAY:
            customer = load_customer(world, customer_id)
            if customer is not None:
                buyers.append((moment, customer))
    for _ in range(max(0, target - len(buyers))):
        customer = pick_customer(world, rng)
        if customer is None:
            break
        hour = rng.choices(range(24), HOURLY_WEIGHTS)[0]
        buyers.append((start + hour * HOUR + rng.randrange(HOUR), customer))
    buyers.sort(key=lambda buyer: (buyer[0], buyer[1].customer_id))

    rates = latest_rates(world, calendar_day)
    discounts = world.db.execute(
        "select discount_id, discount_code, discount_type, discount_value from discounts "
        "where valid_from <= ? and valid_to >= ? order by discount_id",
        (calendar_day.isoformat(), calendar_day.isoformat()),
    ).fetchall()
    budgets = [campaign.daily_budget for campaign in campaigns]
    placed = []
    for ordered_at, customer in buyers:
        order = _place_order(
            world, rng, day, inventory, catalogue, customer, ordered_at, rates, discounts
        )
        if order is None:
            continue
        order_id, product_ids = order
        campaign = rng.choices(campaigns, budgets)[0] if campaigns and rng.random() < 0.35 else None
        placed.append(
            PlacedOrder(
                order_id,
                f"LK-{order_id:07d}",
                customer,
                ordered_at,
                product_ids,
                campaign,
                tracked=rng.random() < 0.92,
            )
        )
    return placed


def _place_order(world, rng, day, inventory, catalogue, customer, ordered_at, rates, discounts):
    """Insert one order with its lines and plan its future; None if nothing is in stock."""
    _, currency, vat, local_offset, _, warehouse = COUNTRIES[customer.country_code]
    wanted = rng.choices(range(1, 6), LINE_COUNT_WEIGHTS)[0]
    lines: list[tuple[int, int]] = []
    for product_id in rng.choices(
        catalogue.product_ids, cum_weights=catalogue.cumulative_weights, k=wanted
    ):
        quantity = rng.choices((1, 2, 3), (0.8, 0.15, 0.05))[0]
        already = any(product_id == line[0] for line in lines)
        if not already and inventory.available(warehouse, product_id) >= quantity:
            lines.append((product_id, quantity))
    if not lines:
        return None

    discount = None
    if discounts and rng.random() < 0.12:
        discount = rng.choice(discounts)
    unit_prices = {
        product_id: round(catalogue.prices_eur[product_id] * rates[currency] * 100)
        for product_id, _ in lines
    }
    subtotal = sum(unit_prices[product_id] * quantity for product_id, quantity in lines)
    discount_total = 0
    if discount is not None:
        _, _, kind, value = discount
        discount_total = (
            round(subtotal * value / 100)
            if kind == "percent"
            else min(subtotal, round(value * 100))
        )
    order_id = world.next_id("order")
    offset = local_offset if world.has_mixed_offset("orders", order_id) else None
    stamp = iso(ordered_at, offset)
    line_rows, tax_total, allocated = [], 0, 0
    first_line_id = world.next_id("order_line", len(lines))
    for index, (product_id, quantity) in enumerate(lines):
        amount = unit_prices[product_id] * quantity
        # Spread the order discount over the lines; the last line takes the rounding rest.
        if index == len(lines) - 1:
            line_discount = discount_total - allocated
        else:
            line_discount = round(discount_total * amount / subtotal)
        allocated += line_discount
        tax = round((amount - line_discount) * vat)
        tax_total += tax
        line_rows.append(
            (
                first_line_id + index,
                order_id,
                product_id,
                quantity,
                money(unit_prices[product_id]),
                money(line_discount),
                money(tax),
                money(amount - line_discount + tax),
                stamp,
                stamp,
            )
        )
        inventory.reserve(warehouse, product_id, quantity)
    express = rng.random() < 0.1
    shipping = 995 if express else (0 if subtotal >= 7500 else 495)
    total = subtotal - discount_total + shipping + tax_total
    world.db.execute(
        "insert into orders values (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            order_id,
            f"LK-{order_id:07d}",
            customer.customer_id,
            customer.shipping_address_id,
            customer.billing_address_id,
            discount[0] if discount else None,
            currency,
            money(subtotal),
            money(discount_total),
            money(shipping),
            money(tax_total),
            money(total),
            stamp,
            stamp,
        ),
    )
    world.db.executemany("insert into order_lines values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", line_rows)
    world.db.execute(
        "insert into order_status_history (order_id, status, changed_at) values (?, 'pending', ?)",
        (order_id, iso(ordered_at)),
    )
    if offset is not None:
        world.record_defect("mixed_offset", day, table="orders", key=order_id)
    _plan_order(
        world,
        rng,
        day,
        OrderPlan(
            order_id,
            customer,
            currency,
            total,
            shipping,
            warehouse,
            express,
            lines,
            ordered_at,
            offset,
            sum(catalogue.weights_kg[p] * q for p, q in lines),
        ),
    )
    return order_id, tuple(product_id for product_id, _ in lines)


@dataclass(frozen=True)
class OrderPlan:
    """The facts the future of an order depends on."""

    order_id: int
    customer: Customer
    currency: str
    total: int
    shipping: int
    warehouse: str
    express: bool
    lines: list[tuple[int, int]]
    ordered_at: int
    offset: int | None
    weight_kg: float

    @property
    def order_number(self) -> str:
        return f"LK-{self.order_id:07d}"


def _status(world: World, plan: OrderPlan, at: int, status: str) -> None:
    world.schedule(
        at, "order_status", {"order_id": plan.order_id, "status": status, "offset": plan.offset}
    )


def _charge(world, rng, day, plan: OrderPlan, at: int, status: str, method: str) -> str:
    charge_id = random_token(rng, "ch_")
    amount = plan.total
    defects = world.settings.defects
    found = []
    if world.hit("null_charge_amount", defects.null_required_field, rng):
        amount = None
        found.append(("null_charge_amount", {"charge_id": charge_id}))
    row = {
        "id": charge_id,
        "order_number": plan.order_number,
        "customer_email": plan.customer.email,
        "amount": amount,
        "currency": plan.currency.lower(),
        "status": status,
        "payment_method": method,
        # The processor started scoring fraud risk on the scheduled schema-change day.
        "risk_score": (
            round(rng.betavariate(1.3, 9) * 100)
            if world.day_of(at) >= world.settings.schema_change_day
            else None
        ),
        "created": at,
        "updated": at,
    }
    world.schedule(at, "charge", {"row": row, "amount": plan.total, "defects": found})
    if world.hit("resent_charge", defects.resent_charge, rng):
        resent_at = at + rng.randrange(SECONDS_PER_DAY, 2 * SECONDS_PER_DAY)
        world.schedule(resent_at, "charge_resend", {"id": charge_id})
    return charge_id


def _refund(
    world, rng, day, plan: OrderPlan, at: int, charge_id: str, amount: int, reason: str
) -> None:
    refund_id = random_token(rng, "re_")
    found = []
    if world.hit("unknown_refund_reason", world.settings.defects.unknown_refund_reason, rng):
        reason = rng.choice(UNKNOWN_REFUND_REASONS)
        found.append(("unknown_refund_reason", {"refund_id": refund_id, "reason": reason}))
    row = {
        "id": refund_id,
        "charge_id": charge_id,
        "amount": amount,
        "currency": plan.currency.lower(),
        "reason": reason,
        "status": "pending",
        "created": at,
        "updated": at,
    }
    world.schedule(at, "refund", {"row": row, "defects": found})
    world.schedule(at + rng.randrange(HOUR, 20 * HOUR), "refund_succeeded", {"id": refund_id})


def _release(world: World, plan: OrderPlan, at: int) -> None:
    world.schedule(at, "release_stock", {"warehouse": plan.warehouse, "lines": plan.lines})


def _plan_order(world: World, rng: random.Random, day: int, plan: OrderPlan) -> None:
    """Schedule everything that will happen to an order after it was placed."""
    method = rng.choices([m for m, _ in PAYMENT_METHODS], [w for _, w in PAYMENT_METHODS])[0]
    at = plan.ordered_at
    outcome = rng.random()
    if outcome < 0.025:
        for _ in range(rng.randint(1, 2)):
            at += rng.randrange(30, 600)
            _charge(world, rng, day, plan, at, "failed", method)
        at += rng.randrange(HOUR // 2, 3 * HOUR)
        _status(world, plan, at, "cancelled")
        _release(world, plan, at)
        return
    if outcome < 0.08:
        at += rng.randrange(20, 90)
        _charge(world, rng, day, plan, at, "failed", method)
        at += rng.randrange(60, 900)
    else:
        at += rng.randrange(15, 120)
    if method == "klarna":
        charge_id = _charge(world, rng, day, plan, at, "pending", method)
        at += rng.randrange(600, HOUR)
        world.schedule(
            at,
            "charge_succeeded",
            {"id": charge_id, "amount": plan.total, "currency": plan.currency},
        )
    else:
        charge_id = _charge(world, rng, day, plan, at, "succeeded", method)
    paid_at = at
    _status(world, plan, paid_at, "paid")

    if rng.random() < 0.02:
        cancelled_at = paid_at + rng.randrange(HOUR // 2, 6 * HOUR)
        reason = "fraudulent" if rng.random() < 0.15 else "requested_by_customer"
        _status(world, plan, cancelled_at, "cancelled")
        _release(world, plan, cancelled_at)
        _refund(world, rng, day, plan, cancelled_at + 300, charge_id, plan.total, reason)
        return

    _plan_shipment(world, rng, day, plan, paid_at, charge_id)


def _plan_shipment(world, rng, day, plan: OrderPlan, paid_at: int, charge_id: str) -> None:
    """Shipping 0-2 days after payment, carrier scans over the next days, delivery, returns."""
    warehouse_city, warehouse_country, cost_currency, carriers = WAREHOUSES[plan.warehouse]
    ship_day = world.day_of(paid_at) + rng.choices((0, 1, 2), (0.45, 0.4, 0.15))[0]
    shipped_at = world.day_start(ship_day) + rng.randrange(8 * HOUR, 18 * HOUR)
    if shipped_at < paid_at + HOUR:
        # Paid after the warehouse's last pick of the day: it goes out the next working shift.
        shipped_at = world.day_start(ship_day + 1) + rng.randrange(8 * HOUR, 18 * HOUR)
    carrier = rng.choices([c for c, _ in carriers], [w for _, w in carriers])[0]
    service = "express" if plan.express else "standard"
    shipment_id = f"SHP-{world.next_id('shipment'):08d}"
    cost_rate = {"EUR": 1.0, "GBP": 0.85, "USD": 1.08}[cost_currency]
    cost = (4.2 + 0.55 * plan.weight_kg + (5.5 if plan.express else 0)) * cost_rate
    order_number, found = plan.order_number, []
    if world.hit("null_shipment_order_number", world.settings.defects.null_required_field, rng):
        order_number = None
        found.append(
            (
                "null_shipment_order_number",
                {"shipment_id": shipment_id, "order_number": plan.order_number},
            )
        )
    units = sum(quantity for _, quantity in plan.lines)
    world.schedule(
        shipped_at,
        "shipment",
        {
            "row": [
                shipment_id,
                order_number,
                plan.warehouse,
                carrier,
                service,
                iso(shipped_at),
                1 + units // 4,
                round(plan.weight_kg, 2),
                round(cost, 2),
                cost_currency,
                plan.customer.country_code,
                plan.customer.postcode,
            ],
            "warehouse": plan.warehouse,
            "lines": plan.lines,
            "defects": found,
        },
    )
    _status(world, plan, shipped_at, "shipped")

    country = plan.customer.country_code
    scans: list[tuple[int, str, str, str]] = []
    picked_up = shipped_at + rng.randrange(HOUR // 2, 3 * HOUR)
    scans.append((picked_up, "PICKED_UP", warehouse_city, warehouse_country))
    transit = PROMISED_TRANSIT_DAYS[carrier][1 if plan.express else 0]
    punctuality = rng.random()
    if punctuality < 0.12:
        transit += rng.randint(1, 3)
    elif punctuality < 0.2:
        transit = max(1, transit - 1)
    first_day = world.day_of(picked_up)
    for offset in range(1, transit):
        scans.append(
            (
                world.day_start(first_day + offset) + rng.randrange(0, 20 * HOUR),
                "IN_TRANSIT",
                rng.choice(HUBS[country]),
                country,
            )
        )
    if rng.random() < 0.03:
        transit += 1
        scans.append(
            (
                world.day_start(first_day + transit - 1) + rng.randrange(0, 6 * HOUR),
                "EXCEPTION",
                rng.choice(HUBS[country]),
                country,
            )
        )
    delivery_day = world.day_start(first_day + transit)
    out_for_delivery = delivery_day + rng.randrange(6 * HOUR, 10 * HOUR)
    delivered = out_for_delivery + rng.randrange(HOUR, 8 * HOUR)
    scans.append((out_for_delivery, "OUT_FOR_DELIVERY", plan.customer.city, country))
    scans.append((delivered, "DELIVERED", plan.customer.city, country))
    _status(world, plan, delivered, "delivered")

    if rng.random() < 0.04:
        returned_at = delivered + rng.randrange(3, 15) * SECONDS_PER_DAY + rng.randrange(HOUR)
        scans.append((returned_at, "RETURNED", warehouse_city, warehouse_country))
        _status(world, plan, returned_at, "returned")
        world.schedule(returned_at, "restock", {"warehouse": plan.warehouse, "lines": plan.lines})
        _refund(
            world,
            rng,
            day,
            plan,
            returned_at + rng.randrange(HOUR, 2 * SECONDS_PER_DAY),
            charge_id,
            plan.total - plan.shipping,
            "requested_by_customer",
        )

    for at, code, location, location_country in sorted(scans):
        _scan(world, rng, day, shipment_id, carrier, at, code, location, location_country)
        if world.hit("unknown_tracking_event_code", world.settings.defects.unknown_enum_value, rng):
            _scan(
                world,
                rng,
                day,
                shipment_id,
                carrier,
                at + rng.randrange(60, HOUR),
                rng.choice(UNKNOWN_TRACKING_CODES),
                location,
                location_country,
                unknown=True,
            )


def _scan(
    world, rng, day, shipment_id, carrier, at, code, location, country, unknown: bool = False
) -> None:
    """One carrier tracking event, possibly reported late, twice, or in local time; its
    defects are logged when the row reaches a file."""
    defects = world.settings.defects
    event_id = f"TE-{world.next_id('tracking_event'):09d}"
    found: list[tuple[str, dict]] = []
    offset = None
    if world.hit("mixed_offset_tracking", defects.mixed_offset, rng):
        offset = COUNTRIES[country][3]
        found.append(("mixed_offset", {"table": "tracking", "key": event_id}))
    row = [event_id, shipment_id, carrier, code, iso(at, offset), location, country]
    if unknown:
        found.append(
            ("unknown_tracking_event_code", {"tracking_event_id": event_id, "event_code": code})
        )
    due_day = world.day_of(at)
    if world.hit("late_tracking_event", defects.late_tracking_event, rng):
        due_day += rng.randint(1, 2)
        found.append(
            (
                "late_tracking_event",
                {
                    "tracking_event_id": event_id,
                    "event_date": world.date_of(world.day_of(at)).isoformat(),
                    "file": f"tracking_{world.date_of(due_day).isoformat()}.csv",
                },
            )
        )
    duplicated = world.hit("duplicate_tracking_event", defects.duplicate_tracking_event, rng)
    # A duplicated row is never also made malformed, so that its copy stays the only valid one.
    world.schedule(
        at,
        "tracking_row",
        {"row": row, "copy": False, "has_copy": duplicated, "defects": found},
        due_day=due_day,
    )
    if duplicated:
        world.schedule(
            at,
            "tracking_row",
            {
                "row": row,
                "copy": True,
                "has_copy": True,
                "defects": [("duplicate_tracking_event", {"tracking_event_id": event_id})],
            },
            due_day=due_day + rng.randint(0, 1),
        )
