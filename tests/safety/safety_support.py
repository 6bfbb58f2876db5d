"""Shared helpers of the safety suite (issue 6): connecting to the scripted server, the
usual script prologue, checks that a connection is dead, and memory measurement."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fakeserver import FakeServer, Script

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError

#: Seconds: every blocking wait of a client in this suite is bounded by this.
TIMEOUT = 2.0

MiB = 1024 * 1024


def connect(server: FakeServer, *, timeout: float = TIMEOUT, **options: Any) -> IMAPClient:
    """A plaintext client of ``server`` (TLS is tested where it matters)."""
    return IMAPClient(server.host, server.port, ssl=False, timeout=timeout, **options)


def selected(caps: bytes = b"IMAP4rev1") -> Script:
    """Greeting, LOGIN and SELECT INBOX: the prologue of most hostile scripts. ``caps``
    are announced in the greeting and again with the LOGIN OK."""
    return (
        Script()
        .greeting(caps=caps)
        .login_ok(b"[CAPABILITY " + caps + b"] LOGIN completed")
        .expect(b"SELECT INBOX")
        .send(b"* 3 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen)\r\n")
        .reply(b"OK [READ-WRITE] SELECT completed")
    )


def login_and_select(client: IMAPClient) -> None:
    client.login("alice", "password")
    client.select_folder("INBOX")


def assert_dead(client: IMAPClient) -> None:
    """The client knows its connection is unusable: the next call raises at once (an
    abort error) and its socket is gone. Callers check separately that nothing was sent."""
    assert client.socket() is None
    with pytest.raises(IMAPClientAbortError):
        client.noop()
    with pytest.raises(IMAPClientAbortError):
        client.capabilities()


class Blob(bytes):
    """Bytes with a short repr, so that scripts sending megabytes keep short step
    descriptions (the fake server puts ``repr(data)`` in each step's description)."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes>"


class Peak:
    """The peak of traced allocations, in bytes, once the block is left."""

    bytes: int = 0


@contextmanager
def peak_memory() -> Iterator[Peak]:
    """Measure the peak memory allocated (by every thread) inside the block."""
    peak = Peak()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        yield peak
    finally:
        _, top = tracemalloc.get_traced_memory()
        if not was_tracing:
            tracemalloc.stop()
        peak.bytes = top - base
