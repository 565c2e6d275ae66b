"""Customers of the shop: sign-ups with addresses, moves, consent changes and erasure."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import cache

from faker import Faker

from simulator.config import CITIES, COUNTRIES, INITIAL_CUSTOMERS, NEW_CUSTOMERS_PER_YEAR
from simulator.world import World, iso, poisson

COUNTRY_CODES = tuple(COUNTRIES)
COUNTRY_WEIGHTS = tuple(spec[0] for spec in COUNTRIES.values())
EMAIL_DOMAINS = ("example.com", "mail.example", "post.example", "inbox.example")


@dataclass(frozen=True)
class Customer:
    """What an order or a web session needs to know about a customer."""

    customer_id: int
    email: str
    segment: str
    country_code: str
    shipping_address_id: int
    billing_address_id: int
    postcode: str
    city: str


@cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


class People:
    """Names and street addresses for one day and stream, reproducible from the seed."""

    def __init__(self, world: World, day: int, stream: str):
        self._seed_prefix = f"{world.settings.seed}:{day}:{stream}"
        self._seeded: set[str] = set()

    def faker(self, country_code: str) -> Faker:
        """The Faker of the country's locale, seeded for this day on first use."""
        locale = COUNTRIES[country_code][4]
        fake = _faker(locale)
        if locale not in self._seeded:
            # Faker instances are shared per process, so every day re-seeds the ones it uses.
            fake.seed_instance(random.Random(f"{self._seed_prefix}:{locale}").getrandbits(64))
            self._seeded.add(locale)
        return fake


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(character for character in folded.lower() if character.isalnum())


def create_customer(world: World, rng: random.Random, people: People, moment: int) -> int:
    """Insert a customer with a default shipping address (and sometimes a billing one)."""
    customer_id = world.next_id("customer")
    country = rng.choices(COUNTRY_CODES, COUNTRY_WEIGHTS)[0]
    fake = people.faker(country)
    first, last = fake.first_name(), fake.last_name()
    email = f"{_ascii(first)}.{_ascii(last)}{customer_id}@{rng.choice(EMAIL_DOMAINS)}"
    segment = rng.choices(("consumer", "trade", "vip"), (0.9, 0.06, 0.04))[0]
    offset = COUNTRIES[country][3] if world.has_mixed_offset("customers", customer_id) else None
    stamp = iso(moment, offset)
    world.db.execute(
        "insert into customers values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            customer_id,
            email,
            first,
            last,
            fake.phone_number() if rng.random() < 0.8 else None,
            segment,
            1 if rng.random() < 0.55 else 0,
            stamp,
            stamp,
        ),
    )
    if offset is not None:
        world.record_defect(
            "mixed_offset", world.day_of(moment), table="customers", key=customer_id
        )
    _insert_address(world, rng, fake, customer_id, country, "shipping", moment)
    if rng.random() < 0.15:
        _insert_address(world, rng, fake, customer_id, country, "billing", moment)
    return customer_id


def _insert_address(world, rng, fake, customer_id, country, address_type, moment) -> None:
    stamp = iso(moment)
    world.db.execute(
        "insert into addresses (customer_id, address_type, line1, line2, city, postcode,"
        " country_code, is_default, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        (
            customer_id,
            address_type,
            fake.street_address(),
            f"Apt {rng.randrange(1, 60)}" if rng.random() < 0.2 else None,
            rng.choice(CITIES[country]),
            fake.postcode(),
            country,
            stamp,
            stamp,
        ),
    )


def create_initial_customers(world: World, day: int) -> None:
    """The customer base Larkspur already has when the simulation starts."""
    rng = world.rng(day, "customers-initial")
    people = People(world, day, "customers-initial")
    start = world.day_start(day)
    moments = sorted(
        start - rng.randrange(86_400, 730 * 86_400)
        for _ in range(max(20, round(INITIAL_CUSTOMERS * world.settings.scale)))
    )
    for moment in moments:
        create_customer(world, rng, people, moment)


