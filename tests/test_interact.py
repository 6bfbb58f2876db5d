"""The interactive shell, ``python -m imapclient.interact``, used as a person would.

The integration tests run the shell in a pseudo-terminal against the private Dovecot
(tests/conftest.py), with a fresh account per test: they wait for its output (with
``select`` and a deadline, never a fixed sleep), type Python lines and control keys
into it, read what it prints, and check that the server saw a LOGOUT when the shell
ended: Dovecot logs ``Disconnected: Logged out`` for a session that sent LOGOUT (and
``Disconnected: Connection closed`` for one that merely dropped the connection), and
``doveadm who`` no longer lists the user.

The pseudo-terminal answers the cursor position requests that IPython's prompt_toolkit
sends, as a terminal emulator would. The unit tests at the end need no server.
"""

from __future__ import annotations

import argparse
import fcntl
import importlib.util
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imapclient import interact
from imapclient.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]

#: How long any single expected piece of output may take to appear.
DEADLINE = 30.0

# Escape sequences a terminal interprets: CSI (colours, cursor moves, modes), OSC
# (titles), charset selection and the two-character ones (keypad modes, save/restore).
ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[()][0-9A-Za-z]"
    r"|\x1b[=>78DEHMc]"
)
CURSOR_POSITION_REQUEST = b"\x1b[6n"


def messages(*subjects: str) -> list[bytes]:
    """Minimal messages with the given subjects."""
    return [
        f"From: bob@example.com\r\nSubject: {subject}\r\n\r\nHello.\r\n".encode()
        for subject in subjects
    ]


