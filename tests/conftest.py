"""Shared fixtures: the private IMAP servers and a fresh account per test, and the two
front ends (``front_end``, ``make_client``) that client tests run through.

The servers come from servers/ at the top of the repository, each started at most once
per test session (on first use), on 127.0.0.1 and free ports, under pytest's temporary
directory:

* ``dovecot`` (servers/dovecot.py, installed with apt-get on first use if missing), with
  ``imap_account``: a fresh Dovecot user, for tests of Dovecot specifics;
* ``cyrus`` (servers/cyrus.py) and ``courier`` (servers/courier.py), unpacked into a
  private root on first use;
* ``imap_server``: parametrised over all three (test ids ``dovecot``, ``cyrus``,
  ``courier``), an :class:`ImapServer` whose ``new_account()`` gives a
  :class:`ServerAccount` of the same shape on every server; ``account`` is one fresh
  account of it. Tests written against these run on every server and handle the
  differences with capability checks, never with the server's name.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fakeserver import fake_server_fixture  # noqa: F401  (provides the fixture `fake_server`)
from frontends import BlockingAdapter

from imapclient import IMAPClient

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from servers import courier as courier_module  # noqa: E402
from servers import cyrus as cyrus_module  # noqa: E402
from servers.courier import CourierServer  # noqa: E402
from servers.cyrus import CyrusServer  # noqa: E402
from servers.dovecot import Account, DovecotServer, ensure_installed, is_installed  # noqa: E402


def _start_dovecot(
    tmp_path_factory: pytest.TempPathFactory, name: str, cert: str
) -> Iterator[DovecotServer]:
    """Start a DovecotServer in a new temporary directory; stop it afterwards."""
    if not is_installed() and os.geteuid() != 0:
        pytest.skip("Dovecot is not installed and installing it needs root")
    ensure_installed()
    with DovecotServer(tmp_path_factory.mktemp(name), cert=cert) as server:
        yield server


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    """The session's private Dovecot, with a certificate valid for 127.0.0.1 and localhost."""
    yield from _start_dovecot(tmp_path_factory, "dovecot", "localhost")


@pytest.fixture(scope="session")
def dovecot_wrong_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    """A second Dovecot whose certificate (signed by its ca_file) names only wrong.example."""
    yield from _start_dovecot(tmp_path_factory, "dovecot-wrong-host", "wrong-host")


@pytest.fixture(scope="session")
def dovecot_self_signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    """A Dovecot whose certificate names localhost but is self-signed (not by ca_file)."""
    yield from _start_dovecot(tmp_path_factory, "dovecot-self-signed", "self-signed")


class KickedAccount(Account):
    """An Account whose kick() returns only once the server has dropped the connections.

    ``doveadm kick`` only signals the user's imap processes; a command sent right after
    it can still be answered normally (seen with both front ends, a few times in a
    hundred). Waiting until ``doveadm who`` no longer lists the user makes tests of a
    dropped connection deterministic."""

    def kick(self) -> None:
        super().kick()
        deadline = time.monotonic() + 10
        while self.username in self.server.doveadm("who", self.username):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.username} still connected after doveadm kick")
            time.sleep(0.005)


@pytest.fixture
def imap_account(dovecot: DovecotServer) -> Account:
    """A fresh user on the session's Dovecot, with a random password and empty mail.

    Has host, port, tls_port, ca_file, username and password, and seed(messages,
    folder="INBOX") and kick() bound to this user (kick() returns once the server has
    closed the user's connections); .server is the DovecotServer.
    """
    account = dovecot.new_account()
    return KickedAccount(account.server, account.username, account.password)


# -- the front ends ---------------------------------------------------------------------

FRONT_ENDS = ("blocking", "async")


@pytest.fixture(params=FRONT_ENDS)
def front_end(request: pytest.FixtureRequest) -> str:
    """Which client a test drives: ``"blocking"`` (IMAPClient) or ``"async"``
    (AsyncIMAPClient, through :class:`frontends.BlockingAdapter`)."""
    return str(request.param)


