"""The one exception type the loaders raise to their callers."""


class LoaderError(Exception):
    """A load cannot start or a source cannot load; the message says what to do."""
