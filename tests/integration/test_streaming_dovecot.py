"""Streaming a message body to a sink as it arrives (fetch_to_file), through both front
ends, against the private Dovecot: the bytes are exact and memory stays flat."""

from __future__ import annotations

import hashlib
import io
import tracemalloc

import pytest

from imapclient.exceptions import ConnectionClosedError
from imapclient.protocol.framing import Framer

pytestmark = pytest.mark.integration

SIZE = 30 * 1024 * 1024


def big_message(size: int) -> bytes:
    head = b"From: a@example.com\r\nSubject: big\r\nContent-Type: text/plain\r\n\r\n"
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-+/=0123456789\r\n"
    body = line * ((size - len(head)) // len(line))
    return head + body


class HashingSink:
    """Keeps only a digest and a count, never the data."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self.largest_write = 0

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.largest_write = max(self.largest_write, len(data))


@pytest.fixture
def client(imap_account, make_client):
    c = make_client(imap_account.host, port=imap_account.port, ssl=False, timeout=60)
    c.login(imap_account.username, imap_account.password)
    yield c


def test_a_large_body_streams_with_flat_memory(imap_account, client) -> None:
    raw = big_message(SIZE)
    imap_account.seed([raw, b"Subject: small\r\n\r\nhello\r\n"])
    client.select_folder("INBOX")
    sink = HashingSink()
    tracemalloc.start()
    try:
        written = client.fetch_to_file(1, sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == sink.size == len(raw)
    assert sink.digest.hexdigest() == hashlib.sha256(raw).hexdigest()
    assert peak < 8 * 1024 * 1024, f"peak Python allocation {peak} bytes for a {SIZE} B body"
    assert sink.largest_write <= 1024 * 1024
    # The connection goes on normally, and ordinary fetches still buffer as before.
    assert client.fetch(2, ["BODY.PEEK[]"])[2][b"BODY[]"].endswith(b"hello\r\n")


def test_partial_and_binary_items_stream_too(imap_account, client) -> None:
    raw = (
        b"From: a@example.com\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain'
        b"\r\n\r\nhello\r\n--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n--b--\r\n"
    )
    imap_account.seed([raw])
    client.select_folder("INBOX")
    first = io.BytesIO()
    assert client.fetch_to_file(1, first, "BODY.PEEK[]<0.20>") == 20
    assert first.getvalue() == raw[:20]
    binary = io.BytesIO()
    assert client.fetch_to_file(1, binary, "BINARY.PEEK[2]") == 10
    assert binary.getvalue() == bytes(range(10))


def test_a_missing_message_writes_nothing(imap_account, client) -> None:
    imap_account.seed([b"Subject: one\r\n\r\nx\r\n"])
    client.select_folder("INBOX")
    sink = io.BytesIO()
    assert client.fetch_to_file(99, sink) == 0
    assert sink.getvalue() == b""


def test_eof_in_a_streamed_literal_says_the_sink_is_incomplete() -> None:
    framer = Framer()
    sink = io.BytesIO()
    framer.literal_router = lambda prefix, size: sink
    framer.feed(b"* 1 FETCH (BODY[] {100}\r\n" + b"x" * 40)
    assert framer.next_response() is None
    assert sink.getvalue() == b"x" * 40 and framer.buffered < 100
    with pytest.raises(ConnectionClosedError, match="40 of 100"):
        framer.eof()


def test_append_streams_a_large_message_from_a_file(imap_account, client, tmp_path) -> None:
    raw = big_message(20 * 1024 * 1024)
    path = tmp_path / "big.eml"
    path.write_bytes(raw)
    with path.open("rb") as source:
        tracemalloc.start()
        try:
            result = client.append("INBOX", source, flags=[b"\\Seen"])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert result.code is not None and result.code.name == b"APPENDUID"
    assert peak < 8 * 1024 * 1024, f"peak Python allocation {peak} bytes while appending"
    client.select_folder("INBOX")
    sink = HashingSink()
    uid = max(client.search())
    assert client.fetch_to_file(uid, sink) == len(raw)
    assert sink.digest.hexdigest() == hashlib.sha256(raw).hexdigest()
    assert b"\\Seen" in client.get_flags(uid)[uid]


def test_append_from_a_seekable_stream_without_a_file(imap_account, client) -> None:
    stream = io.BytesIO(b"skipped\r\nSubject: from a stream\r\n\r\nbody\r\n")
    stream.seek(9)  # only what remains after the current position is sent
    client.append("INBOX", stream)
    client.select_folder("INBOX")
    uid = max(client.search())
    assert client.fetch(uid, ["BODY.PEEK[]"])[uid][b"BODY[]"].startswith(b"Subject: from a")