class Terminal:
    """A program running in a new pseudo-terminal that is its controlling terminal, as in
    a terminal emulator: what it prints is read back, keys are typed into it."""

    def __init__(self, argv: list[str], env: dict[str, str], rows: int = 40, cols: int = 132):
        master, slave = os.openpty()
        # The size is set before the program starts, so prompt_toolkit reads it at once.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        pid = os.fork()
        if pid == 0:  # the child: a new session with the pty as its controlling terminal
            try:
                os.close(master)
                os.setsid()
                fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(slave, fd)
                if slave > 2:
                    os.close(slave)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        os.close(slave)
        self.pid = pid
        self.fd = master
        self.raw = bytearray()
        self.position = 0  # how far expect() has consumed text
        self.eof = False
        self.status: int | None = None
        self._cpr_scanned = 0

    # -- output -------------------------------------------------------------------------

    @property
    def text(self) -> str:
        """Everything printed so far, without escape sequences and carriage returns."""
        decoded = self.raw.decode("utf-8", "replace")
        return ANSI.sub("", decoded).replace("\r", "")

    def _read(self, timeout: float) -> bool:
        """Read what is available within ``timeout``; False once the terminal is closed."""
        if self.eof:
            return False
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: every process has closed the terminal
            data = b""
        if not data:
            self.eof = True
            return False
        self.raw += data
        self._answer_cursor_position_requests()
        return True

    def _answer_cursor_position_requests(self) -> None:
        while True:
            index = self.raw.find(CURSOR_POSITION_REQUEST, self._cpr_scanned)
            if index < 0:
                self._cpr_scanned = max(0, len(self.raw) - len(CURSOR_POSITION_REQUEST) + 1)
                return
            self._cpr_scanned = index + len(CURSOR_POSITION_REQUEST)
            self.send(b"\x1b[1;1R")

    def expect(self, pattern: str, timeout: float = DEADLINE) -> re.Match[str]:
        """Wait until the output after the last match matches ``pattern`` (a regex)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.text, self.position)
            if match:
                self.position = match.end()
                return match
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                match = regex.search(self.text, self.position)
                if match:
                    self.position = match.end()
                    return match
                why = "the terminal closed" if self.eof else f"{timeout:g} s passed"
                raise AssertionError(
                    f"{pattern!r} did not appear before {why}; output after the last match:\n"
                    + self.text[self.position :]
                )

    # -- input --------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Type raw bytes (keys) into the terminal."""
        os.write(self.fd, data)

    def type_line(self, line: str) -> None:
        """Type a line and press Enter."""
        self.send(line.encode("utf-8") + b"\r")

    # -- the end ------------------------------------------------------------------------

    def wait(self, timeout: float = DEADLINE) -> int:
        """Read the output to its end and return the exit status."""
        deadline = time.monotonic() + timeout
        while self._read(deadline - time.monotonic()):
            if time.monotonic() > deadline:
                raise AssertionError("the program did not end; output:\n" + self.text)
        pidfd = os.pidfd_open(self.pid)
        try:
            if not select.select([pidfd], [], [], max(deadline - time.monotonic(), 0))[0]:
                raise AssertionError("the program closed its terminal but did not exit")
        finally:
            os.close(pidfd)
        _, status = os.waitpid(self.pid, 0)
        self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def close(self) -> None:
        """Kill the program if it still runs and close the terminal."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.status = -signal.SIGKILL
        os.close(self.fd)


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a person's terminal, isolated from this machine's settings:
    its own HOME (so no ~/.inputrc, IPython profile or history is read), UTF-8, xterm."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "IPYTHON", "IMAPCLIENT_", "COLUMNS", "LINES"))
    }
    env.update(
        HOME=str(home),
        IPYTHONDIR=str(home / ".ipython"),
        TERM="xterm",
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        # This checkout's package first; keep what the test run itself can import.
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@pytest.fixture
def run_shell(shell_env: dict[str, str]) -> Iterator[Any]:
    """``run_shell(*args)``: start ``python -m imapclient.interact ARGS`` in a new
    terminal. Every terminal is closed (its program killed if still running) afterwards."""
    terminals: list[Terminal] = []

    def start(*args: str) -> Terminal:
        argv = [sys.executable, "-m", "imapclient.interact", *args]
        terminal = Terminal(argv, shell_env)
        terminals.append(terminal)
        return terminal

    yield start
    for terminal in terminals:
        terminal.close()


def logged_out_lines(account: Any) -> list[str]:
    """Dovecot's log lines of this user's IMAP sessions that ended."""
    pattern = re.compile(rf"imap\({re.escape(account.username)}\)\S*: Info: Disconnected: .*")
    text = account.server.log_file.read_text(errors="replace")
    return pattern.findall(text)


def assert_logged_out(account: Any, sessions: int = 1) -> None:
    """Wait (bounded) until Dovecot has logged the end of ``sessions`` sessions of the
    user; each must have ended with LOGOUT, and none may still be connected."""
    deadline = time.monotonic() + DEADLINE
    while len(ended := logged_out_lines(account)) < sessions:
        if time.monotonic() > deadline:
            raise AssertionError(f"Dovecot logged no end of {account.username}'s session")
        time.sleep(0.02)  # Dovecot writes the line when its imap process has finished
    assert len(ended) == sessions, ended
    assert all(": Disconnected: Logged out " in line for line in ended), ended
    assert account.username not in account.server.doveadm("who")


def connection_args(account: Any, mode: str) -> list[str]:
    """Command-line options for ``account`` over ``mode``: insecure, ssl or starttls."""
    if mode == "insecure":
        return ["-H", account.host, "-P", str(account.port), "--insecure"]
    ca = ["--ssl-ca-file", str(account.ca_file)]
    if mode == "ssl":
        return ["-H", account.host, "-P", str(account.tls_port), "-s", *ca]
    return ["-H", account.host, "-P", str(account.port), "--starttls", *ca]


def login_args(account: Any) -> list[str]:
    # The "=" form: a random password may start with "-".
    return [f"--username={account.username}", f"--password={account.password}"]


# -- the standard Python console --------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["insecure", "ssl", "starttls"])
def test_python_console_session(run_shell, imap_account, mode: str) -> None:
    imap_account.seed(messages("one", "two", "three"))
    term = run_shell(
        *connection_args(imap_account, mode), *login_args(imap_account), "--shell", "python"
    )
    term.expect(r"^Connecting\.\.\.\nConnected\.\n\nIMAPClient instance is \"c\"\n>>> $")

    term.type_line("c.select_folder('INBOX')")
    term.expect(r"b'EXISTS': 3")
    term.expect(r"\n>>> $")
    term.type_line("c.search()")
    term.expect(r"c\.search\(\)\n\[1, 2, 3\]\n>>> $")
    term.type_line("c.fetch(2, ['BODY.PEEK[HEADER.FIELDS (SUBJECT)]'])[2][b'SEQ']")
    term.expect(r"\n2\n>>> $")
    term.send(b"\x04")  # Ctrl-D: end of input
    assert term.wait() == 0
    assert "Traceback" not in term.text
    assert_logged_out(imap_account)


@pytest.mark.integration
def test_python_console_logs_out_when_the_shell_exits_by_sys_exit(run_shell, imap_account) -> None:
    term = run_shell(
        *connection_args(imap_account, "insecure"), *login_args(imap_account), "--shell", "python"
    )
    term.expect(r">>> $")
    term.type_line("c.noop()[0]")
    term.expect(r"b'NOOP completed.*\n>>> $")
    term.type_line("import sys; sys.exit(3)")
    assert term.wait() == 3
    assert_logged_out(imap_account)


@pytest.mark.integration
def test_python_console_after_an_exception_and_a_logout_in_the_shell(
    run_shell, imap_account
) -> None:
    term = run_shell(
        *connection_args(imap_account, "insecure"), *login_args(imap_account), "--shell", "python"
    )
    term.expect(r">>> $")
    term.type_line("c.select_folder('No such folder')")
    term.expect(r"CommandError: .*\n>>> $")  # the shell goes on after an error
    term.type_line("c.logout()")
    term.expect(r"b'Logging out'\n>>> $")
    term.send(b"\x04")
    assert term.wait() == 0
    assert "Traceback" in term.text  # the CommandError's, printed by the console
    assert term.text.count("Traceback") == 1  # nothing more at exit: already logged out
    assert_logged_out(imap_account)


def require_ipython() -> None:
    """Skip without IPython, except in CI, where the test extras must provide it."""
    if os.environ.get("CI") and importlib.util.find_spec("IPython") is None:
        pytest.fail("IPython is not installed: install the test extras (pip install -e .[test])")
    pytest.importorskip("IPython")


# -- IPython ----------------------------------------------------------------------------------


@pytest.mark.integration
def test_ipython_session(run_shell, imap_account) -> None:
    require_ipython()
    imap_account.seed(messages("one", "two"))
    term = run_shell(
        *connection_args(imap_account, "insecure"), *login_args(imap_account), "--shell", "ipython"
    )
    term.expect(r"^Connecting\.\.\.\nConnected\.\n\nIMAPClient instance is \"c\"\n")
    term.expect(r"In \[1\]: ")
    term.type_line("c.select_folder('INBOX')")
    term.expect(r"Out\[1\]:")
    term.expect(r"b'EXISTS': 2")
    term.expect(r"In \[2\]: ")
    term.type_line("c.search()")
    term.expect(r"Out\[2\]: \[1, 2\]")
    term.expect(r"In \[3\]: ")
    term.send(b"\x04")  # Ctrl-D; IPython asks first
    term.expect(r"Do you really want to exit \(\[y\]/n\)\? ")
    term.type_line("y")
    assert term.wait() == 0
    assert "Traceback" not in term.text
    assert_logged_out(imap_account)


@pytest.mark.integration
def test_ipython_is_the_default_shell_when_installed(run_shell, imap_account) -> None:
    require_ipython()
    term = run_shell(*connection_args(imap_account, "insecure"), *login_args(imap_account))
    term.expect(r"In \[1\]: ")
    term.type_line("exit")
    assert term.wait() == 0
    assert_logged_out(imap_account)


# -- ptpython ---------------------------------------------------------------------------------


@pytest.mark.integration
def test_ptpython_session(run_shell, imap_account) -> None:
    pytest.importorskip("ptpython")
    imap_account.seed(messages("one", "two"))
    term = run_shell(
        *connection_args(imap_account, "insecure"), *login_args(imap_account), "--shell", "ptpython"
    )
    term.expect(r"^Connecting\.\.\.\nConnected\.\n\nIMAPClient instance is \"c\"\n")
    term.expect(r">>>")
    term.type_line("c.select_folder('INBOX')[b'EXISTS'], c.search()")
    term.expect(r"\n\(2, \[1, 2\]\)\n")
    term.expect(r">>>")  # keys typed before the prompt is back could be lost
    term.send(b"\x04")  # Ctrl-D; ptpython asks first
    term.expect(r"Do you really want to exit\? \(\[y\]/n\)")
    term.send(b"y")
    assert term.wait() == 0
    assert "Traceback" not in term.text
    assert_logged_out(imap_account)


# -- prompts, configuration files, failures ----------------------------------------------------


@pytest.mark.integration
def test_username_and_password_are_prompted_for_and_the_password_is_not_echoed(
    run_shell, imap_account
) -> None:
    imap_account.seed(messages("only"))
    term = run_shell(*connection_args(imap_account, "insecure"), "--shell", "python")
    term.expect(r"Username: $")
    term.type_line(imap_account.username)
    term.expect(rf"Password for {re.escape(imap_account.username)}@127\.0\.0\.1: $")
    term.type_line(imap_account.password)
    term.expect(r"\nConnecting\.\.\.\nConnected\.\n")
    term.expect(r">>> $")
    term.type_line("c.select_folder('INBOX')[b'EXISTS'], c.search()")
    term.expect(r"\(1, \[1\]\)\n>>> $")
    term.send(b"\x04")
    assert term.wait() == 0
    assert imap_account.username in term.text  # typed at the prompt: echoed
    assert imap_account.password.encode() not in term.raw  # typed without echo
    assert_logged_out(imap_account)


@pytest.mark.integration
def test_config_file_and_section(run_shell, imap_account, tmp_path: Path) -> None:
    imap_account.seed(messages("a", "b", "c", "d"))
    config = tmp_path / "imap.ini"
    config.write_text(
        "[DEFAULT]\n"
        f"host = {imap_account.host}\n"
        f"port = {imap_account.port}\n"
        "ssl = false\n"
        f"username = {imap_account.username}\n"
        f"password = {imap_account.password}\n"
        "\n[tls]\n"
        f"port = {imap_account.tls_port}\n"
        "ssl = true\n"
        f"ssl_ca_file = {imap_account.ca_file}\n"
    )
    term = run_shell("-f", str(config), "--section", "tls", "--shell", "python")
    term.expect(r"^Connecting\.\.\.\nConnected\.\n")
    term.expect(r">>> $")
    term.type_line("type(c.socket()).__name__, c.port")
    term.expect(rf"\('SSLSocket', {imap_account.tls_port}\)\n>>> $")
    term.type_line("c.select_folder('INBOX')[b'EXISTS'], c.search()")
    term.expect(r"\(4, \[1, 2, 3, 4\]\)\n>>> $")
    term.send(b"\x04")
    assert term.wait() == 0
    assert_logged_out(imap_account)


@pytest.mark.integration
def test_config_file_without_password_prompts_for_it(
    run_shell, imap_account, tmp_path: Path
) -> None:
    config = tmp_path / "imap.ini"
    config.write_text(
        f"[DEFAULT]\nhost = {imap_account.host}\nport = {imap_account.port}\nssl = false\n"
        f"username = {imap_account.username}\n"
    )
    term = run_shell("-f", str(config), "--shell", "python")
    term.expect(r"Password for .*: $")
    term.type_line(imap_account.password)
    term.expect(r"Connected\.\n")
    term.expect(r">>> $")
    term.send(b"\x04")
    assert term.wait() == 0
    assert imap_account.password.encode() not in term.raw
    assert_logged_out(imap_account)


@pytest.mark.integration
def test_wrong_password_is_a_one_line_error(run_shell, imap_account) -> None:
    wrong = "not-the-password-" + imap_account.password
    term = run_shell(
        *connection_args(imap_account, "insecure"), "-u", imap_account.username, "--shell", "python"
    )
    term.expect(r"Password for .*: $")
    term.type_line(wrong)
    assert term.wait() == 1
    lines = [line for line in term.text.splitlines() if line.strip()]
    assert lines[-2:] == [
        "Connecting...",
        f"python -m imapclient.interact: error: login to 127.0.0.1:{imap_account.port} as "
        f"{imap_account.username} failed: LoginError: LOGIN failed: NO [AUTHENTICATIONFAILED] "
        "Authentication failed.",
    ]
    assert "Traceback" not in term.text
    assert wrong.encode() not in term.raw


@pytest.mark.integration
def test_unverifiable_certificate_is_a_one_line_error(run_shell, imap_account) -> None:
    term = run_shell(
        "-H", imap_account.host, "-P", str(imap_account.tls_port), *login_args(imap_account)
    )  # TLS by default, verified against the system's CAs: the private CA is unknown
    assert term.wait() == 1
    last = term.text.strip().splitlines()[-1]
    assert last.startswith(
        f"python -m imapclient.interact: error: could not connect to 127.0.0.1:"
        f"{imap_account.tls_port}: SSLCertVerificationError: "
    )
    assert "certificate verify failed" in last
    assert "Traceback" not in term.text
    assert imap_account.password not in term.text


@pytest.mark.integration
def test_a_shell_that_crashes_still_logs_out(
    imap_account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}

    def crashing_shell(namespace: dict[str, Any]) -> None:
        seen.update(namespace)
        seen["exists"] = namespace["c"].select_folder("INBOX")[b"EXISTS"]
        raise RuntimeError("the terminal went away")

    monkeypatch.setitem(interact._RUNNERS, "python", crashing_shell)
    argv = [*connection_args(imap_account, "insecure"), *login_args(imap_account)]
    assert interact.main([*argv, "--shell", "python"]) == 1
    out, err = capsys.readouterr()
    assert out == "Connecting...\nConnected.\n"
    assert err == (
        "python -m imapclient.interact: error: the python shell failed: "
        "RuntimeError: the terminal went away\n"
    )
    assert seen["exists"] == 0 and seen["__name__"] == "__console__"
    assert_logged_out(imap_account)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_connection_is_a_one_line_error(shell_env: dict[str, str]) -> None:
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "imapclient.interact", "-H", "127.0.0.1", "-P", str(port),
         "--insecure", "-u", "bob", "-p", "sekret-pw"],
        env=shell_env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=DEADLINE, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == "Connecting...\n"
    assert result.stderr == (
        f"python -m imapclient.interact: error: could not connect to 127.0.0.1:{port}: "
        "ConnectionRefusedError: [Errno 111] Connection refused\n"
    )


def test_help_lists_the_options(shell_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "imapclient.interact", "--help"],
        env=shell_env, capture_output=True, text=True, timeout=DEADLINE, check=False,
    )  # fmt: skip
    assert result.returncode == 0
    for option in (
        "-H HOST, --host HOST",
        "-u USERNAME, --username USERNAME",
        "-p PASSWORD, --password PASSWORD",
        "-P PORT, --port PORT",
        "-s, --ssl",
        "--starttls",
        "--insecure",
        "-f CONFIG, --file CONFIG",
        "--section NAME",
        "--shell {auto,ipython,ptpython,python}",
    ):
        assert option in result.stdout
    assert result.stdout.startswith("usage: python -m imapclient.interact ")


# -- unit tests: arguments into a configuration ------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    return interact.build_parser().parse_args(argv)


def no_prompt(prompt: str) -> str:
    raise AssertionError(f"unexpected prompt {prompt!r}")


def test_tls_is_the_default() -> None:
    args = parse("-H", "imap.example.com", "-u", "bob", "-p", "pw")
    config = interact.resolve_config(args, ask=no_prompt, ask_secret=no_prompt)
    assert (config.host, config.ssl, config.starttls, config.effective_port) == (
        "imap.example.com",
        True,
        False,
        993,
    )
    assert (config.username, config.password) == ("bob", "pw")


@pytest.mark.parametrize(
    ("switch", "ssl", "starttls", "port"),
    [("-s", True, False, 993), ("--ssl", True, False, 993), ("--starttls", False, True, 143),
     ("--insecure", False, False, 143)],
)  # fmt: skip
def test_transport_switches(switch: str, ssl: bool, starttls: bool, port: int) -> None:
    args = parse("-H", "h.example", switch, "-u", "bob", "-p", "pw")
    config = interact.resolve_config(args, ask=no_prompt, ask_secret=no_prompt)
    assert (config.ssl, config.starttls, config.effective_port) == (ssl, starttls, port)


def test_transport_switches_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parse("--starttls", "--insecure")
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_missing_values_are_asked_for() -> None:
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return {"Host: ": " imap.example.com ", "Username: ": "bob"}[prompt]

    def ask_secret(prompt: str) -> str:
        asked.append(prompt)
        return "s3cret"

    config = interact.resolve_config(parse(), ask=ask, ask_secret=ask_secret)
    assert asked == ["Host: ", "Username: ", "Password for bob@imap.example.com: "]
    assert (config.host, config.username, config.password) == ("imap.example.com", "bob", "s3cret")


def test_an_empty_host_is_an_error() -> None:
    with pytest.raises(interact.InteractError, match="a host name is required"):
        interact.resolve_config(parse(), ask=lambda prompt: "", ask_secret=no_prompt)


def test_command_line_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.ini"
    path.write_text(
        "[DEFAULT]\nhost = a.example\nusername = alice\npassword = pw\n"
        "[work]\nhost = w.example\nstarttls = true\n"
    )
    config = interact.resolve_config(
        parse("-f", str(path), "--section", "work", "-u", "bob", "-P", "1143"),
        ask=no_prompt,
        ask_secret=no_prompt,
    )
    assert (config.host, config.port, config.username, config.password) == (
        "w.example",
        1143,
        "bob",
        "pw",
    )
    assert (config.ssl, config.starttls) == (False, True)
    config = interact.resolve_config(
        parse("-f", str(path), "--section", "work", "--insecure", "-H", "x.example"),
        ask=no_prompt,
        ask_secret=no_prompt,
    )
    assert (config.host, config.ssl, config.starttls) == ("x.example", False, False)


def test_the_section_may_follow_the_options(tmp_path: Path) -> None:
    path = tmp_path / "c.ini"
    path.write_text(
        "[DEFAULT]\nhost = a.example\nusername = u\npassword = p\n[work]\nport = 8993\n"
    )
    config = interact.resolve_config(
        parse("-f", str(path), "work"), ask=no_prompt, ask_secret=no_prompt
    )
    assert (config.section, config.port) == ("work", 8993)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--section", "work"], "a section needs a configuration file (-f CONFIG)"),
        (["-f", "c.ini", "--section", "a", "b"], "give the section once"),
        (["-P", "99999"], "argument -P/--port: '99999' is not a port number (1 to 65535)"),
    ],
)
def test_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        interact.main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_bad_config_file_is_reported_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.ini"
    path.write_text("[DEFAULT]\nhost = h.example\nssl = maybe\n")
    with pytest.raises(ConfigError):
        interact.resolve_config(parse("-f", str(path)), ask=no_prompt, ask_secret=no_prompt)
    assert interact.main(["-f", str(path), "--shell", "python"]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # not even "Connecting..."
    assert err.startswith("python -m imapclient.interact: error: configuration file ")
    assert "option 'ssl'" in err


def test_a_missing_shell_is_reported_before_connecting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(interact, "available_shells", lambda: ["python"])
    assert interact.main(["-H", "h.example", "--shell", "ptpython"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "python -m imapclient.interact: error: --shell ptpython: ptpython is not installed "
        "(pip install ptpython)\n"
    )


def test_auto_prefers_ipython_then_ptpython(monkeypatch: pytest.MonkeyPatch) -> None:
    assert interact.available_shells()[-1] == "python"
    order = list(interact.SHELLS)
    assert order == ["ipython", "ptpython", "python"]
    monkeypatch.setattr(interact, "available_shells", lambda: ["ptpython", "python"])
    assert interact._choose_shell("auto") == "ptpython"
