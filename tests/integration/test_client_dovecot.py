"""Both clients against the private Dovecot, for what only Dovecot is set up to show:
certificates for the wrong host and self-signed ones, ``stream=True`` with Dovecot's imap
binary (and STARTTLS refused after its PREAUTH), and Dovecot's own words in the texts the
methods return. The scenarios every server shares are in test_client.py and test_api.py
(parametrised over Dovecot, Cyrus and Courier).

Every scenario runs through both front ends (the ``make_client`` fixture: the blocking
IMAPClient, and AsyncIMAPClient behind tests/frontends.py's BlockingAdapter).
"""

from __future__ import annotations

import shlex
import socket
import ssl
from pathlib import Path

import pytest
from frontends import tls_version

from imapclient import (
    IMAPClientAbortError,
    IMAPClientError,
    LoginError,
    TLSRequiredError,
)
from imapclient.exceptions import CommandError
from imapclient.response_types import Quota

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SPECIAL_FOLDERS = {"Drafts", "Sent", "Trash", "Junk", "Archive"}


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


def test_starttls_certificate_checked(make_client, dovecot_wrong_host) -> None:
    client = make_client(dovecot_wrong_host.host, port=dovecot_wrong_host.port, ssl=False)
    context = ssl.create_default_context(cafile=str(dovecot_wrong_host.ca_file))
    with pytest.raises(ssl.SSLCertVerificationError):
        client.starttls(context)
    # No plaintext fallback: the connection is gone.
    with pytest.raises(IMAPClientAbortError):
        client.noop()


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


def test_dovecots_own_texts_and_settings(make_client, dovecot, seeded) -> None:
    """What test_api.py checks on every server, with Dovecot's exact words and settings:
    each method returns the server's text; the ACL rights, quota root and ID are
    Dovecot's; XLIST is answered though not announced."""
    account, _ = seeded
    friend = dovecot.new_account("friend").username
    c = connect_plain(make_client, account)
    assert c.welcome.startswith(b"[CAPABILITY IMAP4rev1 ") or b"Dovecot" in c.welcome
    assert c.login(account.username, account.password).endswith(b"Logged in")
    assert c.create_folder("Économie & Co").startswith(b"Create completed")
    assert c.rename_folder("Économie & Co", "Ça & là").startswith(b"Rename completed")
    assert c.subscribe_folder("Ça & là").startswith(b"Subscribe completed")
    assert c.unsubscribe_folder("Ça & là").startswith(b"Unsubscribe completed")
    assert c.delete_folder("Ça & là").startswith(b"Delete completed")
    assert {n for _, _, n in c.list_sub_folders()} == SPECIAL_FOLDERS  # INBOX is not

    owner = account.username.encode()
    assert c.getacl("INBOX") == [(owner, b"lrwstipekxacd")]
    assert c.setacl("INBOX", friend, "lr").startswith(b"Setacl complete")
    assert c.setacl("INBOX", friend, "").startswith(b"Deleteacl complete")
    with pytest.raises(CommandError, match="'anyone' identifier is disallowed"):
        c.setacl("INBOX", "anyone", "lr")

    assert c.get_quota_root("INBOX")[0].quota_roots == ["User quota"]
    with pytest.raises(CommandError) as info:
        c.set_quota(Quota("User quota", "STORAGE", 0, 5000))
    assert info.value.text.startswith(b"Quota can be changed only by admin")

    assert not c.has_capability("XLIST")
    assert sorted(c.xlist_folders()) == sorted(c.list_folders())  # answered anyway
    assert c.id_()[b"name"] == b"Dovecot"

    assert c.select_folder("INBOX")[b"RECENT"] == 4  # this session sees them first
    assert c.noop()[0].startswith(b"NOOP completed")
    c.delete_messages([1])
    text, responses = c.expunge()
    assert text.startswith(b"Expunge completed") and (1, b"EXPUNGE") in responses
    assert c.uid_expunge([2]).startswith(b"Expunge completed")
    assert c.unselect_folder().startswith(b"Unselect completed")
    c.select_folder("INBOX")
    assert c.close_folder().startswith(b"Close completed")
    with pytest.raises(LoginError) as refused:
        connect_plain(make_client, account).login(account.username, "wrong")
    assert refused.value.code == b"AUTHENTICATIONFAILED"
    assert c.logout() == b"Logging out"
