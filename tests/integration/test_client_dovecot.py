"""Both clients against the private Dovecot: the spec's simple example, TLS, STARTTLS,
authentication failures, a server that drops the connection, the context manager,
stream=True, and secrets kept out of logs.

Every scenario runs through both front ends (the ``make_client`` fixture: the blocking
IMAPClient, and AsyncIMAPClient behind tests/frontends.py's BlockingAdapter), except the
example program, which is about the blocking client as a user runs it.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
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
def seeded(imap_account):
    msgs = [
        (message("first"), ["\\Seen"]),
        (message("second", body="x" * 5000 + "\r\n"), ["\\Flagged", "\\Seen"]),
        (message("gone"), ["\\Deleted"]),
        (message("fourth"), []),
    ]
    imap_account.seed(msgs)
    return imap_account, [m for m, _ in msgs]


def connect_plain(make_client, account, **kwargs):
    """A client of the test's front end on the plain port (not logged in)."""
    return make_client(account.host, port=account.port, ssl=False, **kwargs)


def assert_verified_tls(client) -> None:
    """The connection is TLS now: the client says so and a TLS session is in place (the
    blocking client's socket is an ``ssl.SSLSocket``; the async client's transport has an
    ``ssl_object``)."""
    assert client.ssl is True
    assert tls_version(client) in ("TLSv1.2", "TLSv1.3")


def test_simple_example_calls(make_client, seeded) -> None:
    account, raw = seeded
    server = connect_plain(make_client, account)
    text = server.login(account.username, account.password)
    assert text.endswith(b"Logged in") and text.code.name == b"CAPABILITY"
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
    assert server.logout() == b"Logging out"


def test_fetch_body_is_exact_and_search_by_text(make_client, seeded) -> None:
    account, raw = seeded
    with connect_plain(make_client, account) as server:
        server.login(account.username, account.password)
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
    with connect_plain(make_client, account, use_uid=False) as server:
        server.login(account.username, account.password)
        server.select_folder("INBOX")
        assert server.search("ALL") == [1, 2, 3, 4]
        result = server.fetch("2:3", ["UID"])
        assert sorted(result) == [2, 3]
        assert result[2][b"SEQ"] == 2


def test_implicit_tls_verifies_against_private_ca(make_client, seeded) -> None:
    account, _ = seeded
    with make_client(account.host, port=account.tls_port, ssl_context=tls_context(account)) as c:
        assert_verified_tls(c)
        c.login(account.username, account.password)
        assert c.select_folder("INBOX")[b"EXISTS"] == 4


def test_tls_is_on_and_verified_by_default(make_client, imap_account) -> None:
    # The default context trusts only the system CAs, not the private one.
    with pytest.raises(ssl.SSLCertVerificationError):
        make_client(imap_account.host, port=imap_account.tls_port)


def test_wrong_host_certificate_is_refused(make_client, dovecot_wrong_host) -> None:
    context = ssl.create_default_context(cafile=str(dovecot_wrong_host.ca_file))
    with pytest.raises(ssl.SSLCertVerificationError, match=r"(?i)hostname|match"):
        make_client(dovecot_wrong_host.host, port=dovecot_wrong_host.tls_port, ssl_context=context)


def test_self_signed_certificate_is_refused(make_client, dovecot_self_signed) -> None:
    context = ssl.create_default_context(cafile=str(dovecot_self_signed.ca_file))
    with pytest.raises(ssl.SSLCertVerificationError):
        make_client(
            dovecot_self_signed.host, port=dovecot_self_signed.tls_port, ssl_context=context
        )


def test_connection_refused_is_raised_by_the_constructor(make_client) -> None:
    # A port that is bound but not listening refuses connections.
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
        with pytest.raises(ConnectionRefusedError):
            make_client("127.0.0.1", port=port, ssl=False, timeout=10)