@pytest.fixture
def make_client(front_end: str) -> Iterator[Callable[..., Any]]:
    """``make_client(*args, **kwargs)``: ``IMAPClient(*args, **kwargs)``, or the same
    arguments given to AsyncIMAPClient behind a :class:`BlockingAdapter`, per
    ``front_end``. Both connect at once and raise the same errors.

    At teardown every client made is closed (without logging out) and every adapter's
    loop thread is checked to be gone, so no test leaks a connection or a thread."""
    made: list[IMAPClient | BlockingAdapter] = []

    def make(*args: Any, **kwargs: Any) -> IMAPClient | BlockingAdapter:
        client: IMAPClient | BlockingAdapter
        if front_end == "blocking":
            client = IMAPClient(*args, **kwargs)
        else:
            client = BlockingAdapter(*args, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        if isinstance(client, BlockingAdapter):
            client.close()
            assert not client.loop_thread.is_alive(), "the adapter's loop thread is still running"
        else:
            client.shutdown()


# -- Cyrus and Courier -----------------------------------------------------------------


@pytest.fixture(scope="session")
def cyrus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CyrusServer]:
    """The session's private Cyrus, with a certificate valid for 127.0.0.1 and localhost."""
    if not cyrus_module.is_installed() and os.geteuid() != 0:
        pytest.skip("Cyrus is not installed and installing it needs root")
    cyrus_module.ensure_installed()
    with CyrusServer(tmp_path_factory.mktemp("cyrus")) as server:
        yield server


@pytest.fixture(scope="session")
def courier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CourierServer]:
    """The session's private Courier (pre-authenticated listeners on 127.0.0.1)."""
    if not courier_module.is_installed() and os.geteuid() != 0:
        pytest.skip("Courier is not installed and installing it needs root")
    courier_module.ensure_installed()
    with CourierServer(tmp_path_factory.mktemp("courier")) as server:
        yield server


# -- every server, one shape -------------------------------------------------------------

#: The servers ``imap_server`` runs a test against, in this order (also the test ids).
SERVERS = ("dovecot", "cyrus", "courier")
#: The folders every fresh account has besides INBOX (with special-use attributes where
#: the server offers SPECIAL-USE).
USUAL_FOLDERS = ("Drafts", "Sent", "Trash", "Junk", "Archive")


class ServerAccount:
    """A fresh user on one of the private servers, with the same attributes on each.

    * ``host``, ``port`` (plain, STARTTLS where offered), ``tls_port`` (implicit TLS) and
      ``ca_file`` (the private CA that signed the server's certificate). On Courier the
      ports are this account's own: whoever connects is this user already.
    * ``username``; ``password``, which is None when sessions are pre-authenticated
      (``preauth``: the greeting is ``* PREAUTH``, there is nothing to log in to).
    * ``seed(messages, folder="INBOX")``: put messages (raw bytes, or ``(bytes, flags)``)
      into one of the user's folders, created if missing, without the client under test.
      ``folder`` is the name as the server shows it (with its namespace prefix and
      delimiter; tests get those from NAMESPACE).
    * ``kick()``: make the server close all of this user's connections; returns once
      they are gone (with or without a BYE first, as the server does it).
    * ``login(client)``: log ``client`` in with LOGIN and return the server's text; does
      nothing and returns None when the session is pre-authenticated.
    * ``connect(make_client, **kwargs)``: a client of the test's front end on the plain
      port (not logged in, unless pre-authenticated); ``logged_in(make_client, **kwargs)``
      the same after ``login()``.
    * ``preauth_command()``: ``(argv, env)`` of a server process speaking IMAP on its
      stdin/stdout for this user (for ``stream=True``); NotImplementedError where the
      server has none.
    * ``server`` is the server object and ``kind`` its fixture name: for test ids and
      reports only, never to branch on.
    """

    def __init__(self, kind: str, server: Any, account: Any, password: str | None) -> None:
        self.kind = kind
        self.server = server
        self._account = account
        self.username: str = account.username
        self.password = password

    def __repr__(self) -> str:
        return f"<{self.kind} account {self.username}>"

    @property
    def preauth(self) -> bool:
        return self.password is None

    @property
    def host(self) -> str:
        return str(self._account.host)

    @property
    def port(self) -> int:
        return int(self._account.port)

    @property
    def tls_port(self) -> int:
        return int(self._account.tls_port)

    @property
    def ca_file(self) -> Path:
        return Path(self._account.ca_file)

    def seed(self, messages: Sequence[Any], folder: str = "INBOX") -> None:
        self._account.seed(messages, folder)

    def kick(self) -> None:
        self._account.kick()

    def login(self, client: Any) -> bytes | None:
        if self.password is None:
            return None
        return client.login(self.username, self.password)  # type: ignore[no-any-return]

    def connect(self, make_client: Callable[..., Any], **kwargs: Any) -> Any:
        return make_client(self.host, port=self.port, ssl=False, **kwargs)

    def logged_in(self, make_client: Callable[..., Any], **kwargs: Any) -> Any:
        client = self.connect(make_client, **kwargs)
        self.login(client)
        return client

    def preauth_command(self) -> tuple[list[str], dict[str, str]]:
        argv, env = self.server.preauth_command(self.username)
        return list(argv), dict(env)


