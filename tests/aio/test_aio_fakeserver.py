"""AsyncIMAPClient against the scripted server: what is pipelined and what is not (by the
bytes on the wire), cancellation in the middle of a large literal, and a server that
disconnects with ten commands in flight."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from fakeserver import FakeServer, Script

from imapclient import AsyncIMAPClient
from imapclient.exceptions import ConnectionClosedError, IllegalStateError, IMAPTimeoutError

CAPS = b"IMAP4rev1 IDLE UIDPLUS MOVE LITERAL+"


def selected() -> Script:
    return (
        Script()
        .greeting(caps=CAPS)
        .expect(re.compile(rb"LOGIN .+"))
        .reply(b"OK [CAPABILITY " + CAPS + b"] logged in")
        .expect(b"SELECT INBOX")
        .send(b"* 10 EXISTS\r\n")
        .reply(b"OK [READ-WRITE] selected")
    )


async def connect(server: FakeServer) -> AsyncIMAPClient:
    client = await AsyncIMAPClient.create(server.host, server.port, ssl=False, timeout=5)
    await client.login("alice", "secret")
    await client.select_folder("INBOX")
    return client


def record_wire(client: AsyncIMAPClient) -> list[tuple[str, bytes]]:
    """Log, in order, what the client writes and what it receives."""
    events: list[tuple[str, bytes]] = []
    transport = client._transport
    assert transport is not None
    original_write = transport.write  # type: ignore[attr-defined]
    original_log_received = client._log_received

    def write(data: bytes) -> None:
        events.append(("sent", bytes(data)))
        original_write(data)

    def log_received(data: bytes | memoryview) -> None:  # called with each read, first
        events.append(("received", bytes(data)))
        original_log_received(data)

    transport.write = write  # type: ignore[attr-defined]
    client._log_received = log_received  # type: ignore[method-assign]
    return events


def test_fetches_of_different_uids_are_pipelined() -> None:
    # The server reads all three commands before answering any: a client that waited for
    # each answer would stall here until its read timeout.
    script = (
        selected()
        .expect(b"UID FETCH 1 (FLAGS)")
        .expect(b"UID FETCH 2 (FLAGS)")
        .expect(b"UID FETCH 3 (FLAGS)")
        .send(
            b"* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n* 1 FETCH (UID 1 FLAGS ())\r\n"
            b"* 3 FETCH (UID 3 FLAGS (\\Flagged))\r\n"
            b"A3 OK done\r\nA4 OK done\r\nA5 OK done\r\n"
        )
        .logout()
    )

    async def main() -> list[Any]:
        client = await connect(server)
        results = await asyncio.gather(*(client.fetch(uid, ["FLAGS"]) for uid in (1, 2, 3)))
        await client.logout()
        return results

    with FakeServer(script) as server:
        results = asyncio.run(main())
    assert [{k: v[b"FLAGS"] for k, v in r.items()} for r in results] == [
        {1: ()},
        {2: (b"\\Seen",)},
        {3: (b"\\Flagged",)},
    ]


def test_select_waits_for_the_fetch_in_flight() -> None:
    script = (
        selected()
        .expect(b"UID FETCH 1 (FLAGS)")
        .send(b"* 1 FETCH (UID 1 FLAGS ())\r\n")
        .reply(b"OK done")
        .expect(b"SELECT Archive")
        .send(b"* 0 EXISTS\r\n")
        .reply(b"OK [READ-WRITE] selected")
        .logout()
    )

    async def main() -> list[tuple[str, bytes]]:
        client = await connect(server)
        events = record_wire(client)
        await asyncio.gather(client.fetch(1, ["FLAGS"]), client.select_folder("Archive"))
        await client.logout()
        return events

    with FakeServer(script) as server:
        events = asyncio.run(main())
    sent_select = next(i for i, (kind, data) in enumerate(events) if b"SELECT" in data)
    fetch_ok = next(i for i, (kind, data) in enumerate(events) if b"A3 OK" in data)
    assert events[sent_select][0] == "sent" and events[fetch_ok][0] == "received"
    assert fetch_ok < sent_select  # SELECT left only after the FETCH had completed


BIG = 4 * 1024 * 1024


def test_cancelling_in_the_middle_of_a_large_literal_leaves_the_connection_usable() -> None:
    body = b"x" * BIG
    script = (
        selected()
        .expect(b"UID FETCH 5 (BODY.PEEK[])")
        .send(b"* 5 FETCH (UID 5 BODY[] {%d}\r\n" % BIG + body[: BIG // 2])
        # The rest arrives only once the client has moved on to another command.
        .expect(b"CREATE Later")
        .send(body[BIG // 2 :] + b")\r\nA3 OK fetched\r\n")
        .reply(b"OK created")
        .expect(b"NOOP")
        .reply(b"OK noop")
        .logout()
    )

    async def main() -> tuple[bytes, list[Any]]:
        client = await connect(server)
        task = asyncio.create_task(client.fetch(5, ["BODY.PEEK[]"]))
        framer = client._session._framer
        await client._wait_for(lambda: framer.buffered > BIG // 4)  # mid-literal
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        created = await client.create_folder("Later")
        text, updates = await client.noop()
        leftovers = await client.drain_unsolicited()
        await client.logout()
        return created, [text, updates, leftovers]

    with FakeServer(script) as server:
        created, (text, updates, leftovers) = asyncio.run(main())
    assert created == b"created"
    assert text == b"noop" and updates == [] and leftovers == []


def test_disconnect_with_ten_commands_in_flight_fails_them_all() -> None:
    script = selected()
    for uid in range(1, 11):
        script = script.expect(b"UID FETCH %d (FLAGS)" % uid)
    script = script.close()

    async def main() -> list[Any]:
        client = await connect(server)
        results = await asyncio.wait_for(
            asyncio.gather(
                *(client.fetch(uid, ["FLAGS"]) for uid in range(1, 11)), return_exceptions=True
            ),
            timeout=10,
        )
        with pytest.raises(ConnectionClosedError):
            await client.noop()
        return results

    with FakeServer(script) as server:
        results = asyncio.run(main())
    assert len(results) == 10
    assert all(isinstance(r, ConnectionClosedError) for r in results), results


def test_idle_events_renews_idle_and_ends_it_when_the_block_is_left() -> None:
    script = (
        selected()
        .expect(b"IDLE")
        .send(b"+ idling\r\n")
        .expect_line(b"DONE")  # renewal after renew_interval
        .reply(b"OK IDLE terminated")
        .expect(b"IDLE")
        .send(b"+ idling\r\n* 11 EXISTS\r\n")
        .expect_line(b"DONE")  # the async with block was left
        .reply(b"OK IDLE terminated")
        .logout()
    )

    async def main() -> tuple[Any, ...]:
        client = await connect(server)
        async with client.idle_events(renew_interval=0.2) as events:
            first = await events.__anext__()
        assert client._idle is None  # IDLE ended with the block
        await client.logout()
        return first

    with FakeServer(script) as server:
        event = asyncio.run(main())
    assert event == (11, b"EXISTS")
    assert server.received.count(b"IDLE\r\n") == 2


def test_a_command_during_idle_events_ends_idle_first() -> None:
    script = (
        selected()
        .expect(b"IDLE")
        .send(b"+ idling\r\n")
        .expect_line(b"DONE")
        .reply(b"OK IDLE terminated")
        .expect(b"NOOP")
        .reply(b"OK noop")
        .logout()
    )

    async def main() -> bytes:
        client = await connect(server)
        events = client.idle_events()
        await events.start()
        text, _ = await client.noop()  # IDLE is ended for it, not refused
        await client.logout()
        return text

    with FakeServer(script) as server:
        assert asyncio.run(main()) == b"noop"


def test_explicit_idle_refuses_other_commands() -> None:
    script = (
        selected()
        .expect(b"IDLE")
        .send(b"+ idling\r\n")
        .expect_line(b"DONE")
        .reply(b"OK IDLE terminated")
        .logout()
    )

    async def main() -> None:
        client = await connect(server)
        await client.idle()
        with pytest.raises(IllegalStateError):
            await client.noop()
        assert await client.idle_check(timeout=0.05) == []
        text, updates = await client.idle_done()
        assert text == b"IDLE terminated" and updates == []
        await client.logout()

    with FakeServer(script) as server:
        asyncio.run(main())


def test_read_timeout_fires_on_a_literal_shorter_than_announced() -> None:
    script = (
        selected()
        .expect(b"UID FETCH 1 (BODY.PEEK[])")
        .send(b"* 1 FETCH (UID 1 BODY[] {100}\r\nonly a part")
        .stall()
    )

    async def main() -> float:
        client = await AsyncIMAPClient.create(server.host, server.port, ssl=False, timeout=0.5)
        await client.login("alice", "secret")
        await client.select_folder("INBOX")
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(IMAPTimeoutError):
            await client.fetch(1, ["BODY.PEEK[]"])
        elapsed = loop.time() - start
        with pytest.raises(IMAPTimeoutError):  # the connection is known to be dead
            await client.noop()
        return elapsed

    with FakeServer(script) as server:
        elapsed = asyncio.run(main())
    assert 0.4 < elapsed < 5


def test_the_read_timeout_restarts_with_every_chunk_received() -> None:
    # The answer to NOOP trickles in one byte every 0.15 s, 2 s in all, with a read
    # timeout of 0.5 s: the client must wait it out (the timer is restarted by each
    # chunk), and then time out on a server that stops answering.
    import socket
    import threading
    import time

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1] ready\r\n")
            reader = conn.makefile("rb")
            tag = reader.readline().split(b" ", 1)[0]
            for byte in b"%s OK done\r\n" % tag:
                conn.sendall(bytes([byte]))
                time.sleep(0.15)  # pacing the server, not synchronising the test
            reader.readline()  # the second NOOP: never answered
            reader.read()  # until the client closes

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    async def main() -> tuple[float, float]:
        client = await AsyncIMAPClient.create("127.0.0.1", port, ssl=False, timeout=0.5)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await client.noop()
        slow = loop.time() - start
        start = loop.time()
        with pytest.raises(IMAPTimeoutError):
            await client.noop()
        return slow, loop.time() - start

    slow, dead = asyncio.run(main())
    listener.close()
    assert slow > 1.0  # longer than the timeout, yet no timeout
    assert 0.4 < dead < 3