def test_starttls_then_login(make_client, seeded) -> None:
    account, _ = seeded
    client = connect_plain(make_client, account)
    assert b"STARTTLS" in client.capabilities()
    assert client.ssl is False and tls_version(client) is None
    client.starttls(tls_context(account))
    assert_verified_tls(client)
    # Capabilities were asked for again over TLS: STARTTLS is no longer offered.
    assert b"STARTTLS" not in client.capabilities()
    client.login(account.username, account.password)
    assert client.has_capability("idle")
    assert client.select_folder("INBOX")[b"EXISTS"] == 4
    client.logout()


def test_starttls_certificate_checked(make_client, dovecot_wrong_host) -> None:
    client = make_client(dovecot_wrong_host.host, port=dovecot_wrong_host.port, ssl=False)
    context = ssl.create_default_context(cafile=str(dovecot_wrong_host.ca_file))
    with pytest.raises(ssl.SSLCertVerificationError):
        client.starttls(context)
    # No plaintext fallback: the connection is gone.
    with pytest.raises(IMAPClientAbortError):
        client.noop()


def test_wrong_password_is_a_typed_error_without_the_password(make_client, imap_account) -> None:
    secret = "definitely-wrong-\u00e9-password"
    with connect_plain(make_client, imap_account) as client:
        with pytest.raises(LoginError) as info:
            client.login(imap_account.username, secret)
        assert isinstance(info.value, CommandError) and isinstance(info.value, IMAPClientError)
        assert info.value.status == b"NO"
        assert info.value.code == b"AUTHENTICATIONFAILED"
        assert "definitely-wrong" not in str(info.value)
        # The connection is still usable after a refused login.
        client.login(imap_account.username, imap_account.password)


def test_secrets_never_logged(make_client, imap_account, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    with connect_plain(make_client, imap_account) as client:
        client.login(imap_account.username, imap_account.password)
        client.select_folder("INBOX")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "LOGIN **REDACTED**" in text
    assert imap_account.password not in text
    assert "SELECT INBOX" in text  # other commands are logged in full


def test_server_closing_the_connection(make_client, seeded) -> None:
    account, _ = seeded
    client = connect_plain(make_client, account)
    client.login(account.username, account.password)
    client.select_folder("INBOX")
    account.kick()
    with pytest.raises(ConnectionClosedError):
        client.noop()
    # The client knows the connection is dead.
    with pytest.raises(IMAPClientAbortError):
        client.search()


def test_context_manager_logs_out_and_never_masks_errors(make_client, seeded) -> None:
    account, _ = seeded
    with connect_plain(make_client, account) as client:
        client.login(account.username, account.password)
    assert client.socket() is None

    with pytest.raises(KeyError, match="from the body"):
        with connect_plain(make_client, account) as client:
            client.login(account.username, account.password)
            account.kick()  # logout on exit will fail
            raise KeyError("from the body")
    assert client.socket() is None


def test_stream_runs_the_server_as_a_command(make_client, dovecot, seeded) -> None:
    account, _ = seeded
    argv, env = dovecot.preauth_command(account.username)
    command = shlex.join(["env", *(f"{k}={v}" for k, v in env.items()), *argv])
    with make_client(command, stream=True) as client:
        assert client.welcome  # PREAUTH greeting
        assert client.select_folder("INBOX")[b"EXISTS"] == 4
        assert len(client.search("UNDELETED")) == 3


def test_starttls_after_preauth_is_refused(make_client, dovecot, imap_account) -> None:
    argv, env = dovecot.preauth_command(imap_account.username)
    command = shlex.join(["env", *(f"{k}={v}" for k, v in env.items()), *argv])
    client = make_client(command, stream=True)
    with pytest.raises(IllegalStateOrTLS):
        client.starttls()


IllegalStateOrTLS = (TLSRequiredError, IMAPClientError)


def test_example_program_output(seeded) -> None:
    account, _ = seeded
    env = dict(
        os.environ,
        IMAP_HOST=account.host,
        IMAP_PORT=str(account.port),
        IMAP_USER=account.username,
        IMAP_PASSWORD=account.password,
        IMAP_SSL="0",
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "simple.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "4 messages in INBOX"
    assert lines[1] == "3 messages that aren't deleted"
    assert lines[3] == "Messages:"
    assert len([line for line in lines if line.startswith("   ID ")]) == 3
