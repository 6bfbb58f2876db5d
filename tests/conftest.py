"""Shared fixtures: a private Dovecot server and a fresh account per test, and the two
front ends (``front_end``, ``make_client``) that client tests run through.

The server comes from servers/dovecot.py at the top of the repository; it is
installed with apt-get on first use if missing and started once per test
session, on 127.0.0.1 and free ports, under pytest's temporary directory.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakeserver import fake_server_fixture  # noqa: F401  (provides the fixture `fake_server`)
from frontends import BlockingAdapter

from imapclient import IMAPClient

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

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
