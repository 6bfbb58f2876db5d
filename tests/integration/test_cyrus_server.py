"""The private Cyrus IMAP server (servers/cyrus.py) works, shown with the standard library only.

The session's server is the ``cyrus`` fixture of tests/conftest.py (see
servers/cyrus.py for what it starts).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import imaplib
import json
import re
import secrets
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from servers.cyrus import (
    ADMIN_USER,
    CAPABILITIES_AFTER_LOGIN,
    DEFAULT_PASSWORD,
    DEFAULT_USER,
    CyrusAccount,
    CyrusServer,
)

pytestmark = pytest.mark.integration

TIMEOUT = 10.0
ROOT = Path(__file__).resolve().parents[2]

for _command in ("GETMETADATA", "SETMETADATA", "ENABLE"):
    imaplib.Commands.setdefault(_command, ("AUTH", "SELECTED"))


@pytest.fixture
def cyrus_account(cyrus: CyrusServer) -> CyrusAccount:
    """A fresh user on the session's Cyrus (INBOX and special-use folders already made)."""
    return cyrus.new_account()


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


def login(account: CyrusAccount) -> imaplib.IMAP4:
    """A plain-port imaplib connection, logged in as the account."""
    client = imaplib.IMAP4(account.host, account.port, timeout=TIMEOUT)
    client.login(account.username, account.password)
    return client


def capabilities(client: imaplib.IMAP4) -> set[str]:
    """The capabilities a CAPABILITY command returns now."""
    typ, data = client.capability()
    assert typ == "OK"
    return set(bytes(data[0]).decode().split())


def fetch_flags(client: imaplib.IMAP4) -> dict[int, tuple[set[str], int]]:
    """UID -> (flags, RFC822.SIZE) of every message in the selected mailbox."""
    typ, data = client.uid("FETCH", "1:*", "(FLAGS RFC822.SIZE)")
    assert typ == "OK"
    result: dict[int, tuple[set[str], int]] = {}
    for line in data:
        assert isinstance(line, bytes)
        uid = re.search(rb"UID (\d+)", line)
        flags = re.search(rb"FLAGS \(([^)]*)\)", line)
        size = re.search(rb"RFC822\.SIZE (\d+)", line)
        assert uid and flags and size, line
        result[int(uid.group(1))] = (set(flags.group(1).decode().split()) - {"\\Recent"},
                                     int(size.group(1)))
    return result


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll a condition until it holds, failing after TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


class Scram:
    """A minimal SCRAM client (RFC 5802) as an imaplib authobject."""

    def __init__(self, username: str, password: str, digest: str) -> None:
        self.username, self.password, self.digest = username, password, digest
        self.nonce = base64.b64encode(secrets.token_bytes(18)).decode()
        self.step = 0
        self.server_verified = False
        self.client_first_bare = self.expected_final = ""

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


# -- connecting -----------------------------------------------------------------


def test_plain_port_greets_with_starttls(cyrus: CyrusServer) -> None:
    with socket.create_connection((cyrus.host, cyrus.port), timeout=TIMEOUT) as sock:
        greeting = sock.makefile("rb").readline()
    assert greeting.startswith(b"* OK [CAPABILITY IMAP4rev1")
    assert b" STARTTLS" in greeting
    assert b"AUTH=PLAIN" in greeting
    assert b"Cyrus IMAP 3." in greeting


def test_default_user_logs_in(cyrus: CyrusServer) -> None:
    client = imaplib.IMAP4(cyrus.host, cyrus.port, timeout=TIMEOUT)
    client.login(DEFAULT_USER, DEFAULT_PASSWORD)
    assert client.state == "AUTH"
    client.logout()


def test_wrong_password_is_rejected_at_once(cyrus_account: CyrusAccount) -> None:
    client = imaplib.IMAP4(cyrus_account.host, cyrus_account.port, timeout=TIMEOUT)
    started = time.monotonic()
    with pytest.raises(imaplib.IMAP4.error, match="authentication failure"):
        client.login(cyrus_account.username, cyrus_account.password + "-wrong")
    assert time.monotonic() - started < 2  # failedloginpause is 0
    client.logout()


