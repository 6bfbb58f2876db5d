"""Shared fixtures: a private Dovecot server and a fresh account per test.

The server comes from servers/dovecot.py at the top of the repository; it is
installed with apt-get on first use if missing and started once per test
session, on 127.0.0.1 and free ports, under pytest's temporary directory.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakeserver import fake_server_fixture  # noqa: F401  (provides the fixture `fake_server`)

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


@pytest.fixture
def imap_account(dovecot: DovecotServer) -> Account:
    """A fresh user on the session's Dovecot, with a random password and empty mail.

    Has host, port, tls_port, ca_file, username and password, and seed(messages,
    folder="INBOX") and kick() bound to this user; .server is the DovecotServer.
    """
    return dovecot.new_account()
