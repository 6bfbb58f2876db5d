"""The IDLE watchers against every private server (Dovecot, Cyrus, Courier: the
``account`` fixture): a second connection appends, flags and expunges and the watcher
reports each with its UID; IDLE is renewed; a killed connection is noticed at once, and
with reconnect=True what happened meanwhile is reported (caught up with CONDSTORE's
CHANGEDSINCE where the server offers it, else by comparing UIDs and flags)."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from typing import Any

import pytest

from imapclient import AsyncIMAPClient, IMAPClient
from imapclient.exceptions import ConnectionClosedError
from imapclient.watch import AsyncIdleWatcher, IdleWatcher, WatchEvent

pytestmark = [pytest.mark.integration, pytest.mark.feature("IDLE")]

MESSAGE = b"From: a@example.com\r\nSubject: watched\r\n\r\nhello\r\n"


def other(account: Any) -> IMAPClient:
    client = IMAPClient(account.host, port=account.port, ssl=False, timeout=10)
    account.login(client)
    client.select_folder("INBOX")
    return client


def blocking_connect(account: Any):
    def connect() -> IMAPClient:
        client = IMAPClient(account.host, port=account.port, ssl=False, timeout=5)
        account.login(client)
        return client

    return connect


class Collector:
    """Runs a blocking watcher in a thread; events arrive in a queue."""

    def __init__(self, watcher: IdleWatcher) -> None:
        self.watcher = watcher
        self.events: queue.Queue[Any] = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for event in self.watcher:
                self.events.put(event)
        except Exception as exc:  # handed to the test
            self.events.put(exc)

    def next(self, timeout: float = 10) -> Any:
        return self.events.get(timeout=timeout)


def test_blocking_watcher_reports_new_flags_and_expunged(account, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="imapclient")
    account.seed([MESSAGE])
    idling = threading.Event()
    watcher = IdleWatcher(blocking_connect(account), renew_interval=0.5, on_idle=idling.set)
    collector = Collector(watcher)
    with other(account) as changer:
        assert idling.wait(10)  # the watcher is idling
        changer.append("INBOX", MESSAGE)
        event = collector.next()
        assert event == WatchEvent("new", 2, event.flags) and event.kind == "new"
        changer.noop()
        changer.add_flags([1], [b"\\Flagged"])
        event = collector.next()
        assert event.kind == "flags" and event.uid == 1 and b"\\Flagged" in event.flags
        changer.delete_messages([2])
        changer.expunge()
        event = collector.next()
        if event.kind == "flags":  # some servers (Cyrus) report the \Deleted flag first
            assert event.uid == 2 and b"\\Deleted" in event.flags
            event = collector.next()
        assert event == WatchEvent("expunged", 2)
    idles = [r for r in caplog.records if r.getMessage().endswith(" IDLE")]
    assert len(idles) >= 2  # renewed at least once (renew_interval 0.5 s)
    account.kick()
    assert isinstance(collector.next(), ConnectionClosedError)  # no reconnect: raises
    collector.thread.join(10)


@pytest.mark.feature("CONDSTORE")
def test_async_watcher_reconnects_and_reports_what_happened_meanwhile(account, offered) -> None:
    """New and expunged messages are found by comparing UIDs; flag changes only where the
    server has CONDSTORE (as documented)."""
    with other(account) as probe:
        condstore = offered(probe, "CONDSTORE")
    expected = 3 if condstore else 2
    account.seed([MESSAGE, MESSAGE, MESSAGE])
    changes_done = asyncio.Event()
    connections = 0

    async def connect() -> AsyncIMAPClient:
        nonlocal connections
        connections += 1
        if connections == 2:  # reconnecting: let the test change the folder first
            await changes_done.wait()
        client = await AsyncIMAPClient.create(
            account.host, port=account.port, ssl=False, timeout=5
        )
        if account.password is not None:  # not on a pre-authenticated session
            await client.login(account.username, account.password)
        return client

    async def main() -> list[WatchEvent]:
        idling = asyncio.Event()
        watcher = AsyncIdleWatcher(
            connect, reconnect=True, reconnect_delay=0.01, on_idle=idling.set
        )
        seen: list[WatchEvent] = []
        events = watcher.__aiter__()

        async def change_while_disconnected() -> None:
            await idling.wait()  # the watcher is idling on its first connection
            account.kick()
            with other(account) as changer:
                changer.append("INBOX", MESSAGE)
                changer.add_flags([1], [b"$Seen-Elsewhere"])
                changer.delete_messages([3])
                changer.expunge()
            changes_done.set()

        changer_task = asyncio.create_task(change_while_disconnected())
        while len(seen) < expected:
            seen.append(await asyncio.wait_for(events.__anext__(), 20))
        await changer_task
        await events.aclose()
        assert watcher.reconnects == 1
        return seen

    seen = asyncio.run(main())
    assert WatchEvent("expunged", 3) in seen
    assert any(e.kind == "new" and e.uid == 4 for e in seen)
    flagged = [e for e in seen if e.kind == "flags"]
    if condstore:
        assert any(e.uid == 1 and b"$Seen-Elsewhere" in e.flags for e in flagged)
    else:
        assert flagged == []
