"""Both clients against every private server (the ``imap_server`` fixture: Dovecot, Cyrus,
Courier) through both front ends (``make_client``): the spec's simple example, fetching
and searching, implicit TLS and STARTTLS verified against the private CA, a refused
login, secrets kept out of logs, a server that drops the connection, the context manager
and the example program.

Differences between the servers are found out from the servers (capabilities, a PREAUTH
greeting), never from their names. The Dovecot-only scenarios (certificates for the
wrong host and self-signed ones, ``stream=True`` with Dovecot's imap binary) are in
test_client_dovecot.py.
"""

from __future__ import annotations

import logging
import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from frontends import tls_version

from imapclient import (
    SEEN,
    IMAPClientAbortError,
    IMAPClientError,
    LoginError,
    TLSRequiredError,
)
from imapclient.exceptions import CommandError, ConnectionClosedError

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def message(subject: str, body: str = "Hello.\r\n", sender: str = "bob@example.com") -> bytes:
    return (
        f"From: {sender}\r\nTo: alice@example.org\r\nSubject: {subject}\r\n"
        f"Date: Mon, 04 Mar 2024 09:12:00 +0100\r\nMessage-ID: <{subject.replace(' ', '.')}@x>\r\n"
        f"\r\n{body}"
    ).encode()


def tls_context(account) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(account.ca_file))


@pytest.fixture
def seeded(account):
    msgs = [
        (message("first"), ["\\Seen"]),
        (message("second", body="x" * 5000 + "\r\n"), ["\\Flagged", "\\Seen"]),
        (message("gone"), ["\\Deleted"]),
        (message("fourth"), []),
    ]
    account.seed(msgs)
    return account, [m for m, _ in msgs]


def assert_verified_tls(client) -> None:
    """The connection is TLS now: the client says so and a TLS session is in place."""
    assert client.ssl is True
    assert tls_version(client) in ("TLSv1.2", "TLSv1.3")


@pytest.mark.feature("LOGIN")
def test_simple_example_calls(make_client, seeded, offered) -> None:
    account, raw = seeded
    offered.record("LOGIN", not account.preauth)
    server = account.connect(make_client)
    text = account.login(server)
    if text is not None:  # no login on a pre-authenticated session
        assert isinstance(text, bytes) and text
    select_info = server.select_folder("INBOX")
    assert select_info[b"EXISTS"] == 4
    assert select_info["EXISTS"] == 4  # the older documentation's str keys still work
    assert isinstance(select_info[b"UIDVALIDITY"], int)
    assert b"\\Seen" in select_info[b"FLAGS"]
    assert select_info[b"READ-WRITE"] is True

    messages = server.search(["NOT", "DELETED"])
    assert messages == server.search(["NOT DELETED"]) == server.search("NOT DELETED")
    assert len(messages) == 3

    response = server.fetch(messages, ["FLAGS", "RFC822.SIZE"])
    assert sorted(response) == sorted(messages)
    sizes = sorted(data[b"RFC822.SIZE"] for data in response.values())
    expected = sorted(len(m) for i, m in enumerate(raw) if i != 2)
    assert sizes == expected
    flags = {data[b"SEQ"]: set(data[b"FLAGS"]) - {b"\\Recent"} for data in response.values()}
    assert flags == {1: {SEEN}, 2: {b"\\Flagged", SEEN}, 4: set()}
    assert isinstance(server.logout(), bytes)


def test_fetch_body_is_exact_and_search_by_text(make_client, seeded) -> None:
    account, raw = seeded
    with account.logged_in(make_client) as server:
        server.select_folder("INBOX", readonly=True)
        uids = server.search(["SUBJECT", "second"])
        assert len(uids) == 1
        body = server.fetch(uids, ["BODY.PEEK[]"])[uids[0]][b"BODY[]"]
        assert body == raw[1]
        assert server.search(["SUBJECT", "no such thing"]) == []
        assert len(server.search(["SUBJECT", "f\u00fcnf"], charset="UTF-8")) == 0
        assert server.search(["DELETED"]) == server.search("DELETED") != []


def test_use_uid_false_keys_by_sequence_number(make_client, seeded) -> None:
    account, _ = seeded
    with account.logged_in(make_client, use_uid=False) as server:
        server.select_folder("INBOX")
        assert server.search("ALL") == [1, 2, 3, 4]
        result = server.fetch("2:3", ["UID"])
        assert sorted(result) == [2, 3]
        assert result[2][b"SEQ"] == 2


@pytest.mark.feature("IMPLICIT TLS")
def test_implicit_tls_verifies_against_private_ca(make_client, seeded) -> None:
    account, _ = seeded
    with make_client(account.host, port=account.tls_port, ssl_context=tls_context(account)) as c:
        assert_verified_tls(c)
        account.login(c)
        assert c.select_folder("INBOX")[b"EXISTS"] == 4


@pytest.mark.feature("IMPLICIT TLS")
def test_tls_is_on_and_verified_by_default(make_client, account) -> None:
    # The default context trusts only the system CAs, not the private one.
    with pytest.raises(ssl.SSLCertVerificationError):
        make_client(account.host, port=account.tls_port)


