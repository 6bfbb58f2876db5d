"""Safety case 17 of issue 6: a large literal delivered one byte per read.

Linearity is measured by ``bench/literal_byte_by_byte.py`` (1, 10 and 100 MB), not timed
here; these tests check that byte-at-a-time delivery frames and parses exactly.
"""

from __future__ import annotations

from imapclient.protocol.encoder import ArgList, Atom, Command
from imapclient.protocol.framing import Framer
from imapclient.protocol.parser import Parser
from imapclient.protocol.responses import UntaggedResponse
from imapclient.protocol.session import Session

MiB = 1024 * 1024


def _body(size: int) -> bytes:
    # Every byte value but NUL, CR and LF on their own, plus CRLF, braces and a fake
    # announcement: none of it may be taken for a line end or a literal.
    unit = bytes(range(1, 256)) + b"\r\n{12}\r\n* 2 EXISTS\r\nA1 OK fake\r\n"
    return (unit * (size // len(unit) + 1))[:size]


def test_one_megabyte_literal_fed_one_byte_at_a_time_is_framed_exactly() -> None:
    body = _body(MiB)
    first = b"* 1 FETCH (UID 7 BODY[] {%d}\r\n" % len(body) + body + b" FLAGS (\\Seen))"
    wire = first + b"\r\n* 2 EXISTS\r\n"
    framer = Framer()
    feed, next_response = framer.feed, framer.next_response
    responses = []
    for i in range(len(wire)):
        feed(wire[i : i + 1])
        while (response := next_response()) is not None:
            responses.append(response)
    assert responses == [first, b"* 2 EXISTS"]
    assert framer.buffered == 0
    parsed = Parser().parse(responses[0])
    assert isinstance(parsed, UntaggedResponse)
    assert parsed.data == {b"UID": 7, b"BODY[]": body, b"FLAGS": (b"\\Seen",)}


def test_session_routes_a_literal_fed_one_byte_at_a_time() -> None:
    body = _body(64 * 1024)
    session = Session()
    for byte in b"* OK [CAPABILITY IMAP4rev1] hi\r\n":
        session.receive_data(bytes([byte]))
    fetch = session.send(Command(b"UID FETCH", (Atom(b"7"), ArgList([Atom(b"BODY[]")]))))
    assert session.data_to_send() == b"A1 UID FETCH 7 (BODY[])\r\n"
    wire = (
        b"* 1 FETCH (UID 7 BODY[] {%d}\r\n" % len(body)
        + body
        + b")\r\n* 3 EXISTS\r\nA1 OK FETCH done\r\n"
    )
    for i in range(len(wire)):
        session.receive_data(wire[i : i + 1])
    assert fetch.outcome().text == b"FETCH done"
    (response,) = fetch.untagged
    assert isinstance(response, UntaggedResponse)
    assert response.data == {b"UID": 7, b"BODY[]": body}
    assert [(r.name, r.number) for r in session.unsolicited] == [(b"EXISTS", 3)]
