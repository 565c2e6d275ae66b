"""The payments, ads and fx REST APIs, served from `sources/api.sqlite` on 127.0.0.1.

Standard library only: a threading HTTP server that opens the database read-only for each
request (so it serves whatever the simulator wrote last, without restarting), with bearer-token
auth and optional deterministic fault injection to exercise clients' retry logic.
"""

from __future__ import annotations

import hmac
import json
import math
import random
import re
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from simulator.config import SimulatorError

FAULT_KINDS = ("429", "503", "500", "slow", "drop")
MAX_PAGE_SIZE = 1000
MAX_FX_DAYS = 366
# SQLite stores integers in 64 bits; a larger bound value raises OverflowError in the driver
MAX_SQLITE_INTEGER = 2**63 - 1


@dataclass(frozen=True)
class FaultConfig:
    """Which share of requests fail and how; decided from (seed, request number) alone."""

    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    retry_after_seconds: int = 1
    slow_seconds: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise SimulatorError(f"fault rate must be between 0 and 1, not {self.rate}")
        unknown = sorted(set(self.kinds) - set(FAULT_KINDS))
        if unknown or not self.kinds:
            raise SimulatorError(
                f"unknown fault kinds {unknown or '(none given)'}: choose from {FAULT_KINDS}"
            )

    def fault_for(self, request_number: int) -> str | None:
        """The fault injected into the `request_number`-th request (1-based), if any."""
        if self.rate <= 0:
            return None
        rng = random.Random(f"{self.seed}:{request_number}")
        return rng.choice(self.kinds) if rng.random() < self.rate else None


class _BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class ApiServer:
    """The simulated REST APIs over the API state below `data_dir / "sources"`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = "demo-token",
        faults: FaultConfig | None = None,
    ):
        self.database = Path(data_dir).expanduser().resolve() / "sources" / "api.sqlite"
        self.token = token
        self.faults = faults or FaultConfig()
        self._requests = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        try:
            self._httpd = ThreadingHTTPServer((host, port), _Handler)
        except OSError as error:
            raise SimulatorError(
                f"cannot listen on {host}:{port} ({error.strerror}): stop whatever uses the "
                "port or choose another one"
            ) from error
        self._httpd.daemon_threads = True
        self._httpd.api = self  # type: ignore[attr-defined]

    @property
    def base_url(self) -> str:
        """`http://host:port` the server listens on."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ApiServer:
        """Serve in a background thread until `stop()`."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def serve_forever(self) -> None:
        """Serve in the foreground until interrupted (Ctrl+C raises KeyboardInterrupt)."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def next_fault(self) -> str | None:
        """Count a request and return the fault it gets."""
        with self._lock:
            self._requests += 1
            number = self._requests
        return self.faults.fault_for(number)


