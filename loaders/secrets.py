"""Masking secrets in text the loaders print or store (error messages, page locations).

Two nets: patterns that look like credentials wherever they come from (a password in a URL,
a bearer token, a `password=` pair of a connection string), and the values the configuration
holds for the loaders' secrets, which catch a library echoing a token on its own.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import dlt

MASK = "***"

# shorter values are left to the patterns: masking every "pw" would garble the message
_MIN_MASKED_LENGTH = 4

_URL_PASSWORD = re.compile(r"(?P<start>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@/\s]*(?=@)")
# the header's own capitalisation: "wrong bearer token" in a sentence is not a header
_BEARER = re.compile(r"(?P<start>\bBearer\s+)[^\s'\",;]+")
_PASSWORD_PAIR = re.compile(r"(?P<start>\bpassword=)[^\s&;]+", re.IGNORECASE)

_SECRET_FIELDS = ("token", "credentials")
_DESTINATION_CREDENTIALS = ("destination.postgres.credentials",)


def mask_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with credential patterns and every value of `secrets` replaced by `***`."""
    values = {value.strip() for value in secrets}
    for value in sorted(values, key=len, reverse=True):
        if len(value) >= _MIN_MASKED_LENGTH:
            text = text.replace(value, MASK)
    for pattern in (_URL_PASSWORD, _BEARER, _PASSWORD_PAIR):
        text = pattern.sub(rf"\g<start>{MASK}", text)
    return text


def configured_secrets(source_names: Iterable[str]) -> list[str]:
    """The secret values the configuration holds for the sources and the PostgreSQL destination.

    Read where dlt resolves them (`sources.<name>.token`, `sources.<name>.credentials`,
    `destination.postgres.credentials`), from any provider: environment, secrets.toml.
    """
    keys = [f"sources.{name}.{field}" for name in source_names for field in _SECRET_FIELDS]
    keys.extend(_DESTINATION_CREDENTIALS)
    found: list[str] = []
    for key in keys:
        found.extend(_secret_values(dlt.secrets.get(key)))
        found.extend(_secret_values(dlt.secrets.get(f"{key}.password")))
    return found


def _secret_values(value: Any) -> list[str]:
    """The secret parts of a configured value: a token, a URL's password, a mapping's password."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return _secret_values(value.get("password"))
    text = str(value)
    if "://" in text:
        try:
            password = urlsplit(text.strip()).password
        except ValueError:
            # an unparsable URL is masked as a whole: it may be all secret
            return [text]
        return [password, unquote(password)] if password else []
    return [text]
