"""Defect rates and the reference data of Larkspur's business (countries, catalogue, carriers)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


class SimulatorError(Exception):
    """A problem a user can fix (bad arguments, mismatching state); the message says how."""


@dataclass(frozen=True)
class DefectRates:
    """How often each deliberate defect hits (a probability per affected row unless noted).

    `ad_report_restatement` is per report row and day of the 3-day restatement window, and
    `redelivered_file` per logistics file; `customer_erasure` is the share of existing customers
    erased per 30 days. Refunds are few, so their unknown reasons get a rate of their own.
    """

    duplicate_web_event: float = 0.01
    duplicate_tracking_event: float = 0.01
    resent_charge: float = 0.01
    late_web_event: float = 0.02
    late_tracking_event: float = 0.05
    ad_report_restatement: float = 0.3
    malformed_web_line: float = 0.005
    malformed_csv_row: float = 0.005
    mixed_offset: float = 0.01
    null_required_field: float = 0.005
    unknown_enum_value: float = 0.005
    unknown_refund_reason: float = 0.05
    redelivered_file: float = 0.03
    customer_erasure: float = 0.01

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not 0.0 <= value <= 1.0:
                raise SimulatorError(
                    f"defect rate {field.name}={value} is not between 0 and 1: pass a probability"
                )

    def as_dict(self) -> dict[str, float]:
        """The rates by name, as stored in the simulator state."""
        return asdict(self)


# Orders per day at scale 1 (about 1 million a year), customers and web events likewise.
ORDERS_PER_YEAR = 1_000_000
INITIAL_CUSTOMERS = 60_000
NEW_CUSTOMERS_PER_YEAR = 140_000
WEB_EVENTS_PER_YEAR = 20_000_000
PRODUCTS_AT_SCALE_ONE = 2_000

# Monday first: more orders on Sunday evenings and Mondays, fewer on Saturdays.
WEEKDAY_FACTORS = (1.08, 0.98, 0.96, 0.99, 1.0, 0.86, 1.13)

# country: (weight, currency, VAT rate, UTC offset in minutes used by the mixed-offset defect,
# Faker locale, region warehouse)
COUNTRIES: dict[str, tuple[float, str, float, int, str, str]] = {
    "DE": (22, "EUR", 0.19, 60, "de_DE", "EU1"),
    "FR": (14, "EUR", 0.20, 60, "fr_FR", "EU1"),
    "NL": (8, "EUR", 0.21, 60, "nl_NL", "EU1"),
    "BE": (4, "EUR", 0.21, 60, "nl_BE", "EU1"),
    "ES": (8, "EUR", 0.21, 60, "es_ES", "EU1"),
    "IT": (8, "EUR", 0.22, 60, "it_IT", "EU1"),
    "AT": (4, "EUR", 0.20, 60, "de_AT", "EU1"),
    "SE": (4, "EUR", 0.25, 60, "sv_SE", "EU1"),
    "GB": (14, "GBP", 0.20, 0, "en_GB", "UK1"),
    "US": (14, "USD", 0.07, -300, "en_US", "US1"),
}

# Curated so that every name survives Windows-1252 (the tracking files' encoding).
CITIES: dict[str, tuple[str, ...]] = {
    "DE": ("Berlin", "München", "Köln", "Düsseldorf", "Nürnberg", "Hamburg", "Lübeck"),
    "FR": ("Paris", "Besançon", "Orléans", "Lyon", "Nîmes", "Béziers", "Grenoble"),
    "NL": ("Amsterdam", "Utrecht", "Den Haag", "Rotterdam", "Groningen", "Eindhoven"),
    "BE": ("Bruxelles", "Liège", "Gent", "Antwerpen", "Namur", "Brugge"),
    "ES": ("Madrid", "Málaga", "Córdoba", "Cádiz", "Valencia", "A Coruña"),
    "IT": ("Roma", "Milano", "Forlì", "Cantù", "Torino", "Napoli"),
    "AT": ("Wien", "Graz", "Linz", "Salzburg", "Innsbruck", "Klagenfurt"),
    "SE": ("Stockholm", "Malmö", "Göteborg", "Västerås", "Örebro", "Jönköping"),
    "GB": ("London", "Manchester", "Leeds", "Bristol", "Glasgow", "Cardiff"),
    "US": ("New York", "Chicago", "Austin", "Seattle", "Denver", "Atlanta"),
}

CURRENCIES = ("EUR", "GBP", "USD")

# Warehouse: (city, country, currency of the 3PL's invoices, carriers with their weights)
WAREHOUSES: dict[str, tuple[str, str, str, tuple[tuple[str, float], ...]]] = {
    "EU1": ("Venlo", "NL", "EUR", (("DHL", 0.5), ("DPD", 0.3), ("POSTNL", 0.2))),
    "UK1": ("Daventry", "GB", "GBP", (("ROYALMAIL", 0.6), ("DPD", 0.4))),
    "US1": ("Memphis", "US", "USD", (("UPS", 0.45), ("USPS", 0.35), ("FEDEX", 0.2))),
}

# Promised transit days per carrier: (standard, express)
PROMISED_TRANSIT_DAYS = {
    "DHL": (3, 1),
    "DPD": (3, 2),
    "POSTNL": (4, 2),
    "ROYALMAIL": (3, 1),
    "UPS": (5, 2),
    "USPS": (6, 3),
    "FEDEX": (4, 1),
}

# Sorting hubs a parcel passes on its way to a destination country.
HUBS: dict[str, tuple[str, ...]] = {
    "DE": ("Leipzig", "Köln", "Kassel"),
    "FR": ("Besançon", "Roissy", "Orléans"),
    "NL": ("Venlo", "Nieuwegein"),
    "BE": ("Liège", "Mechelen"),
    "ES": ("Zaragoza", "Getafe"),
    "IT": ("Bergamo", "Bologna"),
    "AT": ("Wien", "Salzburg"),
    "SE": ("Malmö", "Jönköping"),
    "GB": ("Daventry", "Birmingham", "Warrington"),
    "US": ("Memphis", "Louisville", "Indianapolis"),
}

# department: categories with (price range in EUR, weight range in kg, nouns)
DEPARTMENTS: dict[
    str, dict[str, tuple[tuple[float, float], tuple[float, float], tuple[str, ...]]]
] = {
    "textiles": {
        "Bed Linen": ((39, 149), (0.8, 2.5), ("Duvet Cover", "Pillowcase Set", "Fitted Sheet")),
        "Towels": ((12, 59), (0.3, 1.5), ("Bath Towel", "Hand Towel", "Bath Mat")),
        "Throws & Blankets": ((35, 189), (0.6, 2.2), ("Throw", "Blanket", "Quilt")),
        "Cushions": ((19, 69), (0.3, 0.9), ("Cushion", "Cushion Cover", "Floor Cushion")),
        "Rugs": ((59, 399), (2.0, 12.0), ("Rug", "Runner", "Doormat")),
    },
    "kitchen": {
        "Cookware": ((29, 229), (0.8, 5.0), ("Casserole", "Frying Pan", "Saucepan")),
        "Tableware": ((9, 89), (0.3, 3.0), ("Dinner Plate Set", "Bowl", "Serving Platter")),
        "Glassware": ((12, 79), (0.4, 2.0), ("Tumbler Set", "Carafe", "Wine Glasses")),
        "Kitchen Utensils": ((6, 49), (0.1, 0.8), ("Ladle", "Spatula", "Chopping Board")),
    },
    "lighting": {
        "Table Lamps": ((49, 249), (1.0, 4.0), ("Table Lamp", "Desk Lamp")),
        "Floor Lamps": ((89, 399), (3.0, 9.0), ("Floor Lamp", "Arc Lamp")),
        "Pendant Lights": ((59, 299), (0.8, 3.5), ("Pendant", "Ceiling Shade")),
        "Candles & Holders": ((8, 59), (0.2, 1.5), ("Candle Holder", "Scented Candle", "Lantern")),
    },
    "furniture": {
        "Side Tables": ((79, 349), (4.0, 15.0), ("Side Table", "Nesting Tables")),
        "Shelving": ((99, 599), (8.0, 30.0), ("Bookcase", "Wall Shelf", "Ladder Shelf")),
        "Seating": ((129, 799), (5.0, 25.0), ("Lounge Chair", "Bench", "Stool")),
    },
    "decor": {
        "Vases": ((15, 119), (0.4, 3.0), ("Vase", "Bud Vase")),
        "Mirrors": ((49, 299), (2.0, 10.0), ("Wall Mirror", "Round Mirror")),
        "Wall Art": ((25, 199), (0.5, 4.0), ("Print", "Canvas", "Wall Hanging")),
        "Plant Pots": ((9, 89), (0.3, 6.0), ("Plant Pot", "Planter", "Hanging Planter")),
    },
}

PRODUCT_ADJECTIVES = (
    "Linen",
    "Oak",
    "Stoneware",
    "Rattan",
    "Wool",
    "Brass",
    "Ceramic",
    "Walnut",
    "Velvet",
    "Terracotta",
    "Jute",
    "Marble",
    "Cotton",
    "Glass",
    "Ash",
)
PRODUCT_COLLECTIONS = (
    "Fjord",
    "Larch",
    "Sable",
    "Juniper",
    "Heath",
    "Alder",
    "Moss",
    "Dune",
    "Birch",
    "Cove",
    "Willow",
    "Ember",
    "Sorrel",
    "Thistle",
    "Maple",
)

PLATFORMS = {
    "google": ("google", "cpc"),
    "meta": ("facebook", "paid_social"),
    "tiktok": ("tiktok", "paid_social"),
}
CAMPAIGN_THEMES = (
    "brand",
    "spring_sale",
    "new_arrivals",
    "bedroom_refresh",
    "kitchen_edit",
    "lighting",
    "retargeting",
    "summer_living",
    "gift_guide",
    "clearance",
)

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Mobile Safari/537.36",
    "LarkspurApp/3.2 (iOS 17.4)",
    "LarkspurApp/3.2 (Android 14)",
)
ORGANIC_REFERRERS = (
    None,
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://www.pinterest.com/",
    "https://www.instagram.com/",
)
SITE = "https://www.larkspur.example"

# Values a newer version of a source system sends that the contract does not know yet.
UNKNOWN_WEB_EVENT_TYPES = ("wishlist_add", "video_play", "store_locator_view")
UNKNOWN_TRACKING_CODES = ("HELD_AT_CUSTOMS", "ADDRESS_CORRECTED", "DELAYED")
UNKNOWN_REFUND_REASONS = ("product_not_received", "goodwill", "expired_uncaptured_charge")