def test_starttls_then_login_verifies_against_ca_file(cyrus_account: CyrusAccount) -> None:
    client = imaplib.IMAP4(cyrus_account.host, cyrus_account.port, timeout=TIMEOUT)
    client.starttls(tls_context(cyrus_account.ca_file))
    client.login(cyrus_account.username, cyrus_account.password)
    assert isinstance(client.sock, ssl.SSLSocket)
    client.logout()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_tls_port_verifies_against_ca_file(cyrus_account: CyrusAccount, host: str) -> None:
    client = imaplib.IMAP4_SSL(host, cyrus_account.tls_port,
                               ssl_context=tls_context(cyrus_account.ca_file), timeout=TIMEOUT)
    assert isinstance(client.sock, ssl.SSLSocket)
    cert = client.sock.getpeercert()
    assert cert is not None
    assert ("IP Address", "127.0.0.1") in cert["subjectAltName"]
    assert "STARTTLS" not in client.capabilities
    client.login(cyrus_account.username, cyrus_account.password)
    client.logout()


@pytest.mark.parametrize("mechanism",
                         ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_auth_mechanisms(cyrus_account: CyrusAccount, mechanism: str) -> None:
    client = imaplib.IMAP4(cyrus_account.host, cyrus_account.port, timeout=TIMEOUT)
    assert f"AUTH={mechanism}" in client.capabilities
    user, password = cyrus_account.username, cyrus_account.password
    if mechanism == "PLAIN":
        typ, _ = client.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())
    elif mechanism == "LOGIN":
        answers = iter([user.encode(), password.encode()])
        typ, _ = client.authenticate("LOGIN", lambda _: next(answers))
    elif mechanism == "CRAM-MD5":
        typ, _ = client.login_cram_md5(user, password)
    else:
        scram = Scram(user, password, mechanism.removeprefix("SCRAM-").replace("-", "").lower())
        typ, _ = client.authenticate(mechanism, scram)
        assert scram.server_verified
    assert typ == "OK"
    client.logout()


# -- capabilities -----------------------------------------------------------------


def test_capabilities_after_login_are_the_documented_ones(cyrus_account: CyrusAccount) -> None:
    client = login(cyrus_account)
    assert capabilities(client) == set(CAPABILITIES_AFTER_LOGIN)
    client.logout()


def test_capabilities_relied_on(cyrus_account: CyrusAccount) -> None:
    client = login(cyrus_account)
    assert {
        "IMAP4rev1", "ACL", "QUOTA", "METADATA", "ANNOTATE-EXPERIMENT-1", "SORT",
        "THREAD=REFERENCES", "THREAD=ORDEREDSUBJECT", "CONDSTORE", "QRESYNC", "SPECIAL-USE",
        "CREATE-SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS", "OBJECTID", "IDLE", "MOVE",
        "UIDPLUS", "NAMESPACE", "ENABLE", "ESEARCH", "BINARY", "CATENATE", "UNSELECT",
        "LITERAL+", "ID", "WITHIN", "PREVIEW", "COMPRESS=DEFLATE",
    } <= capabilities(client)
    client.logout()


# -- mail -----------------------------------------------------------------------


def test_fresh_user_has_empty_inbox_special_use_folders_and_quota(
    cyrus_account: CyrusAccount,
) -> None:
    client = login(cyrus_account)
    assert client.select("INBOX") == ("OK", [b"0"])
    typ, folders = client.list()
    assert typ == "OK"
    listing = b"\n".join(line for line in folders if isinstance(line, bytes))
    for flag, name in [(b"\\drafts", b"Drafts"), (b"\\sent", b"Sent"), (b"\\trash", b"Trash"),
                       (b"\\junk", b"Junk"), (b"\\archive", b"Archive")]:
        assert re.search(rb"\(.*" + re.escape(flag) + rb"\) \"/\" " + name, listing,
                         re.IGNORECASE), listing
    typ, data = client.getquotaroot("INBOX")
    assert typ == "OK"
    assert data == [[b"INBOX INBOX"], [b"INBOX (STORAGE 0 102400)"]]
    client.logout()


def test_accounts_do_not_share_mail(cyrus: CyrusServer) -> None:
    first, second = cyrus.new_account(), cyrus.new_account()
    first.seed([message("only for the first")])
    client = login(second)
    assert client.select("INBOX") == ("OK", [b"0"])
    typ, data = client.list('""', "*")
    assert typ == "OK"
    assert first.username.encode() not in b"".join(line for line in data if isinstance(line, bytes))
    client.logout()
    client = login(first)
    assert client.select("INBOX") == ("OK", [b"1"])
    client.logout()


