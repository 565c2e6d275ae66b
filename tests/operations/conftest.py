"""Real `warehouse` processes for the operations tests, and what they leave running.

Each command runs as `python -m warehouse` in a session of its own, so that a test can send a
signal to it (or to its whole process group, as a terminal's Ctrl-C does) and so that teardown
can kill whatever it and its children left behind. Processes are found in /proc (psutil is not a
dependency): a data folder's path is unique to a test, so every process whose command line names
it belongs to that test.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from warehouse.settings import PROJECT_DIR, TELEMETRY_OFF

SIMULATED_DAYS = 3
SIMULATED_SCALE = 0.002


def warehouse_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "warehouse", *args]


def cli_environment(**overrides: str) -> dict[str, str]:
    # a wide terminal: rich wraps lines at 80 columns when it writes to a file
    return {**os.environ, **TELEMETRY_OFF, "COLUMNS": "200", **overrides}


def run_warehouse(*args: str, timeout: float = 120, **environment: str) -> Completed:
    """Run one `warehouse` command to its end (killed after `timeout` seconds)."""
    try:
        completed = subprocess.run(
            warehouse_command(*args),
            cwd=PROJECT_DIR,
            env=cli_environment(**environment),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"`warehouse {' '.join(args)}` still ran after {timeout} s: {expired.stderr}")
    return Completed(completed.returncode, completed.stdout, completed.stderr)


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


@dataclass
class RunningCommand:
    """A `warehouse` command started in its own session, its output going to files."""

    process: subprocess.Popen[bytes]
    stdout_file: Path
    stderr_file: Path
    # the dbt processes a test saw it start, whose process groups it checks and kills
    dbt_pids: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, timeout: float) -> Completed:
        try:
            returncode = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the command still ran {timeout} s later: {self.stderr_file.read_text()}")
        return Completed(returncode, self.stdout_file.read_text(), self.stderr_file.read_text())


def as_a_terminal_starts_it() -> None:
    """Give the child SIGINT at its default, as a shell gives a command in the foreground.

    A suite started in the background (`make test &`, `nohup`, some CI runners) ignores SIGINT,
    and exec passes an ignored signal on: Python would then install no Ctrl-C handler in the
    command, and the tests that press Ctrl-C would test nothing.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Commands:
    """Starts `warehouse` commands; kills what they left when the test ends."""

    tmp_path: Path
    started: list[RunningCommand] = field(default_factory=list)
    watched_texts: list[str] = field(default_factory=list)

    def start(self, *args: str, **environment: str) -> RunningCommand:
        number = len(self.started)
        stdout_file = self.tmp_path / f"command{number}.out"
        stderr_file = self.tmp_path / f"command{number}.err"
        with stdout_file.open("wb") as stdout, stderr_file.open("wb") as stderr:
            process = subprocess.Popen(
                warehouse_command(*args),
                cwd=PROJECT_DIR,
                env=cli_environment(**environment),
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
                preexec_fn=as_a_terminal_starts_it,
            )
        command = RunningCommand(process, stdout_file, stderr_file)
        self.started.append(command)
        return command

    def kill_leftovers(self) -> None:
        for command in self.started:
            for group in [command.pid, *command.dbt_pids]:
                for pid in [*group_members(group), group]:
                    kill(pid)
            if command.process.poll() is None:
                command.process.wait(10)
        for text in self.watched_texts:
            for pid in processes_mentioning(text):
                kill(pid)


@pytest.fixture
def commands(tmp_path: Path) -> Iterator[Commands]:
    started = Commands(tmp_path)
    try:
        yield started
    finally:
        started.kill_leftovers()


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _live_processes() -> Iterator[tuple[int, str, int]]:
    """(pid, command line, process group) of every process that has not exited."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        # the fields after the command name, which may itself hold spaces and parentheses
        state, _parent, group = stat.rsplit(")", 1)[1].split()[:3]
        if state in {"Z", "X"}:
            continue
        yield int(entry.name), cmdline.replace(b"\0", b" ").decode(errors="replace"), int(group)


def group_members(group: int) -> list[int]:
    """Live processes in process group `group`."""
    return [pid for pid, _cmdline, pgid in _live_processes() if pgid == group]


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains `text` (a test's unique data folder)."""
    return [pid for pid, cmdline, _pgid in _live_processes() if text in cmdline]


def dbt_processes(data_dir: Path) -> list[int]:
    return [
        pid
        for pid, cmdline, _pgid in _live_processes()
        if "dbt.cli.main" in cmdline and str(data_dir) in cmdline
    ]


def holds_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has `path` open."""
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if Path(os.readlink(descriptor)) == path:
                return True
        except OSError:
            continue
    return False


def lock_is_free(data_dir: Path) -> bool:
    """Whether a new command could take the data folder's lock now."""
    lock_file = data_dir / ".warehouse.lock"
    if not lock_file.exists():
        return True
    with lock_file.open("rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
    return True


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> object:
    """Poll `condition` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"waited {timeout} s for {what}")


class StallingServer:
    """An HTTP server on 127.0.0.1 that accepts requests and never answers them.

    A source pointed at it is "loading" for as long as the test wants: the moment its first
    request arrives is a reliable point at which to interrupt a load.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._connections: list[socket.socket] = []
        self.requested = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._listener.getsockname()
        return f"http://{host}:{port}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _address = self._listener.accept()
            except OSError:
                return
            self._connections.append(connection)
            self.requested.set()

    def __enter__(self) -> StallingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._listener.close()
        for connection in self._connections:
            connection.close()
        self._thread.join(5)


@pytest.fixture
def stalling_server() -> Iterator[StallingServer]:
    with StallingServer() as server:
        yield server


def stalled_payments_environment(server: StallingServer) -> dict[str, str]:
    """The payments source pointed at `server`, waiting for its answer far longer than a test."""
    return {
        "SOURCES__PAYMENTS__BASE_URL": f"{server.base_url}/payments/v1",
        "SOURCES__PAYMENTS__TOKEN": "test-token",
        "RUNTIME__REQUEST_TIMEOUT": "300",
        "RUNTIME__REQUEST_MAX_ATTEMPTS": "1",
    }


@pytest.fixture
def simulated_data_dir(tmp_path: Path) -> Path:
    """A freshly simulated data folder of three small days."""
    data_dir = tmp_path / "data"
    completed = run_warehouse(
        "simulate",
        "--days",
        str(SIMULATED_DAYS),
        "--scale",
        str(SIMULATED_SCALE),
        "--data-dir",
        str(data_dir),
    )
    assert completed.returncode == 0, completed.stderr
    return data_dir


@pytest.fixture(scope="module")
def loaded_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder simulated and loaded once for a module's build tests."""
    data_dir = tmp_path_factory.mktemp("loaded") / "data"
    for args in (
        ("simulate", "--days", str(SIMULATED_DAYS), "--scale", str(SIMULATED_SCALE)),
        ("load", "--local-api"),
    ):
        completed = run_warehouse(*args, "--data-dir", str(data_dir))
        assert completed.returncode == 0, completed.stderr
    return data_dir
