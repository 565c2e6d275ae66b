"""The one error type the CLI turns into a single line and a hint instead of a traceback."""

from __future__ import annotations


class WarehouseError(Exception):
    """A failure a user can meet and fix: the message says what happened, the hint what to do."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