class _Handler(BaseHTTPRequestHandler):
    server_version = "LarkspurDemoApi/1.0"

    @property
    def api(self) -> ApiServer:
        return self.server.api  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        # Quiet: the CLI and the tests report what matters; access logs would drown it.
        return

    def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/health":
            self._send(200, {"status": "ok"})
            return
        # a client without the token learns nothing, faults included
        if not self._authenticated():
            self._send(
                401, {"error": "missing or wrong bearer token"}, {"WWW-Authenticate": "Bearer"}
            )
            return
        if self._inject_fault():
            return
        try:
            body = self._route(url.path, parse_qs(url.query, keep_blank_values=True))
        except _BadRequest as error:
            self._send(error.status, {"error": str(error)})
            return
        self._send(200, body)

    def _authenticated(self) -> bool:
        """Whether the request carries the token, compared in constant time.

        Bytes, not text: `compare_digest` refuses non-ASCII text, and http.server decodes
        headers as latin-1.
        """
        given = self.headers.get("Authorization", "").encode()
        return hmac.compare_digest(given, f"Bearer {self.api.token}".encode())

    def _inject_fault(self) -> bool:
        """Apply this request's fault; True when the request has been answered (or dropped)."""
        fault = self.api.next_fault()
        retry_after = {"Retry-After": str(self.api.faults.retry_after_seconds)}
        if fault == "429":
            self._send(429, {"error": "rate limit exceeded, retry later"}, retry_after)
        elif fault == "503":
            self._send(503, {"error": "service temporarily unavailable"}, retry_after)
        elif fault == "500":
            self._send(500, {"error": "internal server error"})
        elif fault == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fault == "slow":
            time.sleep(self.api.faults.slow_seconds)
        return fault not in (None, "slow")

    def _route(self, path: str, query: dict[str, list[str]]) -> dict:
        routes = (
            (r"/payments/v1/(charges|refunds|payouts)", self._cursor_page),
            (r"/ads/v1/campaigns", self._campaigns),
            (r"/ads/v1/campaigns/(\d+)/ad_groups", self._ad_groups),
            (r"/ads/v1/reports/daily", self._daily_reports),
            (r"/fx/v1/rates", self._rates),
        )
        for pattern, handler in routes:
            match = re.fullmatch(pattern, path.rstrip("/"))
            if match:
                with self._database() as connection:
                    return handler(connection, _Params(query), *match.groups())
        raise _BadRequest(404, f"no such endpoint: {path}")

    def _database(self) -> _ReadOnly:
        return _ReadOnly(self.api.database)

    # --- payments: cursor pagination ordered by (updated, id) --------------------------------

    def _cursor_page(self, connection: sqlite3.Connection, params: _Params, table: str) -> dict:
        limit = params.integer("limit", 100, 1, MAX_PAGE_SIZE)
        updated_since = params.integer("updated_since", 0, 0, MAX_SQLITE_INTEGER)
        conditions, arguments = ["updated >= ?"], [updated_since]
        starting_after = params.text("starting_after")
        if starting_after is not None:
            anchor = connection.execute(
                f"select updated, id from {table} where id = ?", (starting_after,)
            ).fetchone()
            if anchor is None:
                raise _BadRequest(400, f"starting_after: no {table[:-1]} with id {starting_after}")
            conditions.append("(updated, id) > (?, ?)")
            arguments.extend(anchor)
        rows = connection.execute(
            f"select * from {table} where {' and '.join(conditions)} order by updated, id limit ?",
            (*arguments, limit + 1),
        ).fetchall()
        records = [_record(row) for row in rows[:limit]]
        if table == "charges":
            for record in records:
                # Charges gained the field on the schema-change day; older ones never had it.
                if record["risk_score"] is None:
                    del record["risk_score"]
        has_more = len(rows) > limit
        return {
            "data": records,
            "has_more": has_more,
            "next_cursor": records[-1]["id"] if has_more else None,
        }

    # --- ads: page-number pagination ---------------------------------------------------------

    def _page(self, connection, params: _Params, sql: str, arguments: tuple) -> dict:
        # the offset, (page - 1) * page_size, has to fit SQLite's integers
        page = params.integer("page", 1, 1, MAX_SQLITE_INTEGER // MAX_PAGE_SIZE)
        page_size = params.integer("page_size", 100, 1, MAX_PAGE_SIZE)
        total = connection.execute(f"select count(*) from ({sql})", arguments).fetchone()[0]
        rows = connection.execute(
            f"{sql} limit ? offset ?", (*arguments, page_size, (page - 1) * page_size)
        ).fetchall()
        return {
            "results": [_record(row) for row in rows],
            "page": page,
            "page_size": page_size,
            "total_pages": math.ceil(total / page_size),
            "total_results": total,
        }

    def _campaigns(self, connection, params: _Params) -> dict:
        since = params.timestamp("updated_since")
        return self._page(
            connection,
            params,
            "select * from campaigns where updated_at >= ? order by campaign_id",
            (since or "",),
        )

    def _ad_groups(self, connection, params: _Params, campaign_id: str) -> dict:
        exists = (
            int(campaign_id) <= MAX_SQLITE_INTEGER
            and connection.execute(
                "select 1 from campaigns where campaign_id = ?", (int(campaign_id),)
            ).fetchone()
        )
        if not exists:
            raise _BadRequest(404, f"no campaign with id {campaign_id}")
        return self._page(
            connection,
            params,
            "select * from ad_groups where campaign_id = ? order by ad_group_id",
            (int(campaign_id),),
        )

    def _daily_reports(self, connection, params: _Params) -> dict:
        start, end = params.date_range()
        return self._page(
            connection,
            params,
            "select * from ad_daily_reports where report_date between ? and ? "
            "order by report_date, campaign_id",
            (start.isoformat(), end.isoformat()),
        )

    # --- fx ----------------------------------------------------------------------------------

    def _rates(self, connection, params: _Params) -> dict:
        start, end = params.date_range()
        if (end - start).days + 1 > MAX_FX_DAYS:
            raise _BadRequest(400, f"at most {MAX_FX_DAYS} days per request: split the range")
        rows = connection.execute(
            "select rate_date, currency, rate from fx_rates where rate_date between ? and ? "
            "order by rate_date, currency",
            (start.isoformat(), end.isoformat()),
        ).fetchall()
        return {"base": "EUR", "rates": [_record(row) for row in rows]}


def _record(row: sqlite3.Row) -> dict:
    return dict(zip(row.keys(), tuple(row), strict=True))


class _ReadOnly:
    """A read-only connection to the API state for the duration of one request."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> sqlite3.Connection:
        if not self.path.exists():
            raise _BadRequest(
                503, f"no simulated API data at {self.path}: run `warehouse simulate` first"
            )
        self.connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        self.connection.row_factory = sqlite3.Row
        return self.connection

    def __exit__(self, *exc_info: object) -> None:
        self.connection.close()


class _Params:
    """Query parameters with validation that ends in a 400 naming the parameter."""

    def __init__(self, query: dict[str, list[str]]):
        self.query = query

    def text(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _BadRequest(400, f"{name} must be an integer, not {raw!r}") from None
        if not low <= value <= high:
            raise _BadRequest(400, f"{name} must be between {low} and {high}, not {value}")
        return value

    def timestamp(self, name: str) -> str | None:
        """An ISO timestamp parameter as the UTC text the state stores (`...Z`)."""
        raw = self.text(name)
        if raw is None:
            return None
        try:
            moment = datetime.fromisoformat(raw.replace(" ", "+"))
        except ValueError:
            raise _BadRequest(400, f"{name} must be an ISO 8601 timestamp, not {raw!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            in_utc = moment.astimezone(UTC)
        except OverflowError:
            raise _BadRequest(
                400,
                f"{name} is out of range: {raw!r} is not a UTC time between years 1 and 9999",
            ) from None
        return in_utc.strftime("%Y-%m-%dT%H:%M:%SZ")

    def day(self, name: str) -> date:
        raw = self.text(name)
        if raw is None:
            raise _BadRequest(400, f"{name} is required (YYYY-MM-DD)")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise _BadRequest(400, f"{name} must be a date (YYYY-MM-DD), not {raw!r}") from None

    def date_range(self) -> tuple[date, date]:
        start, end = self.day("start_date"), self.day("end_date")
        if end < start:
            raise _BadRequest(400, "end_date is before start_date")
        return start, end
