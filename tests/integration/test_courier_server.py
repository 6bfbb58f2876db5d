"""The private Courier IMAP server (servers/courier.py) works, shown with the standard library only.

Courier runs pre-authenticated: over TCP (each account has its own ports) and
over a pipe (preauth_command).  The session's server is the ``courier`` fixture of
tests/conftest.py.
"""

from __future__ import annotations

import imaplib
import json
import re
import secrets
import shlex
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from servers.courier import (
    CAPABILITIES,
    DEFAULT_USER,
    CourierAccount,
    CourierServer,
)

pytestmark = pytest.mark.integration

TIMEOUT = 10.0
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def courier_account(courier: CourierServer) -> CourierAccount:
    """A fresh maildir user with its own pre-authenticated plain and TLS ports."""
    return courier.new_account()


def message(subject: str, body: str = "Hello.\r\n", size: int = 0) -> bytes:
    """A small RFC 5322 message with CRLF line ends; size pads the body."""
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


def connect(account: CourierAccount) -> imaplib.IMAP4:
    """A plain-port connection: already authenticated (PREAUTH), no LOGIN."""
    client = imaplib.IMAP4(account.host, account.port, timeout=TIMEOUT)
    assert client.state == "AUTH"
    return client


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


# -- connecting -----------------------------------------------------------------


def test_tcp_greeting_is_preauth(courier: CourierServer) -> None:
    with socket.create_connection((courier.host, courier.port), timeout=TIMEOUT) as sock:
        greeting = sock.makefile("rb").readline()
    assert greeting == b"* PREAUTH Ready.\r\n"


def test_tcp_session_needs_no_login(courier_account: CourierAccount) -> None:
    client = connect(courier_account)
    assert client.select("INBOX") == ("OK", [b"0"])
    typ, data = client.namespace()
    assert (typ, data) == ("OK", [b'(("INBOX." ".")) NIL (("#shared." ".")("shared." "."))'])
    client.logout()


def test_capabilities(courier_account: CourierAccount) -> None:
    client = connect(courier_account)
    typ, data = client.capability()
    assert typ == "OK"
    assert bytes(data[0]).decode().split() == list(CAPABILITIES)
    assert {"IMAP4rev1", "IDLE", "UIDPLUS", "SORT", "THREAD=REFERENCES", "QUOTA", "ACL",
            "NAMESPACE", "CHILDREN", "ENABLE", "UTF8=ACCEPT"} <= set(CAPABILITIES)
    client.logout()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_tls_port_verifies_against_ca_file(courier_account: CourierAccount, host: str) -> None:
    context = ssl.create_default_context(cafile=str(courier_account.ca_file))
    client = imaplib.IMAP4_SSL(host, courier_account.tls_port, ssl_context=context,
                               timeout=TIMEOUT)
    assert isinstance(client.sock, ssl.SSLSocket)
    assert client.welcome == b"* PREAUTH Ready."
    assert client.select("INBOX") == ("OK", [b"0"])
    client.logout()


def test_each_account_has_its_own_ports_and_maildir(courier: CourierServer) -> None:
    first, second = courier.new_account(), courier.new_account()
    assert len({first.port, first.tls_port, second.port, second.tls_port}) == 4
    first.seed([message("only for the first")])
    client = connect(second)
    assert client.select("INBOX") == ("OK", [b"0"])
    client.logout()
    client = connect(first)
    assert client.select("INBOX") == ("OK", [b"1"])
    client.logout()


def test_preauth_command_over_a_pipe(courier_account: CourierAccount) -> None:
    courier_account.seed([message("over a pipe")])
    argv, env = courier_account.preauth_command()
    result = subprocess.run(argv, env=env, input=b"a SELECT INBOX\r\nb LOGOUT\r\n",
                            capture_output=True, timeout=TIMEOUT, check=True)
    lines = result.stdout.splitlines()
    assert lines[0] == b"* PREAUTH Ready."
    assert b"* 1 EXISTS" in lines
    assert lines[-1].startswith(b"b OK")
    assert courier_account.username.encode() in result.stderr  # imapd's log line


def test_preauth_command_with_imaplib_stream(courier_account: CourierAccount) -> None:
    argv, env = courier_account.server.preauth_command(courier_account.username)
    command = shlex.join(["env", "-i", *(f"{key}={value}" for key, value in env.items()), *argv])
    client = imaplib.IMAP4_stream(command)
    assert client.state == "AUTH"
    assert client.select("INBOX") == ("OK", [b"0"])
    client.logout()


# -- mail -----------------------------------------------------------------------


def test_seeded_messages_are_visible_with_flags(courier_account: CourierAccount) -> None:
    messages = [
        message("plain"),
        message("seen", size=2000),
        message("flagged and answered", size=30000),
        message("deleted"),
        message("keywords"),
    ]
    courier_account.seed([
        messages[0],
        (messages[1], ["\\Seen"]),
        (messages[2], ["\\Flagged", "\\Answered"]),
        (messages[3], ["\\Deleted", "\\Seen"]),
        (messages[4], ["$Forwarded", "Work", "\\Draft"]),
    ])
    client = connect(courier_account)
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
    assert data[0][1] == messages[2]  # stored with LF, served with CRLF again
    assert b'INTERNALDATE "04-Mar-2024 09:12:00 +0000"' in data[0][0]
    typ, data = client.uid("SEARCH", "NOT", "DELETED")
    assert data == [b"1 2 3 5"]
    client.logout()


