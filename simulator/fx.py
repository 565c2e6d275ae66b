"""Daily EUR reference rates: a mean-reverting random walk, published on business days only."""

from __future__ import annotations

import math
from datetime import date, timedelta

from simulator.world import World

ANCHORS = {"USD": 1.08, "GBP": 0.85}


def _easter(year: int) -> date:
    """Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month = (h + leap - 7 * m + 114) // 31
    day = (h + leap - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def is_business_day(day: date) -> bool:
    """A TARGET2 business day: no weekends, New Year, Easter, Labour Day or Christmas."""
    if day.weekday() >= 5 or (day.month, day.day) in {(1, 1), (5, 1), (12, 25), (12, 26)}:
        return False
    easter = _easter(day.year)
    return day not in {easter - timedelta(days=2), easter + timedelta(days=1)}


def simulate_fx_day(world: World, day: int) -> None:
    """Publish the day's rates if it is a business day."""
    calendar_day = world.date_of(day)
    if not is_business_day(calendar_day):
        return
    rng = world.rng(day, "fx")
    previous = latest_rates(world, calendar_day - timedelta(days=1))
    for currency, anchor in ANCHORS.items():
        # Log-space walk pulled gently back to the anchor, ~0.4 % daily volatility.
        log_rate = math.log(previous[currency])
        log_rate += 0.03 * (math.log(anchor) - log_rate) + rng.gauss(0, 0.004)
        world.db.execute(
            "insert into api.fx_rates values (?, ?, ?)",
            (calendar_day.isoformat(), currency, round(math.exp(log_rate), 4)),
        )


def latest_rates(world: World, on: date) -> dict[str, float]:
    """Units of each currency per EUR as last published on or before `on` (anchors before any)."""
    rates = {"EUR": 1.0, **ANCHORS}
    for currency, rate in world.db.execute(
        "select currency, rate from api.fx_rates where rate_date = "
        "(select max(rate_date) from api.fx_rates where rate_date <= ?)",
        (on.isoformat(),),
    ):
        rates[currency] = rate
    return rates
