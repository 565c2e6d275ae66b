"""The product catalogue (categories, products, prices) and discount codes of the shop."""

from __future__ import annotations

import math
import random
from datetime import timedelta

from simulator.config import (
    DEPARTMENTS,
    PRODUCT_ADJECTIVES,
    PRODUCT_COLLECTIONS,
    PRODUCTS_AT_SCALE_ONE,
)
from simulator.world import World, iso

DISCOUNT_THEMES = ("WELCOME", "SPRING", "SUMMER", "HOME", "COSY", "FRIENDS", "WEEKEND", "AUTUMN")


def catalogue_size(scale: float) -> int:
    """Products at the end of a year: the catalogue grows with the square root of the scale,
    because a bigger shop sells more of each product, not proportionally more products."""
    return max(40, round(PRODUCTS_AT_SCALE_ONE * math.sqrt(min(scale, 4.0))))


def create_catalogue(world: World, day: int) -> None:
    """Categories and the initial 90 % of the catalogue, created before the first day."""
    rng = world.rng(day, "catalogue-initial")
    created = iso(world.day_start(day) - 400 * 86_400)
    category_rows = []
    for department, categories in DEPARTMENTS.items():
        for name in categories:
            category_rows.append((len(category_rows) + 1, name, department, created))
    world.db.executemany("insert into product_categories values (?, ?, ?, ?)", category_rows)
    for _ in range(round(catalogue_size(world.settings.scale) * 0.9)):
        moment = world.day_start(day) - rng.randrange(30, 700) * 86_400
        add_product(world, rng, moment)


def add_product(world: World, rng: random.Random, moment: int) -> int:
    """Insert one new product with a plausible name, price, cost and weight."""
    product_id = world.next_id("product")
    category_id = rng.randrange(1, sum(len(c) for c in DEPARTMENTS.values()) + 1)
    price_range, weight_range, nouns = _category_spec(category_id)
    low, high = price_range
    # Prices cluster at the low end of a category's range, ending in .95 or .00 like shelf prices.
    price = round(low * math.exp(rng.random() ** 1.6 * math.log(high / low)))
    price = price - 0.05 if rng.random() < 0.7 else float(price)
    name = f"{rng.choice(PRODUCT_COLLECTIONS)} {rng.choice(PRODUCT_ADJECTIVES)} {rng.choice(nouns)}"
    stamp = iso(moment)
    world.db.execute(
        "insert into products values (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?)",
        (
            product_id,
            f"LKS-{product_id:06d}",
            name,
            category_id,
            round(price, 2),
            round(price * rng.uniform(0.32, 0.55), 2),
            round(rng.uniform(*weight_range), 2),
            stamp,
            stamp,
        ),
    )
    return product_id


def _category_spec(category_id: int) -> tuple:
    """(price range, weight range, nouns) of a category, numbered as create_catalogue does."""
    specs = [spec for categories in DEPARTMENTS.values() for spec in categories.values()]
    return specs[category_id - 1]


def simulate_catalogue_day(world: World, day: int) -> list[int]:
    """Price changes, the odd new product and discontinuation; returns the new product ids."""
    rng = world.rng(day, "catalogue")
    start = world.day_start(day)
    active = [
        (product_id, price)
        for product_id, price in world.db.execute(
            "select product_id, list_price_eur from products where status = 'active' "
            "order by product_id"
        )
    ]
    for product_id, price in active:
        draw = rng.random()
        if draw < 0.004:
            moment = start + rng.randrange(7 * 3600, 19 * 3600)
            factor = rng.choice((0.85, 0.9, 0.95, 1.05, 1.1, 1.15))
            world.db.execute(
                "update products set list_price_eur = ?, updated_at = ? where product_id = ?",
                (round(round(price * factor) - 0.05, 2), iso(moment), product_id),
            )
        elif draw < 0.0043:
            world.db.execute(
                "update products set status = 'discontinued', updated_at = ? where product_id = ?",
                (iso(start + rng.randrange(7 * 3600, 19 * 3600)), product_id),
            )
    new_products = []
    for _ in range(_binomial_small(rng, catalogue_size(world.settings.scale) * 0.1 / 365)):
        new_products.append(add_product(world, rng, start + rng.randrange(6 * 3600, 10 * 3600)))
    return new_products


def _binomial_small(rng: random.Random, mean: float) -> int:
    whole = int(mean)
    return whole + (1 if rng.random() < mean - whole else 0)


def create_discounts(world: World, day: int) -> None:
    """A welcome code that never expires plus a few running promotions."""
    rng = world.rng(day, "discounts-initial")
    start_date = world.date_of(day)
    _insert_discount(
        world,
        day,
        "WELCOME10",
        "percent",
        10,
        start_date - timedelta(days=400),
        start_date + timedelta(days=3650),
    )
    for _ in range(3):
        _new_promotion(world, rng, day, start_date - timedelta(days=rng.randrange(0, 20)))


def simulate_discounts_day(world: World, day: int) -> None:
    """Roughly every ten days marketing starts a new promotion code."""
    rng = world.rng(day, "discounts")
    if rng.random() < 0.1:
        _new_promotion(world, rng, day, world.date_of(day) + timedelta(days=rng.randrange(0, 3)))


def _new_promotion(world: World, rng: random.Random, day: int, valid_from) -> None:
    if rng.random() < 0.7:
        kind, value = "percent", rng.choice((10, 15, 20, 25))
    else:
        kind, value = "fixed", rng.choice((5, 10, 15))
    code = f"{rng.choice(DISCOUNT_THEMES)}{value}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}"
    valid_to = valid_from + timedelta(days=rng.randrange(10, 45))
    _insert_discount(world, day, code, kind, value, valid_from, valid_to)


def _insert_discount(
    world: World, day: int, code: str, kind: str, value: float, valid_from, valid_to
) -> None:
    stamp = iso(world.day_start(day) + 7 * 3600)
    world.db.execute(
        "insert into discounts (discount_code, discount_type, discount_value, valid_from,"
        " valid_to, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)",
        (code, kind, value, valid_from.isoformat(), valid_to.isoformat(), stamp, stamp),
    )
