"""The private Dovecot and its fixtures work, shown with the standard library only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import imaplib
import re
import secrets
import socket
import ssl
import subprocess
import time
from collections.abc import Callable

import pytest

from servers.dovecot import DEFAULT_PASSWORD, DEFAULT_USER, Account, DovecotServer

pytestmark = pytest.mark.integration

TIMEOUT = 10.0


def message(subject: str, body: str = "Hello.\r\n", size: int = 0) -> bytes:
    """A small RFC 5322 message; size pads the body to at least that many bytes."""
    head = (
        "From: Bob <bob@example.com>\r\n"
        "To: Alice <alice@example.org>\r\n"
        f"Subject: {subject}\r\n"
        "Date: Mon, 04 Mar 2024 09:12:00 +0000\r\n"
        f"Message-ID: <{secrets.token_hex(8)}@example.com>\r\n"
        "\r\n"
    ).encode()
    data = head + body.encode()
    if len(data) < size:
        data += (b"x" * 76 + b"\r\n") * ((size - len(data)) // 78 + 1)
    return data


def tls_context(ca_file: object) -> ssl.SSLContext:
    """A verifying client context that trusts only the given CA."""
    return ssl.create_default_context(cafile=str(ca_file))


def login(account: Account) -> imaplib.IMAP4:
    """A plain-port imaplib connection, logged in as the account."""
    client = imaplib.IMAP4(account.host, account.port, timeout=TIMEOUT)
    client.login(account.username, account.password)
    return client


def fetch_flags(client: imaplib.IMAP4) -> dict[int, tuple[set[str], int]]:
    """UID -> (flags, RFC822.SIZE) of every message in the selected mailbox."""
    typ, data = client.uid("FETCH", "1:*", "(FLAGS RFC822.SIZE)")
    assert typ == "OK"
    result: dict[int, tuple[set[str], int]] = {}
    for line in data:
        assert isinstance(line, bytes)
        match = re.search(rb"UID (\d+) FLAGS \(([^)]*)\) RFC822\.SIZE (\d+)", line)
        assert match, line
        flags = set(match.group(2).decode().split()) - {"\\Recent"}
        result[int(match.group(1))] = (flags, int(match.group(3)))
    return result


class Scram:
    """A minimal SCRAM client (RFC 5802) as an imaplib authobject."""

    def __init__(self, username: str, password: str, digest: str) -> None:
        self.username, self.password, self.digest = username, password, digest
        self.nonce = base64.b64encode(secrets.token_bytes(18)).decode()
        self.step = 0
        self.server_verified = False

    def __call__(self, challenge: bytes) -> bytes:
        self.step += 1
        if self.step == 1:
            self.client_first_bare = f"n={self.username},r={self.nonce}"
            return f"n,,{self.client_first_bare}".encode()
        if self.step == 2:
            server_first = challenge.decode()
            fields = dict(part.split("=", 1) for part in server_first.split(","))
            assert fields["r"].startswith(self.nonce)
            salted = hashlib.pbkdf2_hmac(
                self.digest, self.password.encode(), base64.b64decode(fields["s"]), int(fields["i"])
            )
            client_key = hmac.digest(salted, b"Client Key", self.digest)
            stored_key = hashlib.new(self.digest, client_key).digest()
            without_proof = f"c=biws,r={fields['r']}"
            auth_message = f"{self.client_first_bare},{server_first},{without_proof}".encode()
            signature = hmac.digest(stored_key, auth_message, self.digest)
            proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
            server_key = hmac.digest(salted, b"Server Key", self.digest)
            self.expected_final = (
                "v=" + base64.b64encode(hmac.digest(server_key, auth_message, self.digest)).decode()
            )
            return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()
        self.server_verified = challenge.decode() == self.expected_final
        return b""


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll a condition until it holds, failing after TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


# -- connecting -----------------------------------------------------------------


def test_plain_port_greets_with_starttls(dovecot: DovecotServer) -> None:
    with socket.create_connection((dovecot.host, dovecot.port), timeout=TIMEOUT) as sock:
        greeting = sock.makefile("rb").readline()
    assert greeting.startswith(b"* OK [CAPABILITY IMAP4rev1")
    assert b" STARTTLS" in greeting
    assert b"AUTH=PLAIN" in greeting


def test_plain_login_without_tls(imap_account: Account) -> None:
    client = login(imap_account)
    assert client.state == "AUTH"
    client.logout()


def test_starttls_then_login_verifies_against_ca_file(imap_account: Account) -> None:
    client = imaplib.IMAP4(imap_account.host, imap_account.port, timeout=TIMEOUT)
    client.starttls(tls_context(imap_account.ca_file))
    assert "STARTTLS" not in client.capabilities
    client.login(imap_account.username, imap_account.password)
    assert isinstance(client.sock, ssl.SSLSocket)
    client.logout()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_tls_port_verifies_against_ca_file(imap_account: Account, host: str) -> None:
    client = imaplib.IMAP4_SSL(
        host, imap_account.tls_port, ssl_context=tls_context(imap_account.ca_file), timeout=TIMEOUT
    )
    assert isinstance(client.sock, ssl.SSLSocket)
    cert = client.sock.getpeercert()
    assert cert is not None
    assert ("DNS", "localhost") in cert["subjectAltName"]
    assert ("IP Address", "127.0.0.1") in cert["subjectAltName"]
    client.login(imap_account.username, imap_account.password)
    client.logout()


@pytest.mark.parametrize(
    ("host", "verify_code"),
    [("localhost", 62), ("127.0.0.1", 64)],  # X509_V_ERR_HOSTNAME_MISMATCH, _IP_ADDRESS_MISMATCH
)
def test_wrong_host_certificate_fails_hostname_verification(
    dovecot_wrong_host: DovecotServer, host: str, verify_code: int
) -> None:
    context = tls_context(dovecot_wrong_host.ca_file)
    with pytest.raises(ssl.SSLCertVerificationError) as error:
        imaplib.IMAP4_SSL(host, dovecot_wrong_host.tls_port, ssl_context=context, timeout=TIMEOUT)
    assert error.value.verify_code == verify_code
    # The chain itself is fine: without the hostname check the handshake succeeds.
    context.check_hostname = False
    client = imaplib.IMAP4_SSL(
        dovecot_wrong_host.host, dovecot_wrong_host.tls_port, ssl_context=context, timeout=TIMEOUT
    )
    client.login(DEFAULT_USER, DEFAULT_PASSWORD)
    client.logout()


def test_wrong_host_certificate_fails_after_starttls(dovecot_wrong_host: DovecotServer) -> None:
    client = imaplib.IMAP4(dovecot_wrong_host.host, dovecot_wrong_host.port, timeout=TIMEOUT)
    with pytest.raises(ssl.SSLCertVerificationError):
        client.starttls(tls_context(dovecot_wrong_host.ca_file))
    client.file.close()  # the failed handshake already closed the socket


def test_self_signed_certificate_fails_verification(
    dovecot_self_signed: DovecotServer,
) -> None:
    with pytest.raises(ssl.SSLCertVerificationError) as error:
        imaplib.IMAP4_SSL(
            dovecot_self_signed.host,
            dovecot_self_signed.tls_port,
            ssl_context=tls_context(dovecot_self_signed.ca_file),
            timeout=TIMEOUT,
        )
    assert error.value.verify_code == 18  # X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT


# -- authentication -------------------------------------------------------------


def test_default_user_exists(dovecot: DovecotServer) -> None:
    client = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    client.login(DEFAULT_USER, DEFAULT_PASSWORD)
    client.logout()


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_auth_mechanisms(imap_account: Account, mechanism: str) -> None:
    client = imaplib.IMAP4(imap_account.host, imap_account.port, timeout=TIMEOUT)
    assert f"AUTH={mechanism}" in client.capabilities
    user, password = imap_account.username, imap_account.password
    if mechanism == "PLAIN":
        typ, _ = client.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())
    elif mechanism == "LOGIN":
        answers = iter([user.encode(), password.encode()])
        typ, _ = client.authenticate("LOGIN", lambda _: next(answers))
    else:
        scram = Scram(user, password, mechanism.removeprefix("SCRAM-").replace("-", "").lower())
        typ, _ = client.authenticate(mechanism, scram)
        assert scram.server_verified
    assert typ == "OK"
    client.logout()


def test_wrong_password_is_rejected(imap_account: Account) -> None:
    client = imaplib.IMAP4(imap_account.host, imap_account.port, timeout=TIMEOUT)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        client.login(imap_account.username, imap_account.password + "-wrong")
    client.logout()


def test_capabilities_after_login(imap_account: Account) -> None:
    client = login(imap_account)
    typ, data = client.capability()
    assert typ == "OK"
    capabilities = set(data[0].split())
    expected = {
        b"IMAP4rev1",
        b"IDLE",
        b"CONDSTORE",
        b"QRESYNC",
        b"MOVE",
        b"UIDPLUS",
        b"QUOTA",
        b"ACL",
        b"METADATA",
        b"SPECIAL-USE",
        b"NAMESPACE",
        b"ENABLE",
    }
    assert expected <= capabilities
    client.logout()


# -- mail -----------------------------------------------------------------------


def test_fresh_user_has_empty_inbox_and_special_use_folders(imap_account: Account) -> None:
    client = login(imap_account)
    typ, data = client.select("INBOX")
    assert (typ, data) == ("OK", [b"0"])
    typ, folders = client.list()
    assert typ == "OK"
    listing = b"\n".join(line for line in folders if isinstance(line, bytes))
    for flag, name in [
        (b"\\Drafts", b"Drafts"),
        (b"\\Sent", b"Sent"),
        (b"\\Trash", b"Trash"),
        (b"\\Junk", b"Junk"),
        (b"\\Archive", b"Archive"),
    ]:
        assert re.search(rb"\(.*" + re.escape(flag) + rb".*\) \"/\" " + name, listing), listing
    client.logout()


def test_accounts_do_not_share_mail(dovecot: DovecotServer) -> None:
    first, second = dovecot.new_account(), dovecot.new_account()
    first.seed([message("only for the first")])
    client = login(second)
    assert client.select("INBOX") == ("OK", [b"0"])
    client.logout()


def test_seeded_messages_are_visible_with_flags(imap_account: Account) -> None:
    messages = [
        message("plain"),
        message("seen", size=2000),
        message("flagged and answered", size=30000),
        message("deleted"),
        message("keywords"),
    ]
    imap_account.seed(
        [
            messages[0],
            (messages[1], ["\\Seen"]),
            (messages[2], ["\\Flagged", "\\Answered"]),
            (messages[3], ["\\Deleted", "\\Seen"]),
            (messages[4], ["$Forwarded", "Work", "\\Draft"]),
        ]
    )
    client = login(imap_account)
    assert client.select("INBOX") == ("OK", [b"5"])
    assert fetch_flags(client) == {
        1: (set(), len(messages[0])),
        2: ({"\\Seen"}, len(messages[1])),
        3: ({"\\Flagged", "\\Answered"}, len(messages[2])),
        4: ({"\\Deleted", "\\Seen"}, len(messages[3])),
        5: ({"$Forwarded", "Work", "\\Draft"}, len(messages[4])),
    }
    typ, data = client.uid("FETCH", "3", "(BODY.PEEK[])")
    assert typ == "OK" and isinstance(data[0], tuple)
    assert data[0][1] == messages[2]
    typ, data = client.uid("SEARCH", "NOT", "DELETED")
    assert data == [b"1 2 3 5"]
    client.logout()


def test_seed_into_other_folders(imap_account: Account) -> None:
    imap_account.seed([(message("sent one"), ["\\Seen"])], folder="Sent")
    imap_account.seed([message("old"), message("older")], folder="Archive/2023")
    client = login(imap_account)
    assert client.select("Sent") == ("OK", [b"1"])
    assert client.select("Archive/2023") == ("OK", [b"2"])
    assert client.select("INBOX") == ("OK", [b"0"])
    client.logout()


def test_mail_seeded_while_selected_shows_up_at_noop(imap_account: Account) -> None:
    client = login(imap_account)
    assert client.select("INBOX") == ("OK", [b"0"])
    imap_account.seed([message("arrives later")])

    def exists_reported() -> bool:
        client.noop()
        return client.untagged_responses.get("EXISTS", [])[-1:] == [b"1"]

    wait_for(exists_reported, "EXISTS 1 after NOOP")
    client.logout()


def test_quota_and_metadata(imap_account: Account) -> None:
    imap_account.seed([message("some mail", size=5000)])
    client = login(imap_account)
    typ, data = client.getquotaroot("INBOX")
    assert typ == "OK"
    assert data[1][0].startswith(b'"User quota" (STORAGE ')
    imaplib.Commands.setdefault("SETMETADATA", ("AUTH", "SELECTED"))
    imaplib.Commands.setdefault("GETMETADATA", ("AUTH", "SELECTED"))
    typ, _ = client._simple_command("SETMETADATA", "INBOX", '(/private/comment "hello")')
    assert typ == "OK"
    typ, _ = client._simple_command("GETMETADATA", "INBOX", "/private/comment")
    assert typ == "OK"
    assert b"hello" in repr(client.untagged_responses.get("METADATA")).encode()
    client.logout()


# -- administration -------------------------------------------------------------


def test_kick_closes_logged_in_connection(imap_account: Account) -> None:
    client = login(imap_account)
    client.select("INBOX")
    other = login(imap_account.server.new_account())  # another user stays connected

    imap_account.kick()

    # The server says BYE and closes: the next read ends.
    lines = []
    while line := client.readline():
        lines.append(line)
    assert lines and lines[0].startswith(b"* BYE")
    assert other.noop()[0] == "OK"
    other.logout()


def test_preauth_imap_over_a_pipe(imap_account: Account) -> None:
    argv, env = imap_account.server.preauth_command(imap_account.username)
    result = subprocess.run(
        argv,
        env=env,
        input=b"a SELECT INBOX\r\nb LOGOUT\r\n",
        capture_output=True,
        timeout=TIMEOUT,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0].startswith(b"* PREAUTH [CAPABILITY IMAP4rev1")
    assert imap_account.username.encode() in lines[0]
    assert b"* 0 EXISTS" in lines
    assert lines[-1].startswith(b"b OK")


def test_doveadm(imap_account: Account) -> None:
    imap_account.seed([message("one"), message("two")])
    output = imap_account.server.doveadm(
        "mailbox", "status", "-u", imap_account.username, "messages", "INBOX"
    )
    assert output.split() == ["INBOX", "messages=2"]
