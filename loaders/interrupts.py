"""Noticing Ctrl-C and SIGTERM during a load, including the ones that never surface as exceptions.

`load()` stops the whole run on a signal, but the signal does not always reach it as an
exception:

- During dlt's normalize and load steps dlt holds the signal back so that running jobs can
  finish, then raises `SignalReceivedException` from the next check; when the step's work is
  done before any check, it drops the signal (`intercepted_signals` clears it on exit) and
  the step returns as if nothing happened.
- Inside a DuckDB query, DuckDB turns the KeyboardInterrupt into `duckdb.InterruptException`,
  an ordinary `Exception` that no longer says which signal it was.

- Inside DuckDB or a reader that reports a bad file and goes on with the next one, the
  exception can look like any other failure (`RuntimeError: Query interrupted`).

`SignalWatch` sees every delivered signal that has a Python handler, whatever that handler
does: it is Python's wakeup fd (`signal.set_wakeup_fd`), to which the interpreter writes each
signal's number before running the handler. While `load()` runs one, `stop_signal_received()`
tells any code of the loaders whether a failure it is about to absorb is really a stop.
"""

import signal
import socket
import threading

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_active: "SignalWatch | None" = None


def stop_signal_received() -> int | None:
    """The stop signal delivered during the running `load()`, or None."""
    return _active.received() if _active is not None else None


class SignalWatch:
    """The stop signals (SIGINT, SIGTERM) delivered between `start()` and `stop()`.

    Only the main thread receives signals and may watch them; elsewhere it sees none.
    """

    def __init__(self) -> None:
        self._reader: socket.socket | None = None
        self._writer: socket.socket | None = None
        self._previous_fd = -1
        self._seen: list[int] = []

    def start(self) -> "SignalWatch":
        global _active
        if threading.current_thread() is threading.main_thread():
            _active = self
            self._reader, self._writer = socket.socketpair()
            self._reader.setblocking(False)
            self._writer.setblocking(False)
            self._previous_fd = signal.set_wakeup_fd(
                self._writer.fileno(), warn_on_full_buffer=False
            )
        return self

    def stop(self) -> None:
        global _active
        if _active is self:
            _active = None
        if self._reader is not None and self._writer is not None:
            signal.set_wakeup_fd(self._previous_fd)
            self._reader.close()
            self._writer.close()
            self._reader = self._writer = None

    def received(self) -> int | None:
        """The first stop signal delivered so far, or None."""
        if self._reader is not None:
            while True:
                try:
                    data = self._reader.recv(512)
                except BlockingIOError:
                    break
                if not data:
                    break
                self._seen.extend(data)
        return next((code for code in self._seen if code in STOP_SIGNALS), None)