def test_seeded_messages_are_visible_with_flags(cyrus_account: CyrusAccount) -> None:
    messages = [
        message("plain"),
        message("seen", size=2000),
        message("flagged and answered", size=30000),
        message("deleted"),
        message("keywords"),
    ]
    cyrus_account.seed([
        messages[0],
        (messages[1], ["\\Seen"]),
        (messages[2], ["\\Flagged", "\\Answered"]),
        (messages[3], ["\\Deleted", "\\Seen"]),
        (messages[4], ["$Forwarded", "Work", "\\Draft"]),
    ])
    client = login(cyrus_account)
    assert client.select("INBOX") == ("OK", [b"5"])
    assert fetch_flags(client) == {
        1: (set(), len(messages[0])),
        2: ({"\\Seen"}, len(messages[1])),
        3: ({"\\Flagged", "\\Answered"}, len(messages[2])),
        4: ({"\\Deleted", "\\Seen"}, len(messages[3])),
        5: ({"$Forwarded", "Work", "\\Draft"}, len(messages[4])),
    }
    typ, data = client.uid("FETCH", "3", "(INTERNALDATE BODY.PEEK[])")
    assert typ == "OK" and isinstance(data[0], tuple)
    assert data[0][1] == messages[2]
    assert b'INTERNALDATE " 4-Mar-2024 09:12:00 +0000"' in data[0][0]
    typ, data = client.uid("SEARCH", "NOT", "DELETED")
    assert data == [b"1 2 3 5"]
    client.logout()


def test_seed_bare_lf_messages_become_crlf(cyrus_account: CyrusAccount) -> None:
    cyrus_account.seed([b"Subject: unix\n\nline one\nline two\n"])
    client = login(cyrus_account)
    client.select("INBOX")
    typ, data = client.fetch("1", "(BODY.PEEK[])")
    assert typ == "OK" and isinstance(data[0], tuple)
    assert data[0][1] == b"Subject: unix\r\n\r\nline one\r\nline two\r\n"
    client.logout()


def test_seed_into_other_folders(cyrus_account: CyrusAccount) -> None:
    cyrus_account.seed([(message("sent one"), ["\\Seen"])], folder="Sent")
    cyrus_account.seed([message("old"), message("older")], folder="Archive/2023")
    cyrus_account.seed([message("café")], folder="Réunions")
    client = login(cyrus_account)
    assert client.select("Sent") == ("OK", [b"1"])
    assert client.select("Archive/2023") == ("OK", [b"2"])
    assert client.select('"R&AOk-unions"') == ("OK", [b"1"])
    assert client.select("INBOX") == ("OK", [b"0"])
    typ, data = client.lsub('""', "*")
    assert typ == "OK"
    assert any(line.endswith(b'"/" R&AOk-unions') for line in data if isinstance(line, bytes))
    client.logout()


def test_mail_seeded_while_selected_shows_up_at_noop(cyrus_account: CyrusAccount) -> None:
    client = login(cyrus_account)
    assert client.select("INBOX") == ("OK", [b"0"])
    cyrus_account.seed([message("arrives later")])

    def exists_reported() -> bool:
        client.noop()
        return client.untagged_responses.get("EXISTS", [])[-1:] == [b"1"]

    wait_for(exists_reported, "EXISTS 1 after NOOP")
    client.logout()


def test_idle_reports_new_mail_promptly(cyrus_account: CyrusAccount) -> None:
    client = login(cyrus_account)
    client.select("INBOX")
    client.send(b"i1 IDLE\r\n")
    assert client.readline().startswith(b"+ ")
    started = time.monotonic()
    cyrus_account.seed([message("pushed")])
    assert client.readline() == b"* 1 EXISTS\r\n"
    assert time.monotonic() - started < 5  # idled pushes; polling would take a second
    client.send(b"DONE\r\n")
    while not (line := client.readline()).startswith(b"i1 "):
        assert line.startswith(b"* ")
    assert line.startswith(b"i1 OK")
    client.logout()


