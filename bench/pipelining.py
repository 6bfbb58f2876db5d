"""Pipelining and concurrency against the private Dovecot.

Run: ``python bench/pipelining.py [messages]`` (default 100,000; needs Dovecot, which
servers/dovecot.py installs when missing). It reports figures; it asserts nothing.

1. The metadata of every message (UID FLAGS RFC822.SIZE INTERNALDATE) fetched in chunks
   of 1,000 UIDs, with N FETCH commands in flight at once (N = 1 is one at a time),
   through the blocking client (``fetch_many`` over N chunks at a time) and the asyncio
   client (N tasks sharing one connection).
2. 200 concurrent connections logging in and selecting INBOX: asyncio in one event loop,
   and the blocking client one connection after another.

On loopback a round trip costs almost nothing, so (1) is also run through a proxy on
127.0.0.1 that delays every chunk by a fixed one-way latency, as a real network would
(``--latency-ms``, default 10, i.e. a 20 ms round trip).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from imapclient import AsyncIMAPClient, IMAPClient  # noqa: E402
from servers.dovecot import Account, DovecotServer, ensure_installed  # noqa: E402

ITEMS = ["UID", "FLAGS", "RFC822.SIZE", "INTERNALDATE"]


class Target(NamedTuple):
    """Where to connect and as whom."""

    host: str
    port: int
    username: str
    password: str


def target(account: Account, port: int | None = None) -> Target:
    return Target(account.host, port or account.port, account.username, account.password)


CHUNK = 1000
REPEAT = 3


def message(n: int) -> bytes:
    return (
        f"From: sender{n % 97}@example.com\r\nTo: alice@example.org\r\n"
        f"Subject: message number {n}\r\nDate: Mon, 04 Mar 2024 09:12:00 +0100\r\n"
        f"Message-ID: <{n}@bench.example>\r\n\r\n" + "body line\r\n" * (n % 20 + 1)
    ).encode()


def median_time(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def blocking_fetch(account: Target, in_flight: int) -> int:
    with IMAPClient(account.host, port=account.port, ssl=False, timeout=120) as client:
        client.login(account.username, account.password)
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        chunks = [uids[i : i + CHUNK] for i in range(0, len(uids), CHUNK)]
        total = 0
        for start in range(0, len(chunks), in_flight):
            group = chunks[start : start + in_flight]
            if in_flight == 1:
                total += len(client.fetch(group[0], ITEMS))
            else:
                total += len(client.fetch_many(group, ITEMS))
        return total


async def async_fetch(account: Target, in_flight: int) -> int:
    async with AsyncIMAPClient(account.host, port=account.port, ssl=False, timeout=120) as c:
        await c.login(account.username, account.password)
        await c.select_folder("INBOX", readonly=True)
        uids = await c.search("ALL")
        chunks = [uids[i : i + CHUNK] for i in range(0, len(uids), CHUNK)]
        limit = asyncio.Semaphore(in_flight)

        async def one(chunk: list[int]) -> int:
            async with limit:
                return len(await c.fetch(chunk, ITEMS))

        counts = await asyncio.gather(*(one(chunk) for chunk in chunks))
        return sum(counts)


async def async_logins(accounts: list[Account], connections: int) -> None:
    async def one(account: Account) -> AsyncIMAPClient:
        client = await AsyncIMAPClient.create(
            account.host, port=account.port, ssl=False, timeout=120
        )
        await client.login(account.username, account.password)
        await client.select_folder("INBOX")
        return client

    clients = await asyncio.gather(*(one(accounts[i % len(accounts)]) for i in range(connections)))
    await asyncio.gather(*(client.logout() for client in clients))


def blocking_logins(accounts: list[Account], connections: int) -> None:
    for i in range(connections):
        account = accounts[i % len(accounts)]
        with IMAPClient(account.host, port=account.port, ssl=False, timeout=120) as client:
            client.login(account.username, account.password)
            client.select_folder("INBOX")


class DelayProxy:
    """A TCP proxy on 127.0.0.1 that forwards each chunk after ``delay`` seconds, in both
    directions, in order: a network with that one-way latency (and no bandwidth limit)."""

    def __init__(self, target_port: int, delay: float) -> None:
        self.target_port = target_port
        self.delay = delay
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        try:
            while data := await reader.read(256 * 1024):
                loop.call_later(self.delay, writer.write, data)
        finally:
            loop.call_later(self.delay, writer.close)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def fetch_table(account: Target, count: int, title: str) -> None:
    print(
        f"\n### {title}: metadata of {count:,} messages, chunks of {CHUNK} UIDs, "
        f"median of {REPEAT}\n"
    )
    print("| FETCH commands in flight | blocking | asyncio |")
    print("|---|---|---|")
    for in_flight in (1, 2, 4, 8, 16):
        b = median_time(lambda n=in_flight: blocking_fetch(account, n))
        a = median_time(lambda n=in_flight: asyncio.run(async_fetch(account, n)))
        print(f"| {in_flight} | {b:.2f} s | {a:.2f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("messages", nargs="?", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=10.0)
    options = parser.parse_args()
    count = options.messages
    ensure_installed()
    with tempfile.TemporaryDirectory() as state, DovecotServer(Path(state)) as server:
        account = server.new_account("bench")
        start = time.perf_counter()
        for first in range(0, count, 10_000):
            account.seed([message(n) for n in range(first, min(first + 10_000, count))])
        print(f"seeded {count} messages in {time.perf_counter() - start:.1f} s")
        warm = blocking_fetch(target(account), 1)  # lets Dovecot build its index first
        assert warm == count, warm

        fetch_table(target(account), count, "Loopback")
        proxy = DelayProxy(server.port, options.latency_ms / 1000)
        try:
            remote = target(account, proxy.port)
            fetch_table(remote, count, f"{2 * options.latency_ms:g} ms round trip")
        finally:
            proxy.close()

        accounts = [server.new_account("login") for _ in range(10)]
        for acc in accounts:
            blocking_logins([acc], 1)  # create each INBOX before the concurrent run
        print(f"\n### 200 connections: connect, log in, select INBOX (median of {REPEAT})\n")
        print("| client | time |")
        print("|---|---|")
        a = median_time(lambda: asyncio.run(async_logins(accounts, 200)))
        b = median_time(lambda: blocking_logins(accounts, 200))
        print(f"| asyncio, 200 concurrent in one event loop | {a:.2f} s |")
        print(f"| blocking, one after another | {b:.2f} s |")


if __name__ == "__main__":
    main()
