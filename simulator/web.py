"""Web analytics: visitor sessions (some ending in an order) streamed to a gzipped JSON-lines
export per day, with late, duplicate, malformed and otherwise broken events mixed in."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
from pathlib import Path

from simulator.ads import Campaign
from simulator.config import (
    COUNTRIES,
    ORGANIC_REFERRERS,
    SITE,
    UNKNOWN_WEB_EVENT_TYPES,
    USER_AGENTS,
    WEB_EVENTS_PER_YEAR,
    WEEKDAY_FACTORS,
)
from simulator.customers import COUNTRY_CODES, COUNTRY_WEIGHTS, pick_customer
from simulator.orders import Catalogue, PlacedOrder
from simulator.world import SECONDS_PER_DAY, World, iso, poisson, random_uuid

PLATFORM_REFERRERS = {
    "google": "https://www.google.com/",
    "facebook": "https://l.facebook.com/",
    "tiktok": "https://www.tiktok.com/",
}
# Average events of a browsing session (landing, some product views, rarely a cart).
BROWSING_SESSION_EVENTS = 3.2


def web_file(world: World, day: int) -> Path:
    """Where the export of simulated day `day` goes."""
    return world.sources_dir / "web" / f"events_{world.date_of(day).isoformat()}.jsonl.gz"


class _Export:
    """One day's export file being written, with its defects and counters."""

    def __init__(self, world: World, day: int, stream, catalogue_urls: dict[int, str]):
        self.world, self.day, self.stream = world, day, stream
        self.rng = world.rng(day, "web-defects")
        self.defects = world.settings.defects
        self.urls = catalogue_urls
        self.file_name = web_file(world, day).name
        self.lines = 0
        self.entities = 0

    def write_line(self, line: str, entity: bool) -> None:
        self.stream.write(line.encode() + b"\n")
        self.lines += 1
        self.entities += entity

    def emit(self, event: dict, country: str) -> None:
        """Write one event, or defer it to tomorrow's file, applying the day's defects; the
        defects are logged for the day the line is actually written."""
        rng, defects, event_id = self.rng, self.defects, event["event_id"]
        found: list[tuple[str, dict]] = []
        if event["event_type"] in UNKNOWN_WEB_EVENT_TYPES:
            found.append(
                (
                    "unknown_web_event_type",
                    {"event_id": event_id, "event_type": event["event_type"]},
                )
            )
        if self.world.hit("mixed_offset_web", defects.mixed_offset, rng):
            event["occurred_at"] = iso(event["occurred_at"], COUNTRIES[country][3])
            found.append(("mixed_offset", {"table": "web_events", "key": event_id}))
        else:
            event["occurred_at"] = iso(event["occurred_at"])
        if self.world.hit("null_web_field", defects.null_required_field, rng):
            missing = rng.choice(("event_type", "anonymous_id"))
            event[missing] = None
            found.append(("null_web_field", {"event_id": event_id, "field": missing}))
        line = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        duplicated = self.world.hit("duplicate_web_event", defects.duplicate_web_event, rng)
        if duplicated:
            found.append(("duplicate_web_event", {"event_id": event_id}))
        if self.world.hit("late_web_event", defects.late_web_event, rng):
            tomorrow = self.day + 1
            found.append(
                (
                    "late_web_event",
                    {"event_id": event_id, "file": web_file(self.world, tomorrow).name},
                )
            )
            at = self.world.day_start(tomorrow)
            self.world.schedule(
                at, "web_line", {"line": line, "copy": False, "defects": found}, due_day=tomorrow
            )
            if duplicated:
                self.world.schedule(at, "web_line", {"line": line, "copy": True}, due_day=tomorrow)
            return
        if not duplicated and self.world.hit("malformed_web_line", defects.malformed_web_line, rng):
            # A line cut off mid-record, as when an export job is killed while flushing.
            self.write_line(line[: len(line) // 2], entity=False)
            found.append(
                (
                    "malformed_web_line",
                    {"event_id": event_id, "file": self.file_name, "line": self.lines},
                )
            )
        else:
            self.write_line(line, entity=True)
            if duplicated:
                self.write_line(line, entity=False)
        for kind, detail in found:
            self.world.record_defect(kind, self.day, **detail)


def write_web_day(
    world: World,
    day: int,
    orders: list[PlacedOrder],
    campaigns: list[Campaign],
    catalogue: Catalogue,
    late_lines: list[dict],
) -> dict[int, tuple[int, int]]:
    """Write the day's export; returns (sessions, orders) per campaign for the ad platforms."""
    rng = world.rng(day, "web")
    path = web_file(world, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    product_urls = {
        product_id: f"{SITE}/p/{sku.lower()}"
        for product_id, sku in world.db.execute("select product_id, sku from products")
    }
    traffic: dict[int, list[int]] = {campaign.campaign_id: [0, 0] for campaign in campaigns}
    partial = path.with_suffix(".partial")
    with (
        partial.open("wb") as raw,
        # zlib's default level 6: level 9 took twice as long for files 2 % smaller
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as compressed,
        # Compressing line by line costs a zlib call each; the bytes are the same either way.
        io.BufferedWriter(compressed, buffer_size=1 << 16) as stream,
    ):
        export = _Export(world, day, stream, product_urls)
        for late in late_lines:
            export.write_line(late["line"], entity=not late["copy"])
        converting_events = 0
        for order in orders:
            if order.campaign is not None:
                traffic[order.campaign.campaign_id][1] += 1
            if not order.tracked:
                continue
            converting_events += _converting_session(world, rng, export, order)
            if order.campaign is not None:
                traffic[order.campaign.campaign_id][0] += 1
        expected = (
            WEB_EVENTS_PER_YEAR
            * world.settings.scale
            / 365
            * WEEKDAY_FACTORS[world.date_of(day).weekday()]
        )
        sessions = poisson(rng, max(0.0, expected - converting_events) / BROWSING_SESSION_EVENTS)
        budgets = [campaign.daily_budget for campaign in campaigns]
        for _ in range(sessions):
            campaign = (
                rng.choices(campaigns, budgets)[0] if campaigns and rng.random() < 0.4 else None
            )
            if campaign is not None:
                traffic[campaign.campaign_id][0] += 1
            _browsing_session(world, rng, export, catalogue, campaign)
    os.replace(partial, path)
    world.count_rows("web_events", export.lines, export.entities)
    return {campaign_id: (counts[0], counts[1]) for campaign_id, counts in traffic.items()}


def _base_event(rng, anonymous_id, customer_id, campaign, country, user_agent) -> dict:
    return {
        "event_id": random_uuid(rng),
        "event_type": None,
        "occurred_at": 0,
        "anonymous_id": anonymous_id,
        "customer_id": customer_id,
        "order_number": None,
        "product_id": None,
        "page_url": None,
        "referrer": None,
        "utm_source": campaign.utm_source if campaign else None,
        "utm_medium": campaign.utm_medium if campaign else None,
        "utm_campaign": campaign.utm_campaign if campaign else None,
        "user_agent": user_agent,
        "country_code": country,
    }


def _landing(campaign: Campaign | None, rng: random.Random, url: str) -> tuple[str, str | None]:
    """The landing page URL (with UTM parameters for ad clicks) and its referrer."""
    if campaign is None:
        return url, rng.choice(ORGANIC_REFERRERS)
    query = (
        f"?utm_source={campaign.utm_source}&utm_medium={campaign.utm_medium}"
        f"&utm_campaign={campaign.utm_campaign}"
    )
    return url + query, PLATFORM_REFERRERS[campaign.utm_source]


def _converting_session(
    world: World, rng: random.Random, export: _Export, order: PlacedOrder
) -> int:
    """The visit that placed an order; returns the number of events it had."""
    customer = order.customer
    anonymous_id = world.stable_uuid("visitor", customer.customer_id)
    logged_in = rng.random() < 0.5
    steps: list[tuple[str, str, int | None]] = []
    browsed = rng.sample(list(export.urls), k=min(len(export.urls), rng.randint(0, 2)))
    for product_id in [*browsed, *order.product_ids]:
        steps.append(("product_view", export.urls[product_id], product_id))
    for product_id in order.product_ids:
        steps.append(("add_to_cart", export.urls[product_id], product_id))
    steps.append(("checkout_started", f"{SITE}/checkout", None))
    steps.append(("order_completed", f"{SITE}/checkout/confirmation", None))
    landing_url, referrer = _landing(order.campaign, rng, f"{SITE}/")
    steps.insert(0, ("page_view", landing_url, None))

    gaps = [rng.randint(15, 180) for _ in steps[1:]]
    earliest = world.day_start(world.day_of(order.ordered_at))
    # A session that would have started before midnight is compressed into the order's day.
    while gaps and order.ordered_at - sum(gaps) < earliest:
        if max(gaps) == 1:
            # ordered within seconds of midnight: not even one second per step is left, so the
            # whole visit happens at the order's second (halving would never get below 1)
            gaps = [0] * len(gaps)
            break
        gaps = [max(1, gap // 2) for gap in gaps]
    moment = order.ordered_at - sum(gaps)
    user_agent = rng.choice(USER_AGENTS)
    for index, (event_type, url, product_id) in enumerate(steps):
        known = logged_in or event_type in ("checkout_started", "order_completed")
        event = _base_event(
            rng,
            anonymous_id,
            customer.customer_id if known else None,
            order.campaign,
            customer.country_code,
            user_agent,
        )
        event.update(
            event_type=event_type,
            occurred_at=moment,
            page_url=url,
            product_id=product_id,
            referrer=referrer if index == 0 else None,
        )
        if event_type == "order_completed":
            event["order_number"] = order.order_number
        export.emit(event, customer.country_code)
        if index < len(gaps):
            moment += gaps[index]
    return len(steps)


def _browsing_session(
    world: World,
    rng: random.Random,
    export: _Export,
    catalogue: Catalogue,
    campaign: Campaign | None,
) -> None:
    """A visit without an order: a landing page, a few products, sometimes an abandoned cart."""
    customer = pick_customer(world, rng) if rng.random() < 0.3 else None
    if customer is not None:
        anonymous_id = world.stable_uuid("visitor", customer.customer_id)
        customer_id = customer.customer_id if rng.random() < 0.5 else None
        country = customer.country_code
    else:
        anonymous_id, customer_id = random_uuid(rng), None
        country = rng.choices(COUNTRY_CODES, COUNTRY_WEIGHTS)[0]
    products = (
        rng.choices(
            catalogue.product_ids,
            cum_weights=catalogue.cumulative_weights,
            k=min(poisson(rng, 1.6), 6),
        )
        if catalogue.product_ids
        else []
    )
    landing_url, referrer = _landing(campaign, rng, f"{SITE}/")
    steps = [("page_view", landing_url, None)]
    steps += [("product_view", export.urls[product_id], product_id) for product_id in products]
    if products and rng.random() < 0.15:
        steps.append(("add_to_cart", export.urls[products[-1]], products[-1]))
        if rng.random() < 0.3:
            steps.append(("checkout_started", f"{SITE}/checkout", None))
    if world.hit("unknown_web_event_type", world.settings.defects.unknown_enum_value, rng):
        steps.append((rng.choice(UNKNOWN_WEB_EVENT_TYPES), f"{SITE}/", None))
    moment = world.day_start(export.day) + rng.randrange(0, SECONDS_PER_DAY - 1800)
    user_agent = rng.choice(USER_AGENTS)
    for index, (event_type, url, product_id) in enumerate(steps):
        event = _base_event(rng, anonymous_id, customer_id, campaign, country, user_agent)
        event.update(
            event_type=event_type,
            occurred_at=moment,
            page_url=url,
            product_id=product_id,
            referrer=referrer if index == 0 else None,
        )
        export.emit(event, country)
        moment += rng.randint(10, 120)
