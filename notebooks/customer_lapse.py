# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Which customers are likely to lapse?
#
# A customer **lapses** when they place no order in the 90 days after a snapshot date. This
# notebook explores how Larkspur's customers buy, then fits a simple, honest baseline: a
# logistic regression on recency, frequency, ordered value and tenure, trained on earlier
# snapshot dates and tested on later ones, against two naive baselines (the base rate, and
# recency alone).
#
# It reads the marts, never raw data: `marketing.fct_customer_lapse_features` (one row per
# customer per month start, features known at that date, the label once its 90 days are
# observed) and `finance.fct_order_lines`. Definitions are in the model's docs
# (`models/marts/marketing/_marketing__models.yml`).
#
# **Source of truth:** `notebooks/customer_lapse.py` (jupytext, py:percent) is the file to
# edit and review. `customer_lapse.ipynb` is generated from it, without outputs:
# `uv run jupytext --to ipynb notebooks/customer_lapse.py` after editing the `.py`, or edit in
# Jupyter, where jupytext saves both (then clear the outputs before committing; `make test`
# fails while the pair differs or the `.ipynb` holds outputs).

# %%
import json

import altair as alt
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from warehouse.database import connect
from warehouse.errors import WarehouseError
from warehouse.postgres import reporter_url
from warehouse.settings import resolve_paths

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)

# %% [markdown]
# ## Read the marts
#
# The warehouse file is the one the project's settings resolve (`WAREHOUSE_DATA_DIR`, or
# `WAREHOUSE_DUCKDB_PATH`, else `data/warehouse.duckdb`), opened read-only: the notebook can
# run beside `warehouse query`, and cannot change the warehouse. A build (`warehouse build`)
# needs the file to itself, so run the cells, then let go of the connection (the `with` block
# closes it).

# %%
warehouse_file = resolve_paths().duckdb_path
with connect(warehouse_file, read_only=True) as connection:
    features = connection.sql(
        "select * from marketing.fct_customer_lapse_features order by snapshot_date, customer_id"
    ).df()
    # one row per order of a known customer: what the purchase-behaviour charts read
    orders = connection.sql(
        """
        select
            customers.customer_id,
            order_lines.order_id,
            min(order_lines.ordered_at) as ordered_at,
            sum(order_lines.net_amount_eur) as net_amount_eur
        from finance.fct_order_lines as order_lines
        inner join core.dim_customer as customers
            on order_lines.customer_sk = customers.customer_sk
        where customers.customer_id is not null
        group by customers.customer_id, order_lines.order_id
        order by customers.customer_id, ordered_at
        """
    ).df()

# Monthly snapshots and 90-day windows need about 240 days of history to train and test on;
# `make demo` simulates that much; a shorter warehouse has none, and the message says what to do.
SHORT_HISTORY_ADVICE = (
    "simulate more history (`warehouse demo --days 240` in a new data folder), or rebuild "
    "the feature model on weekly 14-day windows: `.venv/bin/dbt build --full-refresh "
    "--select fct_customer_lapse_features --vars '{customer_feature_snapshot_period: week, "
    "customer_lapse_window_days: 14}'`"
)
if features.empty:
    raise WarehouseError(
        f"marketing.fct_customer_lapse_features in {warehouse_file} is empty: "
        f"{SHORT_HISTORY_ADVICE}"
    )
lapse_window_days = int(
    (features["lapse_window_end_date"] - features["snapshot_date"]).dt.days.iloc[0]
)
print(f"warehouse: {warehouse_file}")
print(
    f"feature rows: {len(features)}, customers: {features['customer_id'].nunique()}, "
    f"snapshot dates: {features['snapshot_date'].nunique()}, lapse window: "
    f"{lapse_window_days} days"
)
print(f"orders of known customers: {len(orders)}")

# %% [markdown]
# ## The same marts on PostgreSQL, as the reporter
#
# In production the marts live in PostgreSQL, where a notebook reads them as the `reporter`
# role: it may read the marts and nothing else (not raw, not staging, no writes). This cell
# runs only when `WAREHOUSE_PG_REPORTER_PASSWORD` is set (with `WAREHOUSE_PG_ADMIN_URL` or its
# default for the server, `WAREHOUSE_PG_DATABASE` and `WAREHOUSE_PG_ROLE_PREFIX` as for
# `warehouse setup-postgres`); otherwise it says so and the notebook goes on with DuckDB.

# %%
postgres_url = reporter_url()
if postgres_url is None:
    print("PostgreSQL: not configured (WAREHOUSE_PG_REPORTER_PASSWORD is unset); using DuckDB")
else:
    import sqlalchemy

    engine = sqlalchemy.create_engine(
        postgres_url.replace("postgresql://", "postgresql+psycopg2://")
    )
    with engine.connect() as postgres:
        postgres_counts = pd.read_sql(
            "select current_user as role_name, count(*) as feature_rows "
            "from marketing.fct_customer_lapse_features",
            postgres,
        )
    engine.dispose()
    print(postgres_counts.to_string(index=False))

