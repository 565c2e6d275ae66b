"""The shared context of a simulation: settings, the open databases, time and randomness."""

from __future__ import annotations

import json
import math
import random
import sqlite3
import string
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from simulator.config import DefectRates

SECONDS_PER_DAY = 86_400
_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Settings:
    """What a simulation was started with; fixed for its whole life."""

    seed: int
    scale: float
    start_date: date
    schema_change_day: int
    defects: DefectRates


class World:
    """One open simulation: a connection to the shop database with the API state and the
    simulator's own state attached, so that a day commits atomically across all three."""

    def __init__(self, sources_dir: Path, settings: Settings, connection: sqlite3.Connection):
        self.sources_dir = sources_dir
        self.settings = settings
        self.db = connection
        self.origin = int(
            datetime.combine(settings.start_date, datetime.min.time(), UTC).timestamp()
        )
        self._accumulators: dict[str, float] | None = None

    # --- time -------------------------------------------------------------------------------

    def day_start(self, day: int) -> int:
        """Epoch seconds of midnight UTC that starts simulated day `day` (0-based)."""
        return self.origin + day * SECONDS_PER_DAY

    def day_of(self, epoch: int) -> int:
        """The simulated day an instant falls on."""
        return (epoch - self.origin) // SECONDS_PER_DAY

    def date_of(self, day: int) -> date:
        """The calendar date of simulated day `day`."""
        return self.settings.start_date + timedelta(days=day)

    # --- randomness -------------------------------------------------------------------------

    def rng(self, day: int, stream: str) -> random.Random:
        """A generator that depends only on (seed, day, stream): days can be simulated in any
        number of runs, and one subsystem's draws never shift another's."""
        return random.Random(f"{self.settings.seed}:{day}:{stream}")

    def stable_uuid(self, *parts: object) -> str:
        """A UUID derived from the seed and `parts` (the same visitor keeps the same id)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"larkspur:{self.settings.seed}:{parts}"))

    def has_mixed_offset(self, table: str, key: int) -> bool:
        """Whether the mixed-offset defect writes this shop row in local time; derived from
        the key so that every later update of the row keeps the same style."""
        draw = random.Random(f"{self.settings.seed}:offset:{table}:{key}").random()
        return draw < self.settings.defects.mixed_offset

    def hit(self, defect: str, rate: float, rng: random.Random) -> bool:
        """Whether the next row is hit by `defect`.

        Random increments averaging `rate` fill an accumulator that fires on reaching 1: hits
        are irregular, yet a defect hits about `rate` of its rows even in a small simulation
        (a plain coin flip at 0.5 % often never fires on a few hundred rows).
        """
        if self._accumulators is None:
            self._accumulators = dict(self.db.execute("select name, value from state.accumulators"))
        level = self._accumulators.get(defect)
        if level is None:
            level = random.Random(f"{self.settings.seed}:phase:{defect}").random()
        level += 2 * rate * rng.random()
        fired = level >= 1.0
        self._accumulators[defect] = level - 1.0 if fired else level
        return fired

    def save_accumulators(self) -> None:
        """Keep the defect accumulators for the next day (part of the day's transaction)."""
        if self._accumulators is not None:
            self.db.executemany(
                "insert or replace into state.accumulators values (?, ?)",
                sorted(self._accumulators.items()),
            )
            self._accumulators = None

    # --- ids and bookkeeping ----------------------------------------------------------------

    def next_id(self, name: str, count: int = 1) -> int:
        """Reserve `count` consecutive ids of a sequence and return the first."""
        row = self.db.execute("select value from state.counters where name = ?", (name,)).fetchone()
        first = (row[0] if row else 0) + 1
        self.db.execute(
            "insert into state.counters (name, value) values (?, ?) "
            "on conflict (name) do update set value = excluded.value",
            (name, first + count - 1),
        )
        return first

    def schedule(self, at: int, kind: str, payload: dict, due_day: int | None = None) -> None:
        """Queue something to happen at epoch `at` (or to surface on `due_day`, for late data)."""
        self.db.execute(
            "insert into state.scheduled (due_day, due_at, kind, payload) values (?, ?, ?, ?)",
            (self.day_of(at) if due_day is None else due_day, at, kind, json.dumps(payload)),
        )

    def record_defect(self, kind: str, day: int, **detail: object) -> None:
        """Log one identifier a defect hit, for ground_truth.json."""
        self.db.execute(
            "insert into state.defects (kind, day, detail) values (?, ?, ?)",
            (kind, day, json.dumps(detail, sort_keys=True)),
        )

    def count_rows(self, source: str, rows: int, entities: int) -> None:
        """Add to the rows written to a file-based source and the distinct entities in them."""
        self.db.execute(
            "insert into state.file_rows (source, rows_written, entities) values (?, ?, ?) "
            "on conflict (source) do update set"
            " rows_written = rows_written + excluded.rows_written,"
            " entities = entities + excluded.entities",
            (source, rows, entities),
        )


def random_token(rng: random.Random, prefix: str, length: int = 24) -> str:
    """A Stripe-style identifier such as `ch_3PkQ...`."""
    return prefix + "".join(rng.choice(_ID_ALPHABET) for _ in range(length))


def random_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from `rng` (uuid.uuid4 would not be reproducible)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def iso(epoch: int, offset_minutes: int | None = None) -> str:
    """ISO 8601 with an offset: `Z` for UTC, or the given local offset for the same instant."""
    if offset_minutes is None:
        # time.gmtime is about three times faster than a datetime, and this runs per event
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    zone = timezone(timedelta(minutes=offset_minutes))
    return datetime.fromtimestamp(epoch, zone).isoformat()


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (normal approximation above 50, where it is indistinguishable)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def money(cents: int) -> float:
    """Minor units to a 2-decimal amount for the shop's NUMERIC columns."""
    return round(cents / 100, 2)
