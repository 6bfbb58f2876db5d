"""IDLE against every private server (Dovecot, Cyrus, Courier: the ``account`` fixture):
changes made by a second connection arrive while idling, other commands are refused
while idling, and a dropped connection is noticed. Where a server does not offer IDLE,
idle() raises CapabilityError before anything is sent.

Each scenario runs through both front ends (the ``make_client`` fixture)."""

from __future__ import annotations

import pytest

from imapclient.exceptions import CapabilityError, ConnectionClosedError, IllegalStateError

pytestmark = [pytest.mark.integration, pytest.mark.feature("IDLE")]

MESSAGE = b"From: a@example.com\r\nSubject: idle test\r\n\r\nhello\r\n"


def open_client(make_client, account, offered):
    """A logged-in client of the test's front end, with INBOX selected. Without IDLE,
    checks that idle() is refused before anything is sent and returns None."""
    client = account.logged_in(make_client, timeout=10)
    client.select_folder("INBOX")
    if not offered(client, "IDLE"):
        with pytest.raises(CapabilityError):
            client.idle()
        assert client.noop()  # nothing was sent: the session goes on
        return None
    return client


def test_idle_reports_changes_from_another_connection(make_client, account, offered) -> None:
    account.seed([MESSAGE])
    watcher = open_client(make_client, account, offered)
    if watcher is None:
        return
    watcher.idle()
    assert watcher.idle_check(timeout=0.2) == []  # nothing happened yet

    with account.logged_in(make_client, timeout=10) as other:
        other.append("INBOX", MESSAGE)
        events = watcher.idle_check(timeout=10)
        assert (2, b"EXISTS") in events
        other.select_folder("INBOX")
        other.add_flags([1], [b"\\Flagged"])
        flag_events = watcher.idle_check(timeout=10)
        while not any(e[1] == b"FETCH" for e in flag_events if len(e) > 1):
            more = watcher.idle_check(timeout=10)
            assert more, "no FETCH notification within the timeout"
            flag_events += more
        fetch = next(e for e in flag_events if e[1] == b"FETCH")
        assert (
            fetch[0] == 1
            and b"\\Flagged" in dict(zip(fetch[2][::2], fetch[2][1::2], strict=True))[b"FLAGS"]
        )

    text, remaining = watcher.idle_done()
    assert isinstance(text, bytes) and text
    assert isinstance(remaining, list)
    assert watcher.search("FLAGGED") == [1]  # usable again after IDLE
    assert isinstance(watcher.logout(), bytes)


def test_commands_are_refused_while_idling(make_client, account, offered) -> None:
    client = open_client(make_client, account, offered)
    if client is None:
        return
    client.idle()
    with pytest.raises(IllegalStateError):
        client.noop()
    with pytest.raises(IllegalStateError):
        client.idle()
    client.idle_done()
    with pytest.raises(IllegalStateError):
        client.idle_check(timeout=0)
    assert isinstance(client.logout(), bytes)


def test_logout_ends_idle_first(make_client, account, offered) -> None:
    client = open_client(make_client, account, offered)
    if client is None:
        return
    client.idle()
    assert isinstance(client.logout(), bytes)


def test_dropped_connection_is_noticed_while_idling(make_client, account, offered) -> None:
    client = open_client(make_client, account, offered)
    if client is None:
        return
    client.idle()
    account.kick()  # with a BYE first (Dovecot, Courier) or without (Cyrus)
    with pytest.raises(ConnectionClosedError):
        for _ in range(3):  # a BYE, then EOF: either ends it within the timeout
            client.idle_check(timeout=10)
    with pytest.raises(ConnectionClosedError):
        client.noop()
