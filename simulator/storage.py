"""The SQLite files the simulator writes: the shop database, the API state and its own state."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SHOP_SCHEMA = """
create table if not exists product_categories (
    category_id integer primary key,
    category_name text not null,
    department text not null,
    updated_at text not null
);
create table if not exists products (
    product_id integer primary key,
    sku text not null unique,
    product_name text not null,
    category_id integer not null,
    status text not null,
    list_price_eur numeric not null,
    unit_cost_eur numeric not null,
    weight_kg numeric not null,
    created_at text not null,
    updated_at text not null
);
create table if not exists customers (
    customer_id integer primary key,
    email text not null,
    first_name text not null,
    last_name text not null,
    phone text,
    segment text not null,
    marketing_consent integer not null,
    created_at text not null,
    updated_at text not null
);
create table if not exists addresses (
    address_id integer primary key,
    customer_id integer not null,
    address_type text not null,
    line1 text not null,
    line2 text,
    city text not null,
    postcode text not null,
    country_code text not null,
    is_default integer not null,
    created_at text not null,
    updated_at text not null
);
create index if not exists addresses_customer on addresses (customer_id);
create table if not exists discounts (
    discount_id integer primary key,
    discount_code text not null,
    discount_type text not null,
    discount_value numeric not null,
    valid_from text not null,
    valid_to text not null,
    created_at text not null,
    updated_at text not null
);
create table if not exists orders (
    order_id integer primary key,
    order_number text not null unique,
    customer_id integer not null,
    shipping_address_id integer not null,
    billing_address_id integer not null,
    discount_id integer,
    status text not null,
    currency_code text not null,
    subtotal_amount numeric not null,
    discount_amount numeric not null,
    shipping_amount numeric not null,
    tax_amount numeric not null,
    total_amount numeric not null,
    ordered_at text not null,
    updated_at text not null
);
create table if not exists order_lines (
    order_line_id integer primary key,
    order_id integer not null,
    product_id integer not null,
    quantity integer not null,
    unit_price numeric not null,
    discount_amount numeric not null,
    tax_amount numeric not null,
    line_total numeric not null,
    created_at text not null,
    updated_at text not null
);
create index if not exists order_lines_order on order_lines (order_id);
create table if not exists order_status_history (
    status_history_id integer primary key,
    order_id integer not null,
    status text not null,
    changed_at text not null
);
"""

API_SCHEMA = """
create table if not exists charges (
    id text primary key,
    order_number text not null,
    customer_email text,
    amount integer,
    currency text not null,
    status text not null,
    payment_method text not null,
    risk_score integer,
    created integer not null,
    updated integer not null
);
create index if not exists charges_cursor on charges (updated, id);
create table if not exists refunds (
    id text primary key,
    charge_id text not null,
    amount integer not null,
    currency text not null,
    reason text not null,
    status text not null,
    created integer not null,
    updated integer not null
);
create index if not exists refunds_cursor on refunds (updated, id);
create table if not exists payouts (
    id text primary key,
    currency text not null,
    amount integer not null,
    fee_amount integer not null,
    charge_count integer not null,
    arrival_date text not null,
    status text not null,
    created integer not null,
    updated integer not null
);
create index if not exists payouts_cursor on payouts (updated, id);
create table if not exists campaigns (
    campaign_id integer primary key,
    campaign_name text not null,
    platform text not null,
    objective text not null,
    status text not null,
    daily_budget numeric not null,
    currency text not null,
    utm_source text not null,
    utm_medium text not null,
    utm_campaign text not null,
    start_date text not null,
    end_date text,
    updated_at text not null
);
create table if not exists ad_groups (
    ad_group_id integer primary key,
    campaign_id integer not null,
    ad_group_name text not null,
    status text not null,
    bid_strategy text not null,
    updated_at text not null
);
create index if not exists ad_groups_campaign on ad_groups (campaign_id);
create table if not exists ad_daily_reports (
    report_date text not null,
    campaign_id integer not null,
    impressions integer not null,
    clicks integer not null,
    spend numeric not null,
    currency text not null,
    platform_conversions integer not null,
    primary key (report_date, campaign_id)
);
create table if not exists fx_rates (
    rate_date text not null,
    currency text not null,
    rate numeric not null,
    primary key (rate_date, currency)
);
"""

# What the next day needs and the files never show: the scheduled future of every order,
# late rows waiting for their file, stock levels, id counters and the defect log.
STATE_SCHEMA = """
create table if not exists scheduled (
    seq integer primary key,
    due_day integer not null,
    due_at integer not null,
    kind text not null,
    payload text not null
);
create index if not exists scheduled_due on scheduled (due_day, due_at, seq);
create table if not exists inventory (
    warehouse_code text not null,
    product_id integer not null,
    on_hand integer not null,
    reserved integer not null,
    inbound integer not null,
    primary key (warehouse_code, product_id)
);
create table if not exists counters (
    name text primary key,
    value integer not null
);
create table if not exists accumulators (
    name text primary key,
    value real not null
);
create table if not exists defects (
    seq integer primary key,
    kind text not null,
    day integer not null,
    detail text not null
);
create index if not exists defects_kind on defects (kind, seq);
create table if not exists file_rows (
    source text primary key,
    rows_written integer not null,
    entities integer not null
);
"""


def connect(path: Path, schema: str) -> sqlite3.Connection:
    """Open (creating if needed) one of the simulator's SQLite files with its schema."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    # The simulator is the only writer and re-runnable from its last committed day, so
    # durability on power loss buys nothing here while costing most of the write time.
    connection.execute("pragma synchronous = off")
    connection.executescript(schema)
    return connection
