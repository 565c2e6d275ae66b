"""The exception types the loaders raise to their callers."""


class LoaderError(Exception):
    """A load cannot start or a source cannot load; the message says what to do."""


class LoadInterrupted(KeyboardInterrupt):
    """A signal (Ctrl-C, SIGTERM) stopped `load()` while it loaded a source.

    A KeyboardInterrupt, so that it passes every `except Exception` on its way up. `detail` says
    which source was loading, which ones finished and which ones the next load finishes;
    `signal_code` is the signal's number, as in dlt's `SignalReceivedException`.
    """

    def __init__(self, signal_code: int, detail: str) -> None:
        super().__init__(detail)
        self.signal_code = signal_code
        self.detail = detail

    @classmethod
    def during(
        cls, signal_code: int, loading: str | None, loaded: list[str], remaining: list[str]
    ) -> "LoadInterrupted":
        """The run stopped while `loading` (or between sources), after `loaded`, before
        `remaining`."""
        progress = [f"{', '.join(loaded)} loaded"] if loaded else []
        if loading:
            progress.append(f"{loading} was loading")
        unfinished = ", ".join([loading, *remaining] if loading else remaining)
        next_load = f"the next load finishes {unfinished}"
        return cls(signal_code, f"{', '.join(progress)}: {next_load}" if progress else next_load)