def simulate_customers_day(world: World, day: int) -> list[tuple[int, int]]:
    """Sign-ups, moves, consent changes and erasures of one day.

    Returns the (customer_id, signed_up_at) of the day's new customers, who often order at once.
    """
    rng = world.rng(day, "customers")
    people = People(world, day, "customers")
    start = world.day_start(day)
    signups = sorted(
        start + rng.randrange(0, 86_400)
        for _ in range(poisson(rng, NEW_CUSTOMERS_PER_YEAR * world.settings.scale / 365))
    )
    new_customers = [(create_customer(world, rng, people, moment), moment) for moment in signups]

    existing = world.db.execute("select count(*) from customers").fetchone()[0]
    for _ in range(poisson(rng, existing * 0.0015)):
        customer = pick_customer(world, rng)
        if customer is None:
            break
        moment = start + rng.randrange(0, 86_400)
        if rng.random() < 0.5:
            _move(world, rng, people, customer, moment)
        else:
            _touch_customer(world, customer.customer_id, moment, customer.country_code)
    _erase_customers(world, rng, day, existing)
    return new_customers


def _move(world: World, rng, people: People, customer: Customer, moment: int) -> None:
    """Customers move within their country: the default address is updated in place."""
    fake = people.faker(customer.country_code)
    world.db.execute(
        "update addresses set line1 = ?, city = ?, postcode = ?, updated_at = ? "
        "where address_id = ?",
        (
            fake.street_address(),
            rng.choice(CITIES[customer.country_code]),
            fake.postcode(),
            iso(moment),
            customer.shipping_address_id,
        ),
    )


def _touch_customer(world: World, customer_id: int, moment: int, country: str) -> None:
    offset = COUNTRIES[country][3] if world.has_mixed_offset("customers", customer_id) else None
    world.db.execute(
        "update customers set marketing_consent = 1 - marketing_consent, updated_at = ? "
        "where customer_id = ?",
        (iso(moment, offset), customer_id),
    )


def _erase_customers(world: World, rng: random.Random, day: int, existing: int) -> None:
    """Right-to-be-forgotten requests: the customer and their addresses are hard-deleted."""
    for _ in range(poisson(rng, existing * world.settings.defects.customer_erasure / 30)):
        customer = pick_customer(world, rng)
        if customer is None:
            return
        world.db.execute("delete from addresses where customer_id = ?", (customer.customer_id,))
        world.db.execute("delete from customers where customer_id = ?", (customer.customer_id,))
        world.record_defect("hard_deleted_customer", day, customer_id=customer.customer_id)


def pick_customer(world: World, rng: random.Random) -> Customer | None:
    """A random existing customer (erased ids are skipped), or None if there are none."""
    row = world.db.execute("select value from state.counters where name = 'customer'").fetchone()
    if row is None:
        return None
    for _ in range(50):
        customer = load_customer(world, rng.randint(1, row[0]))
        if customer is not None:
            return customer
    return None


def load_customer(world: World, customer_id: int) -> Customer | None:
    """The customer with their default shipping and billing addresses, if not erased."""
    rows = world.db.execute(
        "select customers.customer_id, email, segment, address_id, address_type, country_code,"
        " postcode, city from customers join addresses using (customer_id) "
        "where customers.customer_id = ? and is_default = 1 order by address_id",
        (customer_id,),
    ).fetchall()
    if not rows:
        return None
    shipping = next(row for row in rows if row[4] == "shipping")
    billing = next((row for row in rows if row[4] == "billing"), shipping)
    return Customer(
        customer_id=shipping[0],
        email=shipping[1],
        segment=shipping[2],
        country_code=shipping[5],
        shipping_address_id=shipping[3],
        billing_address_id=billing[3],
        postcode=shipping[6],
        city=shipping[7],
    )