class ImapServer:
    """One of the private servers behind one interface: ``new_account(prefix)`` makes a
    fresh :class:`ServerAccount`; ``kind`` is the fixture's name (ids and reports only)."""

    def __init__(self, kind: str, server: Any) -> None:
        self.kind = kind
        self.server = server

    def __repr__(self) -> str:
        return f"<ImapServer {self.kind}>"

    def new_account(self, prefix: str = "user") -> ServerAccount:
        account = self.server.new_account(prefix)
        if isinstance(account, Account):  # Dovecot: kick() waits until the user is gone
            account = KickedAccount(account.server, account.username, account.password)
        if isinstance(self.server, CourierServer):
            # Dovecot and Cyrus create these at the first login; a Courier user gets them
            # here (subscribed, without special-use attributes: Courier has none).
            for name in USUAL_FOLDERS:
                self.server.folder_dir(account.username, name)
        password = getattr(account, "password", None) or None
        return ServerAccount(self.kind, self.server, account, password)


@pytest.fixture(params=SERVERS)
def imap_server(request: pytest.FixtureRequest) -> ImapServer:
    """Each private server in turn (ids ``dovecot``, ``cyrus``, ``courier``), started on
    first use and kept for the session."""
    kind = str(request.param)
    return ImapServer(kind, request.getfixturevalue(kind))


@pytest.fixture
def account(imap_server: ImapServer) -> ServerAccount:
    """A fresh user with empty mail on the test's server (see :class:`ServerAccount`)."""
    return imap_server.new_account()


# -- scenarios that fail because of library bugs ----------------------------------------

#: Scenarios of the server-parametrised tests that fail on one server because of a bug in
#: the library (not a difference between servers): (test function, server) -> the bug.
#: They are left out of the run (deselected, and listed in the summary) until the bug is
#: fixed, unless ``--known-library-bugs`` is given; tests/compat_report.py gives it, so
#: docs/compatibility.md shows them as failures. Remove an entry with its fix.
KNOWN_LIBRARY_BUGS: dict[tuple[str, str], str] = {
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--known-library-bugs",
        action="store_true",
        help="also run the scenarios listed in tests/conftest.py KNOWN_LIBRARY_BUGS",
    )


def _known_bug(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None or "imap_server" not in callspec.params:
        return None
    name = getattr(item, "originalname", item.name)
    return KNOWN_LIBRARY_BUGS.get((name, str(callspec.params["imap_server"])))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--known-library-bugs"):
        for item in items:
            bug = _known_bug(item)
            if bug is not None:
                item.user_properties.append(("library_bug", bug))
        return
    left_out = [item for item in items if _known_bug(item) is not None]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if _known_bug(item) is None]
        config.stash[_LEFT_OUT] = sorted({f"{_known_bug(i)}" for i in left_out})
        config.stash[_LEFT_OUT_COUNT] = len(left_out)


_LEFT_OUT = pytest.StashKey[list[str]]()
_LEFT_OUT_COUNT = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    bugs = config.stash.get(_LEFT_OUT, [])
    if bugs:
        count = config.stash.get(_LEFT_OUT_COUNT, 0)
        terminalreporter.section("known library bugs")
        terminalreporter.line(
            f"{count} scenarios left out (tests/conftest.py KNOWN_LIBRARY_BUGS; "
            "--known-library-bugs runs them):"
        )
        for bug in bugs:
            terminalreporter.line(f"  - {bug}")


# -- the compatibility report (tests/compat_report.py) -------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "feature(*names): the server features (rows of docs/compatibility.md) a test "
        "exercises; the compatibility report files its outcome under each, per server",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Note the test's server and features for the compatibility report."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "imap_server" in callspec.params:
        item.user_properties.append(("server", str(callspec.params["imap_server"])))
    for mark in item.iter_markers("feature"):
        for name in mark.args:
            item.user_properties.append(("feature", str(name)))


class Offered:
    """``offered(client, capability, feature=None)``: whether the client's server
    advertises ``capability`` now (``has_capability``). The answer is recorded for the
    compatibility report under ``feature`` (default: the capability's name), so that a
    test that then checks the behaviour without the extension files its outcome as
    "not offered" rather than "pass". ``offered.record(feature, bool)`` records a fact
    that is no capability (e.g. LOGIN, which a pre-authenticated session does not have).
    """

    def __init__(self, node: pytest.Item) -> None:
        self._node = node

    def __call__(self, client: Any, capability: str, feature: str | None = None) -> bool:
        return self.record(feature or capability, bool(client.has_capability(capability)))

    def record(self, feature: str, has: bool) -> bool:
        state = "offered" if has else "not offered"
        self._node.user_properties.append(("offered", f"{feature}={state}"))
        return has


@pytest.fixture
def offered(request: pytest.FixtureRequest) -> Offered:
    """See :class:`Offered`."""
    return Offered(request.node)