# %% [markdown]
# ## How customers buy
#
# Orders per customer, the time between a customer's consecutive orders, and what an order is
# worth. The gaps say what a 90-day window means here: if most repeat orders come within a few
# weeks, 90 days without one is a real silence.

# %%
orders_per_customer = orders.groupby("customer_id").size()
gaps_days = (
    orders.sort_values(["customer_id", "ordered_at"])
    .groupby("customer_id")["ordered_at"]
    .diff()
    .dt.total_seconds()
    .div(86400)
    .dropna()
)
behaviour = pd.DataFrame(
    {
        "orders per customer": orders_per_customer.describe(),
        "days between orders": gaps_days.describe(),
        "order net amount (EUR)": orders["net_amount_eur"].astype(float).describe(),
    }
).round(1)
print(behaviour.to_string())
print(f"share of customers with one order only: {(orders_per_customer == 1).mean():.1%}")

# %%
alt.Chart(pd.DataFrame({"days_between_orders": gaps_days})).mark_bar().encode(
    alt.X("days_between_orders:Q", bin=alt.Bin(maxbins=30), title="days between orders"),
    alt.Y("count():Q", title="repeat orders"),
).properties(title="Time between a customer's consecutive orders", width=500, height=200)

# %% [markdown]
# ## Lapse over time and by recency
#
# The label is known only for snapshot dates whose window is over; the latest snapshots are
# the customers to score. If recency matters, the lapse rate should climb with the days since
# the last order.

# %%
labelled = features[features["has_ordered_in_lapse_window"].notna()].copy()
labelled["is_lapsed"] = ~labelled["has_ordered_in_lapse_window"].astype(bool)
by_snapshot = features.groupby("snapshot_date").agg(
    customers=("customer_id", "size"),
    labelled=("has_ordered_in_lapse_window", "count"),
    mean_days_since_last_order=("days_since_last_order", "mean"),
)
by_snapshot["lapse_rate"] = labelled.groupby("snapshot_date")["is_lapsed"].mean()
print(by_snapshot.round(3).to_string())

# %%
recency_bands = pd.qcut(labelled["days_since_last_order"], q=4, duplicates="drop")
print(
    labelled.groupby(recency_bands, observed=True)["is_lapsed"]
    .agg(customers="size", lapse_rate="mean")
    .round(3)
    .to_string()
)

# %% [markdown]
# ## A time-based split
#
# Train on the earlier labelled snapshot dates, test on the later ones (the last third, at
# least one): the model is judged on months it has not seen, as it would be used. A customer
# appears on several dates, so a random split would leak their future into training.

# %%
labelled_dates = sorted(labelled["snapshot_date"].unique())
if len(labelled_dates) < 2:
    raise WarehouseError(
        f"the warehouse holds {len(labelled_dates)} snapshot date(s) with an observed "
        f"{lapse_window_days}-day window, and a time split needs at least 2: "
        f"{SHORT_HISTORY_ADVICE}"
    )
test_date_count = max(1, round(len(labelled_dates) / 3))
first_test_date = labelled_dates[-test_date_count]
train = labelled[labelled["snapshot_date"] < first_test_date]
test = labelled[labelled["snapshot_date"] >= first_test_date]
print(
    f"train: {len(train)} rows on {train['snapshot_date'].nunique()} snapshot dates up to "
    f"{train['snapshot_date'].max():%Y-%m-%d}, lapse rate {train['is_lapsed'].mean():.3f}"
)
print(
    f"test: {len(test)} rows on {test['snapshot_date'].nunique()} snapshot dates from "
    f"{first_test_date:%Y-%m-%d}, lapse rate {test['is_lapsed'].mean():.3f}"
)

# %% [markdown]
# ## The baseline model
#
# Logistic regression on the RFM features (counts, days and EUR amounts log-transformed, then
# standardised: they are skewed) and the customer's segment and marketing consent at the
# snapshot date. Class weights are balanced so that the rarer class is not ignored.

# %%
numeric_features = [
    "days_since_last_order",
    "days_since_first_order",
    "tenure_days",
    "order_count",
    "order_count_last_90_days",
    "ordered_net_amount_eur",
    "average_order_net_amount_eur",
]
categorical_features = ["segment", "has_marketing_consent"]


def model_inputs(rows: pd.DataFrame) -> pd.DataFrame:
    """The feature columns as the model takes them: floats, and categories as text."""
    inputs = rows[numeric_features].astype(float)
    for column in categorical_features:
        inputs[column] = rows[column].astype(str)
    return inputs


model = make_pipeline(
    ColumnTransformer(
        [
            (
                "rfm",
                make_pipeline(
                    FunctionTransformer(np.log1p, feature_names_out="one-to-one"), StandardScaler()
                ),
                numeric_features,
            ),
            ("customer", OneHotEncoder(handle_unknown="ignore"), categorical_features),
        ]
    ),
    LogisticRegression(class_weight="balanced", max_iter=1000),
)
model.fit(model_inputs(train), train["is_lapsed"])
coefficients = pd.Series(
    model[-1].coef_[0], index=model[0].get_feature_names_out(), name="coefficient"
)
print(coefficients.sort_values().round(3).to_string())

