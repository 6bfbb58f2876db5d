"""AsyncIMAPClient against the private Dovecot: 50 concurrent fetches on one connection,
and 200 connections idling in one event loop, each notified of new mail."""

from __future__ import annotations

import asyncio

import pytest

from imapclient import AsyncIMAPClient, IMAPClient

pytestmark = pytest.mark.integration


def message(n: int) -> bytes:
    return f"From: a@example.com\r\nSubject: message {n}\r\n\r\nbody {n}\r\n".encode()


def test_fifty_concurrent_fetches_each_get_their_own_message(imap_account) -> None:
    imap_account.seed([message(n) for n in range(1, 51)])

    async def main() -> list[dict]:
        async with AsyncIMAPClient(
            imap_account.host, port=imap_account.port, ssl=False, timeout=10
        ) as client:
            await client.login(imap_account.username, imap_account.password)
            await client.select_folder("INBOX")
            uids = await client.search("ALL")
            assert len(uids) == 50
            return await asyncio.gather(
                *(client.fetch(uid, ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"]) for uid in uids)
            )

    results = asyncio.run(main())
    for uid, result in zip(range(1, 51), results, strict=True):
        assert list(result) == [uid]
        header = result[uid][b"BODY[HEADER.FIELDS (SUBJECT)]"]
        assert header.strip() == f"Subject: message {uid}".encode()


CONNECTIONS = 200
ACCOUNTS = 10


def test_two_hundred_idling_connections_are_each_notified(dovecot) -> None:
    accounts = [dovecot.new_account() for _ in range(ACCOUNTS)]
    for account in accounts:  # create each INBOX first: concurrent first SELECTs race
        with IMAPClient(account.host, port=account.port, ssl=False) as client:
            client.login(account.username, account.password)
            client.select_folder("INBOX")

    async def watch(account, ready: asyncio.Event, started: list) -> tuple:
        client = await AsyncIMAPClient.create(
            account.host, port=account.port, ssl=False, timeout=60
        )
        await client.login(account.username, account.password)
        await client.select_folder("INBOX")
        async with client.idle_events() as events:
            started.append(1)
            if len(started) == CONNECTIONS:
                ready.set()
            async for event in events:
                if event[1:] == (b"EXISTS",):
                    break
        await client.logout()
        return account.username, event

    async def main() -> list:
        ready = asyncio.Event()
        started: list = []
        watchers = [
            asyncio.create_task(watch(accounts[i % ACCOUNTS], ready, started))
            for i in range(CONNECTIONS)
        ]
        await asyncio.wait_for(ready.wait(), timeout=120)
        # Every connection is idling: one new message in each account's INBOX.
        for account in accounts:
            with IMAPClient(account.host, port=account.port, ssl=False) as other:
                other.login(account.username, account.password)
                other.append("INBOX", message(1))
        return await asyncio.wait_for(asyncio.gather(*watchers), timeout=120)

    results = asyncio.run(main())
    assert len(results) == CONNECTIONS
    assert all(event == (1, b"EXISTS") for _, event in results)
    per_account = {name: 0 for name in (a.username for a in accounts)}
    for name, _ in results:
        per_account[name] += 1
    assert set(per_account.values()) == {CONNECTIONS // ACCOUNTS}