def test_condstore_qresync_objectid_metadata_sort_thread(cyrus_account: CyrusAccount) -> None:
    cyrus_account.seed([message("b first"), message("a second"), message("Re: b first")])
    client = login(cyrus_account)
    typ, data = client._simple_command("ENABLE", "QRESYNC")
    assert typ == "OK"
    assert client.untagged_responses.pop("ENABLED", None) == [b"CONDSTORE QRESYNC"]
    typ, data = client.select("INBOX")
    assert typ == "OK"
    assert client.untagged_responses.get("HIGHESTMODSEQ")
    assert client.untagged_responses.get("MAILBOXID")
    typ, data = client.fetch("1:*", "(MODSEQ EMAILID THREADID)")
    assert typ == "OK"
    assert all(re.search(rb"MODSEQ \(\d+\) EMAILID \(\S+\) THREADID \(\S+\)", line)
               for line in data), data
    typ, data = client.sort("(SUBJECT)", "UTF-8", "ALL")
    assert (typ, data) == ("OK", [b"2 1 3"])
    typ, data = client.thread("REFERENCES", "UTF-8", "ALL")
    assert typ == "OK" and data[0]
    typ, _ = client._simple_command("SETMETADATA", "INBOX", '(/private/comment "hello")')
    assert typ == "OK"
    typ, _ = client._simple_command("GETMETADATA", "INBOX", "/private/comment")
    assert typ == "OK"
    assert client.untagged_responses.pop("METADATA") == [b'INBOX ("/private/comment" "hello")']
    typ, data = client.myrights("INBOX")
    assert typ == "OK" and data[0].startswith(b"INBOX lrswi")
    client.logout()


def test_log_file_records_logins(cyrus_account: CyrusAccount) -> None:
    login(cyrus_account).logout()
    log = cyrus_account.server.log_file

    def logged() -> bool:
        return f"login: localhost [127.0.0.1] {cyrus_account.username} " in log.read_text()

    wait_for(logged, "the login in the log file")


# -- administration -------------------------------------------------------------


def test_admin_sees_and_manages_every_user(cyrus: CyrusServer) -> None:
    owner, reader = cyrus.new_account(), cyrus.new_account()
    owner.seed([message("shared with reader")])
    with cyrus.connect() as admin:  # the admin, by default
        typ, data = admin.list('""', f"user/{owner.username}/*")
        assert typ == "OK" and len(data) == 5  # the special-use folders
        assert admin.setacl(f"user/{owner.username}", reader.username, "lr")[0] == "OK"
        typ, data = admin.getquota(f"user/{owner.username}")
        assert typ == "OK" and b"STORAGE" in data[0]
    client = login(reader)
    assert client.select(f'"Other Users/{owner.username}"', readonly=True) == ("OK", [b"1"])
    client.logout()
    assert cyrus.admin_user == ADMIN_USER
    assert ADMIN_USER not in cyrus.users()


def test_kick_closes_the_users_connections_only(cyrus_account: CyrusAccount) -> None:
    client = login(cyrus_account)
    client.select("INBOX")
    other = login(cyrus_account.server.new_account())
    assert cyrus_account.server.sessions(cyrus_account.username)

    cyrus_account.kick()

    # Cyrus sends no BYE: the connection just ends.
    assert client.readline() == b""
    assert not cyrus_account.server.sessions(cyrus_account.username)
    assert other.noop()[0] == "OK"
    other.logout()


def test_restart_keeps_users_mail_and_ports(tmp_path: Path) -> None:
    server = CyrusServer(tmp_path / "cyrus")
    with server:
        account = server.new_account()
        account.seed([message("kept")])
        ports = (server.port, server.tls_port)
    assert not server.is_running()
    with CyrusServer(tmp_path / "cyrus") as again:
        assert (again.port, again.tls_port) == ports
        client = login(CyrusAccount(again, account.username, account.password))
        assert client.select("INBOX") == ("OK", [b"1"])
        client.logout()


def test_command_line_start_and_stop(tmp_path: Path) -> None:
    script = ROOT / "servers" / "cyrus.py"
    state = tmp_path / "cli"
    started = subprocess.run([sys.executable, str(script), "start", "--state-dir", str(state)],
                             capture_output=True, text=True, timeout=120, check=True)
    facts = json.loads(started.stdout)
    try:
        assert facts["users"] == {DEFAULT_USER: DEFAULT_PASSWORD}
        client = imaplib.IMAP4(facts["host"], facts["port"], timeout=TIMEOUT)
        client.login(facts["admin_user"], facts["admin_password"])
        client.logout()
        subprocess.run([sys.executable, str(script), "seed-sample", "--state-dir", str(state)],
                       capture_output=True, timeout=60, check=True)
        client = imaplib.IMAP4(facts["host"], facts["port"], timeout=TIMEOUT)
        client.login(DEFAULT_USER, DEFAULT_PASSWORD)
        assert client.select("INBOX") == ("OK", [b"12"])
        client.logout()
    finally:
        subprocess.run([sys.executable, str(script), "stop", "--state-dir", str(state)],
                       capture_output=True, timeout=60, check=True)
    assert not CyrusServer(state).is_running()
