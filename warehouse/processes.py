"""Stopping a warehouse command as a whole: its signals, and the child processes it starts.

A command that Ctrl-C or SIGTERM stops ends with one line and exit code 128 + the signal's
number (130, 143); `Interrupted` carries that signal through the code below the CLI, which lets
a KeyboardInterrupt pass (it is not an `Exception`).

dbt runs as a child process (see `warehouse.dbt`). `run_child` starts it so that it never
outlives the command that started it:

- in a process group of its own, so that the command can stop it and anything it started with
  one `killpg`, and so that a terminal's Ctrl-C reaches the command first and the command, not
  the terminal, decides the order: stop dbt, wait for it, then report;
- through `python -m warehouse.processes <parent pid> <command...>`, which asks Linux to send
  it SIGKILL when its parent dies (`prctl(PR_SET_PDEATHSIG)`) and then becomes the command with
  `execvp` (the setting survives `execve`). This is what covers a SIGKILL of the command, which
  leaves it no chance to clean up: without it dbt would run on as an orphan holding the
  DuckDB file. Linux documents this mechanism for exactly this case (prctl(2)); it is set in the
  child itself rather than in a `preexec_fn` because `preexec_fn` is not safe in a process with
  threads (the CLI has some: rich's spinner, the local API server). Elsewhere (macOS) there is
  no such call, and only a SIGKILL of the command can leave its child running.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

PR_SET_PDEATHSIG = 1
# Time a stopped child gets to exit on SIGTERM before it and its process group are killed.
STOP_GRACE_SECONDS = 10.0


class Interrupted(KeyboardInterrupt):
    """A signal stopped the command; `detail` says what stopped with it or what is left to do."""

    def __init__(self, signal_code: int, detail: str = "") -> None:
        super().__init__(detail)
        self.signal_code = signal_code
        self.detail = detail


def signal_of(interrupt: KeyboardInterrupt) -> signal.Signals:
    """The signal behind an interrupt: Ctrl-C's SIGINT unless the exception names another.

    `Interrupted` and dlt's `SignalReceivedException` (what dlt raises after it has deferred a
    signal to finish a step) both carry it as `signal_code`.
    """
    return signal.Signals(getattr(interrupt, "signal_code", signal.SIGINT))


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises `Interrupted` like Ctrl-C raises KeyboardInterrupt, so that the same
    cleanup runs (by default it ends Python at once, leaving children and logs behind)."""

    def raise_interrupted(signal_code: int, _frame: object) -> None:
        raise Interrupted(signal_code)

    previous = signal.signal(signal.SIGTERM, raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_child(
    command: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    capture: bool,
    name: str,
) -> subprocess.CompletedProcess[str]:
    """Run `command` to its end as a child that never outlives this process.

    On Ctrl-C or SIGTERM the child's process group is stopped and waited for before
    `Interrupted` (saying that `name` stopped too) goes up to the CLI.
    """
    pipe = subprocess.PIPE if capture else None
    process = start_child(command, cwd=cwd, env=env, stdout=pipe, stderr=pipe)
    try:
        stdout, stderr = process.communicate()
    except BaseException as stopped:
        stop_process_group(process)
        if isinstance(stopped, KeyboardInterrupt):
            raise Interrupted(
                signal_of(stopped), f"{name} stopped with it, run the command again to finish"
            ) from stopped
        raise
    return subprocess.CompletedProcess(list(command), process.returncode, stdout, stderr)


def start_child(
    command: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    stdout: int | IO[str] | None = None,
    stderr: int | IO[str] | None = None,
) -> subprocess.Popen[str]:
    """Start `command` in a process group of its own, to die with this process (see above).

    For a child that runs beside the command (a server) rather than to its end: the caller
    stops it with `stop_process_group`. Call it from the main thread: Linux sends the signal
    when the *thread* that started the child ends.
    """
    guarded = [sys.executable, "-m", "warehouse.processes", str(os.getpid()), *command]
    return subprocess.Popen(
        guarded,
        cwd=cwd,
        env=env,
        stdout=stdout,
        stderr=stderr,
        text=True,
        process_group=0,
    )


def stop_process_group(process: subprocess.Popen[str]) -> None:
    """Stop a child started by `run_child` and everything in its process group, and reap it."""
    # A second Ctrl-C while stopping must not leave the child half-stopped; it is delivered
    # when the signals are unblocked again, and ends the command all the same.
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        # SIGTERM, not SIGINT: dbt answers SIGINT with a traceback of wherever it was, and has
        # no handler for SIGTERM, so it ends at once. Nothing is half-written: DuckDB replays
        # or drops its write-ahead log on the next open, PostgreSQL rolls back the statement
        # of a dropped connection.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        # communicate, not wait: a child blocked on a full output pipe could not exit
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.communicate(timeout=STOP_GRACE_SECONDS)
        # whatever is left of the group, the child too if it did not stop in time
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def die_with_parent(parent_pid: int) -> None:
    """Have Linux kill this process when `parent_pid` (its parent) dies; a no-op elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    # SIGKILL: once the parent is gone nobody would escalate a signal the child ignored.
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_PDEATHSIG): {os.strerror(error)}")
    # the parent may have died before the request took effect: then no signal will come
    if os.getppid() != parent_pid:
        os._exit(128 + signal.SIGKILL)


def main(arguments: Sequence[str]) -> None:
    """`python -m warehouse.processes <parent pid> <command...>`: become `command`, dying with
    the parent."""
    parent_pid, *command = arguments
    die_with_parent(int(parent_pid))
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