@pytest.mark.feature("STARTTLS")
def test_starttls_then_login(make_client, seeded, offered) -> None:
    account, _ = seeded
    client = account.connect(make_client)
    assert client.ssl is False and tls_version(client) is None
    if not offered(client, "STARTTLS"):
        # Documented: TLSRequiredError and the connection closed, never plaintext on.
        with pytest.raises(TLSRequiredError):
            client.starttls(tls_context(account))
        with pytest.raises(IMAPClientAbortError):
            client.noop()
        return
    client.starttls(tls_context(account))
    assert_verified_tls(client)
    # Capabilities were asked for again over TLS: STARTTLS is no longer offered.
    assert b"STARTTLS" not in client.capabilities()
    account.login(client)
    assert client.has_capability("idle")
    assert client.select_folder("INBOX")[b"EXISTS"] == 4
    client.logout()


@pytest.mark.feature("LOGIN")
def test_wrong_password_is_a_typed_error_without_the_password(
    make_client, account, offered
) -> None:
    offered.record("LOGIN", not account.preauth)
    secret = "definitely-wrong-\u00e9-password"
    with account.connect(make_client) as client:
        with pytest.raises(LoginError) as info:
            client.login(account.username, secret)
        assert isinstance(info.value, CommandError) and isinstance(info.value, IMAPClientError)
        assert info.value.status == b"NO"
        # RFC 5530's code where the server sends one; a PREAUTH session refuses any LOGIN.
        assert info.value.code in (b"AUTHENTICATIONFAILED", None)
        assert "definitely-wrong" not in str(info.value)
        # The connection is still usable after a refused login.
        account.login(client)
        assert client.folder_exists("INBOX")


def test_secrets_never_logged(make_client, account, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    with account.connect(make_client) as client:
        account.login(client)
        client.select_folder("INBOX")
    text = "\n".join(r.getMessage() for r in caplog.records)
    if account.password is not None:
        assert "LOGIN **REDACTED**" in text
        assert account.password not in text
    assert "SELECT INBOX" in text  # other commands are logged in full


def test_server_closing_the_connection(make_client, seeded) -> None:
    account, _ = seeded
    client = account.logged_in(make_client)
    client.select_folder("INBOX")
    account.kick()  # with a BYE first (Dovecot, Courier) or without (Cyrus)
    with pytest.raises(ConnectionClosedError):
        client.noop()
    # The client knows the connection is dead.
    with pytest.raises(IMAPClientAbortError):
        client.search()


def test_context_manager_logs_out_and_never_masks_errors(make_client, seeded) -> None:
    account, _ = seeded
    with account.logged_in(make_client) as client:
        pass
    assert client.socket() is None

    with pytest.raises(KeyError, match="from the body"):
        with account.logged_in(make_client) as client:
            account.kick()  # logout on exit will fail
            raise KeyError("from the body")
    assert client.socket() is None


def test_example_program_output(seeded) -> None:
    account, _ = seeded
    env = dict(
        os.environ,
        IMAP_HOST=account.host,
        IMAP_PORT=str(account.port),
        IMAP_USER=account.username,
        IMAP_PASSWORD=account.password or "",
        IMAP_SSL="0",
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "simple.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if account.preauth:
        # The example always logs in: a pre-authenticated server refuses the LOGIN.
        assert result.returncode != 0
        assert "LoginError" in result.stderr
        return
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "4 messages in INBOX"
    assert lines[1] == "3 messages that aren't deleted"
    assert lines[3] == "Messages:"
    assert len([line for line in lines if line.startswith("   ID ")]) == 3


#: Capabilities the compatibility report lists whether or not a test exercises them.
SURVEYED = (
    "IMAP4rev1",
    "IMAP4rev2",
    "STARTTLS",
    "LOGINDISABLED",
    "AUTH=PLAIN",
    "AUTH=LOGIN",
    "AUTH=CRAM-MD5",
    "AUTH=SCRAM-SHA-1",
    "AUTH=SCRAM-SHA-256",
    "AUTH=XOAUTH2",
    "AUTH=OAUTHBEARER",
    "SASL-IR",
    "IDLE",
    "NAMESPACE",
    "UNSELECT",
    "UIDPLUS",
    "MOVE",
    "MULTIAPPEND",
    "CATENATE",
    "LITERAL+",
    "LITERAL-",
    "BINARY",
    "ESEARCH",
    "SORT",
    "THREAD=REFERENCES",
    "THREAD=ORDEREDSUBJECT",
    "CONDSTORE",
    "QRESYNC",
    "ENABLE",
    "ID",
    "SPECIAL-USE",
    "CREATE-SPECIAL-USE",
    "LIST-EXTENDED",
    "LIST-STATUS",
    "CHILDREN",
    "ACL",
    "QUOTA",
    "METADATA",
    "ANNOTATE-EXPERIMENT-1",
    "OBJECTID",
    "PREVIEW",
    "COMPRESS=DEFLATE",
    "UTF8=ACCEPT",
    "XLIST",
    "X-GM-EXT-1",
)


def test_capabilities_before_and_after_login_are_consistent(make_client, account, offered) -> None:
    """has_capability agrees with capabilities() (any case, str or bytes) before and after
    logging in; what the server advertises at either time is recorded for
    docs/compatibility.md."""
    with account.connect(make_client) as client:
        before = client.capabilities()
        for name in SURVEYED:
            assert client.has_capability(name) is (name.upper().encode() in before)
        account.login(client)
        after = client.capabilities()
        assert after and all(isinstance(c, bytes) for c in after)
        for name in SURVEYED:
            has = name.upper().encode() in after
            assert client.has_capability(name) is has
            assert client.has_capability(name.lower()) is has
            assert client.has_capability(name.encode()) is has
            offered.record(name, has or name.upper().encode() in before)