# %% [markdown]
# ## Against the naive baselines
#
# - **base rate**: the same score for everyone (the training lapse rate): ROC AUC 0.5, average
#   precision the test set's lapse rate. Anything useful beats it.
# - **recency alone**: score a customer by the days since their last order, no fitting. The
#   model earns its keep only if it beats this.
#
# ROC AUC: how often a lapsed customer is ranked above one who ordered again (0.5 is chance).
# Average precision: how pure the top of the list is, against the lapse rate.

# %%
scores = {
    "logistic regression": model.predict_proba(model_inputs(test))[:, 1],
    "recency alone": test["days_since_last_order"].to_numpy(dtype=float),
    "base rate": np.full(len(test), train["is_lapsed"].mean()),
}
metrics = pd.DataFrame(
    {
        name: {
            "roc_auc": roc_auc_score(test["is_lapsed"], score),
            "average_precision": average_precision_score(test["is_lapsed"], score),
        }
        for name, score in scores.items()
    }
).T
print(metrics.round(3).to_string())


# %% [markdown]
# One test set gives one AUC; a few hundred customers leave it a few hundredths of noise. The
# model beats the best naive baseline only if the whole 95 % bootstrap interval of the AUC
# difference lies above zero. Customers are resampled, not rows, because a customer appears
# on every test snapshot date.

# %%
model_auc = metrics.loc["logistic regression", "roc_auc"]
best_naive = metrics.loc[["recency alone", "base rate"], "roc_auc"].idxmax()
best_naive_auc = metrics.loc[best_naive, "roc_auc"]
is_lapsed = test["is_lapsed"].to_numpy()
rows_of_customer = list(test.groupby("customer_id").indices.values())
random = np.random.default_rng(17)
auc_differences = []
for _ in range(500):
    drawn = random.integers(0, len(rows_of_customer), len(rows_of_customer))
    rows = np.concatenate([rows_of_customer[index] for index in drawn])
    if is_lapsed[rows].all() or not is_lapsed[rows].any():
        continue  # AUC needs both classes
    auc_differences.append(
        roc_auc_score(is_lapsed[rows], scores["logistic regression"][rows])
        - roc_auc_score(is_lapsed[rows], scores[best_naive][rows])
    )
difference_low, difference_high = np.percentile(auc_differences, [2.5, 97.5])
beats_naive = bool(difference_low > 0)
if beats_naive:
    verdict = "beats"
elif difference_high < 0:
    verdict = "is worse than"
else:
    verdict = "is no better than"
print(
    f"The model {verdict} the best naive baseline ({best_naive}): ROC AUC {model_auc:.3f} "
    f"against {best_naive_auc:.3f}, difference {model_auc - best_naive_auc:+.3f} "
    f"(95 % interval {difference_low:+.3f} to {difference_high:+.3f})."
)

# %% [markdown]
# Read the verdict as it comes. On the simulated company a returning buyer is drawn at random
# from all customers, whatever they bought before, so purchase history carries next to no
# signal and an AUC near 0.5 is the honest result, not a bug. On real customers recency and
# frequency usually do carry it; this baseline is what a better model must beat.

# %% tags=["summary"]
summary = {
    "warehouse_file": str(warehouse_file),
    "feature_rows": len(features),
    "labelled_rows": len(labelled),
    "snapshot_dates": features["snapshot_date"].nunique(),
    "lapse_window_days": lapse_window_days,
    "train_rows": len(train),
    "test_rows": len(test),
    "last_train_date": f"{train['snapshot_date'].max():%Y-%m-%d}",
    "first_test_date": f"{first_test_date:%Y-%m-%d}",
    "test_lapse_rate": float(test["is_lapsed"].mean()),
    "metrics": {name: dict(row) for name, row in metrics.round(6).iterrows()},
    "best_naive_baseline": best_naive,
    "auc_difference_interval": [float(difference_low), float(difference_high)],
    "beats_naive_baseline": beats_naive,
    "verdict": verdict,
    "postgres_reporter": postgres_url is not None,
}
print(json.dumps(summary, indent=2))

# %% [markdown]
# ## Who is likely to lapse now
#
# The latest snapshot date, scored by the model (retrained on every labelled date): the
# customers most likely to lapse, with what a retention campaign needs to know. Only those
# with marketing consent may be e-mailed.

# %%
latest_date = features["snapshot_date"].max()
latest = features[features["snapshot_date"] == latest_date].copy()
model.fit(model_inputs(labelled), labelled["is_lapsed"])
latest["lapse_probability"] = model.predict_proba(model_inputs(latest))[:, 1]
at_risk = latest.sort_values("lapse_probability", ascending=False).head(10)
print(f"snapshot date {latest_date:%Y-%m-%d}: {len(latest)} customers scored")
print(
    at_risk[
        [
            "customer_id",
            "segment",
            "days_since_last_order",
            "order_count",
            "ordered_net_amount_eur",
            "has_marketing_consent",
            "lapse_probability",
        ]
    ]
    .round(3)
    .to_string(index=False)
)
