"""The one exception the benchmark harness raises for problems a user can fix."""


class BenchmarkError(Exception):
    """A benchmark step could not run; the message says why and what to do."""