def test_seed_into_other_folders(courier_account: CourierAccount) -> None:
    courier_account.seed([(message("sent one"), ["\\Seen"])], folder="Sent")
    courier_account.seed([message("old"), message("older")], folder="INBOX.Archive.2023")
    courier_account.seed([message("café")], folder="Réunions")
    client = connect(courier_account)
    assert client.select("INBOX.Sent") == ("OK", [b"1"])
    assert client.select("INBOX.Archive.2023") == ("OK", [b"2"])
    assert client.select('"INBOX.R&AOk-unions"') == ("OK", [b"1"])
    assert client.select("INBOX") == ("OK", [b"0"])
    typ, data = client.lsub('""', "*")
    assert typ == "OK"
    subscribed = b"\n".join(line for line in data if isinstance(line, bytes))
    assert b'"INBOX.Sent"' in subscribed and b'"INBOX.R&AOk-unions"' in subscribed
    client.logout()


def test_mail_seeded_while_selected_shows_up_at_noop(courier_account: CourierAccount) -> None:
    client = connect(courier_account)
    assert client.select("INBOX") == ("OK", [b"0"])
    courier_account.seed([message("arrives later")])

    def exists_reported() -> bool:
        client.noop()
        return client.untagged_responses.get("EXISTS", [])[-1:] == [b"1"]

    wait_for(exists_reported, "EXISTS 1 after NOOP")
    client.logout()


def test_idle_reports_new_mail(courier_account: CourierAccount) -> None:
    client = connect(courier_account)
    client.select("INBOX")
    client.send(b"i1 IDLE\r\n")
    assert client.readline().startswith(b"+ ")
    started = time.monotonic()
    courier_account.seed([message("noticed")])
    assert client.readline() == b"* 1 EXISTS\r\n"
    assert time.monotonic() - started < 5  # imapd looks every second
    client.send(b"DONE\r\n")
    while not (line := client.readline()).startswith(b"i1 "):
        assert line.startswith(b"* ")
    assert line.startswith(b"i1 OK")
    client.logout()


def test_append_sort_thread_acl_quota(courier_account: CourierAccount) -> None:
    client = connect(courier_account)
    for subject in ("b", "a", "Re: c"):
        typ, data = client.append("INBOX", "(\\Seen)", None, message(subject))
        assert typ == "OK" and b"APPENDUID" in data[0]
    client.select("INBOX")
    # Distinct base subjects: Courier orders ties ("b", "Re: b") not by sequence number.
    assert client.sort("(SUBJECT)", "UTF-8", "ALL") == ("OK", [b"2 1 3"])
    typ, data = client.thread("ORDEREDSUBJECT", "UTF-8", "ALL")
    assert typ == "OK" and data[0]
    typ, data = client.getacl("INBOX")
    assert typ == "OK" and data[0].startswith(b'"INBOX" "owner"')
    typ, data = client.getquotaroot("INBOX")
    assert typ == "OK"
    client.logout()


# -- administration -------------------------------------------------------------


def test_kick_ends_the_users_sessions_with_bye(courier_account: CourierAccount) -> None:
    client = connect(courier_account)
    client.select("INBOX")
    other = connect(courier_account.server.new_account())

    courier_account.kick()

    lines = []
    while line := client.readline():
        lines.append(line)
    assert lines and lines[0].startswith(b"* BYE")
    assert other.noop()[0] == "OK"
    other.logout()


def test_log_file_records_sessions(courier_account: CourierAccount) -> None:
    connect(courier_account).logout()
    log = courier_account.server.log_file

    def logged() -> bool:
        return f"LOGOUT, user={courier_account.username}," in log.read_text()

    wait_for(logged, "the session in the log file")


def test_restart_keeps_users_mail_and_ports(tmp_path: Path) -> None:
    server = CourierServer(tmp_path / "courier")
    with server:
        account = server.new_account()
        account.seed([message("kept")])
        ports = (account.port, account.tls_port)
    assert not server.is_running()
    with CourierServer(tmp_path / "courier") as again:
        again_account = CourierAccount(again, account.username)
        assert (again_account.port, again_account.tls_port) == ports
        client = connect(again_account)
        assert client.select("INBOX") == ("OK", [b"1"])
        client.logout()


def test_command_line_start_and_stop(tmp_path: Path) -> None:
    script = ROOT / "servers" / "courier.py"
    state = tmp_path / "cli"
    started = subprocess.run([sys.executable, str(script), "start", "--state-dir", str(state)],
                             capture_output=True, text=True, timeout=120, check=True)
    facts = json.loads(started.stdout)
    try:
        assert list(facts["users"]) == [DEFAULT_USER]
        subprocess.run([sys.executable, str(script), "seed-sample", "--state-dir", str(state)],
                       capture_output=True, timeout=60, check=True)
        client = imaplib.IMAP4(facts["host"], facts["port"], timeout=TIMEOUT)
        assert client.select("INBOX") == ("OK", [b"12"])
        client.logout()
    finally:
        subprocess.run([sys.executable, str(script), "stop", "--state-dir", str(state)],
                       capture_output=True, timeout=60, check=True)
    assert not CourierServer(state).is_running()
