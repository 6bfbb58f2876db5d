"""Property tests (Hypothesis) of the protocol core.

* Framing is independent of chunking: a stream of valid responses gives the same parsed
  responses however it is split.
* parse(encode(x)) == x: a value the encoder writes as an astring, a quoted string or a
  list comes back unchanged through the parser.
* Hostile input: random bytes (and random near-grammatical responses) fed to a
  Framer + Parser raise only ProtocolError, never loop, and never make the framer hold
  more than its limits allow; fed to a Session they raise only IMAPClientAbortError.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imapclient.exceptions import IMAPClientAbortError, ProtocolError
from imapclient.protocol.encoder import (
    ArgList,
    Atom,
    Command,
    Literal,
    LiteralMode,
    Quoted,
    encode_command,
)
from imapclient.protocol.framing import Framer
from imapclient.protocol.limits import Limits
from imapclient.protocol.parser import Parser
from imapclient.protocol.responses import MailboxList, Response, UntaggedResponse
from imapclient.protocol.session import Session

# derandomize: every run explores the same examples, so a failure is reproducible in CI
# and never flickers.
FAST = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- building valid response streams --------------------------------------------------


@dataclass
class Built:
    """One server response: its bytes, the line parts the framer sees (literal data
    excluded, line ends excluded) and its literals."""

    data: bytes
    lines: list[bytes]
    literals: list[bytes]


class Builder:
    """Accumulates one response; ``literal()`` ends the current line part."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.current = bytearray()
        self.literals: list[bytes] = []

    def text(self, data: bytes) -> Builder:
        self.current += data
        return self

    def literal(self, data: bytes, binary: bool = False) -> Builder:
        self.current += b"%s{%d}" % (b"~" if binary else b"", len(data))
        self.parts.append(bytes(self.current))
        self.current = bytearray()
        self.literals.append(data)
        return self

    def done(self) -> Built:
        lines = [*self.parts, bytes(self.current)]
        out = bytearray()
        for i, line in enumerate(lines):
            out += line + b"\r\n"
            if i < len(self.literals):
                out += self.literals[i]
        return Built(bytes(out), lines, list(self.literals))


# Text for resp-text and continuation requests: printable, never ending in "}" (which
# would announce a literal), never empty.
_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters="}"),
    min_size=1,
    max_size=30,
).map(lambda t: b"x " + t.encode())  # "x" first: text starting with "[" is a code
_ATOM = st.from_regex(rb"\A[A-Za-z][A-Za-z0-9.\-]{0,12}\Z")
_NUM = st.integers(min_value=0, max_value=2**32 - 1)
_NZ = st.integers(min_value=1, max_value=2**32 - 1)
_LIT_DATA = st.one_of(
    st.binary(max_size=60),
    st.sampled_from([b"", b"\r\n", b"{5}\r\n", b"* OK fake\r\n", b"a\r\nA1 OK x\r\n", b"}"]),
)
_QUOTABLE = st.binary(max_size=20).map(
    lambda b: bytes(c for c in b if c not in (0, 10, 13) and c < 0x80)
)


def _quote(value: bytes) -> bytes:
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


@st.composite
def responses(draw: st.DrawFn) -> Built:
    kind = draw(st.integers(min_value=0, max_value=8))
    b = Builder()
    if kind == 0:
        word = draw(st.sampled_from([b"EXISTS", b"RECENT", b"EXPUNGE"]))
        return b.text(b"* %d %s" % (draw(_NUM), word)).done()
    if kind == 1:
        ids = draw(st.lists(_NZ, max_size=8))
        return b.text(b"* SEARCH" + b"".join(b" %d" % i for i in ids)).done()
    if kind == 2:
        head = draw(st.sampled_from([b"* OK", b"* NO", b"A1 OK", b"A22 NO", b"B7 BAD"]))
        code = draw(st.sampled_from([b"", b"[UIDNEXT 4] ", b"[ALERT] ", b"[READ-WRITE] "]))
        return b.text(head + b" " + code + draw(_TEXT)).done()
    if kind == 3:
        b.text(b'* LIST (\\HasNoChildren) "/" ')
        how = draw(st.integers(min_value=0, max_value=2))
        if how == 0:
            return b.text(draw(_ATOM)).done()
        if how == 1:
            return b.text(_quote(draw(_QUOTABLE))).done()
        return b.literal(draw(_LIT_DATA)).done()
    if kind == 4:
        b.text(b"* %d FETCH (UID %d" % (draw(_NZ), draw(_NZ)))
        for section in draw(
            st.lists(st.sampled_from([b"BODY[]", b"BODY[1]", b"BINARY[2]"]), max_size=3)
        ):
            b.text(b" " + section + b" ")
            how = draw(st.integers(min_value=0, max_value=2))
            if how == 0:
                b.text(b"NIL")
            elif how == 1:
                b.text(_quote(draw(_QUOTABLE)))
            else:
                b.literal(draw(_LIT_DATA), binary=section.startswith(b"BINARY"))
        return b.text(b" FLAGS (\\Seen))").done()
    if kind == 5:
        return b.text(b"+ " + draw(_TEXT)).done()
    if kind == 6:
        caps = draw(st.lists(_ATOM, min_size=1, max_size=5))
        return b.text(b"* CAPABILITY " + b" ".join(caps)).done()
    if kind == 7:
        b.text(b"* STATUS ")
        b.literal(draw(_LIT_DATA))
        return b.text(b" (MESSAGES %d UIDNEXT %d)" % (draw(_NUM), draw(_NZ))).done()
    return (
        b.text(b"* 1 FETCH (ENVELOPE (NIL ")
        .literal(draw(_LIT_DATA))
        .text(b' ((NIL NIL "a" "b")) NIL NIL NIL NIL NIL NIL NIL))')
        .done()
    )


def split_points(draw: st.DrawFn, size: int) -> list[int]:
    mode = draw(st.sampled_from(["random", "fixed", "whole"]))
    if mode == "whole" or size == 0:
        return []
    if mode == "fixed":
        step = draw(st.integers(min_value=1, max_value=7))
        return list(range(step, size, step))
    return sorted(set(draw(st.lists(st.integers(min_value=0, max_value=size), max_size=20))))


def chunks_of(data: bytes, points: list[int]) -> list[bytes]:
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def frame_and_parse(chunks: list[bytes], limits: Limits) -> list[Response]:
    framer = Framer(limits)
    parser = Parser(limits)
    out: list[Response] = []
    for chunk in chunks:
        framer.feed(chunk)
        while (raw := framer.next_response()) is not None:
            out.append(parser.parse(raw))
    assert framer.buffered == 0
    return out


def tight_limits(stream: list[Built]) -> Limits:
    """The smallest limits the stream satisfies."""
    return Limits(
        max_line_length=max(1, max(len(line) for r in stream for line in r.lines)),
        max_literal_size=max([1] + [len(lit) for r in stream for lit in r.literals]),
        max_response_size=max(len(r.data) for r in stream),
    )


@st.composite
def chunked_streams(draw: st.DrawFn) -> tuple[list[Built], list[bytes]]:
    stream = draw(st.lists(responses(), min_size=1, max_size=8))
    data = b"".join(r.data for r in stream)
    return stream, chunks_of(data, split_points(draw, len(data)))


@FAST
@given(chunked_streams())
def test_chunking_does_not_change_parsed_responses(case: tuple[list[Built], list[bytes]]) -> None:
    stream, chunks = case
    data = b"".join(chunks)
    limits = Limits()
    whole = frame_and_parse([data], limits)
    assert len(whole) == len(stream)
    assert frame_and_parse(chunks, limits) == whole


@FAST
@given(chunked_streams())
def test_chunking_does_not_change_parsed_responses_at_the_limits(
    case: tuple[list[Built], list[bytes]],
) -> None:
    # The stream fits the tightest limits when fed whole; it must fit them however it is
    # chunked (a limit is a property of the responses, not of how TCP delivered them).
    stream, chunks = case
    limits = tight_limits(stream)
    whole = frame_and_parse([b"".join(chunks)], limits)
    assert len(whole) == len(stream)
    assert frame_and_parse(chunks, limits) == whole


def test_line_of_exactly_max_line_length_split_between_cr_and_lf() -> None:
    # The minimal case of the property above: a 10-byte line, limit 10, CR and LF in
    # different reads.
    limits = Limits(max_line_length=10)
    assert frame_and_parse([b"* OK 12345\r\n"], limits) == frame_and_parse(
        [b"* OK 12345\r", b"\n"], limits
    )


# --- encode / parse round trips ------------------------------------------------------------


def to_server_form(data: bytes) -> bytes:
    """Turn a client's non-synchronising literal announcements ``{n+}`` into the server
    form ``{n}`` (walking the data so that literal contents are left untouched)."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        lf = data.find(b"\n", pos)
        assert lf > 0
        line = data[pos : lf + 1]
        pos = lf + 1
        m = re.search(rb"(~?)\{(\d+)\+?\}\r\n\Z", line)
        if m is None:
            out += line
            continue
        out += line[: m.start()] + b"%s{%s}\r\n" % (m.group(1), m.group(2))
        size = int(m.group(2))
        out += data[pos : pos + size]
        pos += size
    return bytes(out)


def encoded_argument(arg: object, mode: LiteralMode = LiteralMode.LITERAL_PLUS) -> bytes:
    """The bytes of one encoded argument, in server form, without tag, name and CRLF."""
    segments = encode_command(b"A1", Command(b"X", [arg]), mode)  # type: ignore[list-item]
    if mode is LiteralMode.LITERAL_PLUS:
        assert len(segments) == 1
    data = to_server_form(b"".join(segments))
    assert data.startswith(b"A1 X ") and data.endswith(b"\r\n")
    return data[len(b"A1 X ") : -2]


def parse_stream(data: bytes) -> list[Response]:
    return frame_and_parse([data], Limits())


def parse_mailbox_name(encoded: bytes) -> bytes:
    (resp,) = parse_stream(b'* LIST () "/" ' + encoded + b"\r\n")
    assert isinstance(resp, UntaggedResponse) and isinstance(resp.data, MailboxList)
    return resp.data.name


_NO_NUL = st.binary(max_size=1500).map(lambda b: b.replace(b"\x00", b""))
_INTERESTING = st.sampled_from(
    [b"", b"NIL", b"nil", b"\\", b'"', b"{3}", b"{3}\r\n", b"a b", b"\r\n", b"]", b"x" * 1100]
)


@FAST
@given(st.one_of(_NO_NUL, _INTERESTING, st.text(max_size=50).map(lambda t: t.replace("\x00", ""))))
def test_astring_round_trip(value: bytes | str) -> None:
    expected = value.encode() if isinstance(value, str) else value
    for mode in (LiteralMode.LITERAL_PLUS, LiteralMode.SYNC):
        assert parse_mailbox_name(encoded_argument(value, mode)) == expected


_QUOTED_ONLY = st.binary(max_size=1023).map(
    lambda b: bytes(c for c in b if c not in (0, 10, 13) and c < 0x80)
)


@FAST
@given(_QUOTED_ONLY)
def test_quoted_round_trip(value: bytes) -> None:
    encoded = encoded_argument(Quoted(value))
    assert encoded.startswith(b'"') and encoded.endswith(b'"')
    assert b"\r" not in encoded and b"\n" not in encoded
    assert parse_mailbox_name(encoded) == value


@FAST
@given(st.binary(max_size=300))
def test_literal_round_trip(value: bytes) -> None:
    value = value.replace(b"\x00", b"")
    encoded = encoded_argument(Literal(value))
    assert encoded.startswith(b"{%d}\r\n" % len(value))
    assert parse_mailbox_name(encoded) == value


_ITEM = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=2**63 - 1),
    st.binary(max_size=40).map(lambda b: b.replace(b"\x00", b"")),
    _INTERESTING,
)
_TREE = st.recursive(
    st.lists(_ITEM, max_size=5),
    lambda children: st.lists(st.one_of(_ITEM, children), max_size=5),
    max_leaves=25,
)


def to_arglist(tree: list[object]) -> ArgList:
    return ArgList([to_arglist(x) if isinstance(x, list) else x for x in tree])  # type: ignore[misc]


def expected_generic(tree: object) -> object:
    """What the parser's generic value reader makes of a value we sent: lists become
    tuples, NIL None, and a string that went out as a bare all-digit atom reads back as
    a number (the generic reader cannot know it was a string)."""
    if isinstance(tree, list):
        return tuple(expected_generic(x) for x in tree)
    if isinstance(tree, bytes) and re.fullmatch(rb"-?\d+", tree):
        return int(tree)
    return tree


@FAST
@given(_TREE)
def test_arglist_round_trip_through_generic_values(tree: list[object]) -> None:
    encoded = encoded_argument(to_arglist(tree))
    (resp,) = parse_stream(b"* 1 FETCH (X-TEST " + encoded + b")\r\n")
    assert isinstance(resp, UntaggedResponse)
    assert resp.data == {b"X-TEST": expected_generic(tree)}


# --- hostile input: Framer + Parser ----------------------------------------------------------

SMALL = Limits(max_line_length=200, max_literal_size=64, max_response_size=600, max_depth=8)

_PREFIXES = [
    b"* 1 FETCH (",
    b"* OK [",
    b"A1 OK [",
    b"* LIST (",
    b"* STATUS INBOX (",
    b"* SEARCH ",
    b"* ESEARCH ",
    b"* VANISHED ",
    b"* NAMESPACE ",
    b"* QUOTA r (",
    b"* ID (",
    b"* THREAD ",
    b"+ ",
    b"* ",
    b"* BYE ",
    b"* CAPABILITY ",
    b"* 3 ",
    b"A1 ",
    b"",
    b"* ACL ",
    b"* METADATA ",
    b"* SORT ",
    b"* FLAGS (",
    b"* MYRIGHTS ",
    b"* ENABLED ",
    b"* 2 EXPUNGE",
]
_NAMES = (
    b"UID RFC822.SIZE BODY[] BODY[1]<0> BINARY[] BINARY.SIZE[1] BODYSTRUCTURE BODY ENVELOPE"
    b" FLAGS INTERNALDATE MODSEQ X-GM-LABELS EMAILID UIDNEXT UIDVALIDITY COPYUID APPENDUID"
    b" PERMANENTFLAGS HIGHESTMODSEQ MESSAGES ALL MIN PARTIAL BADCHARSET CAPABILITY MODIFIED"
    b" TAG X-GM-MSGID RFC822"
).split()
_NUMBERS = [b"1", b"0", b"-1", b"1e999", b"1.5E3", b"4294967296", b"9" * 30, b"-0"]
_STRINGS = [
    b"NIL",
    b'"x"',
    b'"a\\"b"',
    b"{3}\r\nabc",
    b"~{2}\r\n\x00\x01",
    b'"01-Jan-2020 00:00:00 +0000"',
    b'"31-Feb-2020 99:99:99 +9999"',
    b"{0}\r\n",
    b'""',
]
_LISTS = [
    b"()",
    b"(1 2)",
    b"(\\Seen)",
    b"((1 2)(3))",
    b'("a" "b" NIL NIL)',
    b"(NIL NIL NIL NIL)",
    b"(EARLIER)",
    b"(-1:5 1:2)",
    b'(TAG "A1")',
    b'("TEXT" "PLAIN" NIL NIL NIL "7BIT" -1 3)',
    b"((NIL NIL) (NIL NIL))",
    b"(1e999)",
    b"(((((((((())))))))))",
]
_JUNK = [b"]", b"[", b"(", b")", b'"', b"{", b"{99}", b"\\", b"1:*", b"1:5,7", b"*"]
_VALUE = st.one_of(
    st.sampled_from(_NUMBERS),
    st.sampled_from(_STRINGS),
    st.sampled_from(_LISTS),
    st.sampled_from(_JUNK),
    st.binary(max_size=6),
)
_SUFFIXES = [b")", b"]", b"] text", b"))", b"", b" ", b"] ", b")]"]
_ENDS = [b"\r\n", b"\n", b"\r", b"", b"\r\n\r\n"]


@st.composite
def near_grammar(draw: st.DrawFn) -> bytes:
    out = bytearray()
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        if draw(st.booleans()):
            # Well framed FETCH or status response with a code: hostile values inside.
            item = draw(st.sampled_from(_NAMES)) + b" " + draw(_VALUE)
            if draw(st.booleans()):
                out += b"* 1 FETCH (" + item + b")\r\n"
            else:
                out += b"* OK [" + item + b"] text\r\n"
            continue
        out += draw(st.sampled_from(_PREFIXES))
        items = []
        for _ in range(draw(st.integers(min_value=0, max_value=4))):
            value = draw(_VALUE)
            if draw(st.booleans()):
                items.append(draw(st.sampled_from(_NAMES)) + b" " + value)
            else:
                items.append(value)
        out += b" ".join(items)
        out += draw(st.sampled_from(_SUFFIXES))
        out += draw(st.sampled_from(_ENDS))
    return bytes(out)


@st.composite
def hostile_chunks(draw: st.DrawFn) -> list[bytes]:
    data = draw(
        st.one_of(
            st.binary(max_size=400),
            near_grammar(),
            st.lists(
                st.sampled_from([b"{", b"}", b"~", b"5", b"0", b"\r", b"\n", b"x", b" "]),
                max_size=120,
            ).map(b"".join),
        )
    )
    return chunks_of(data, split_points(draw, len(data)))


def feed_framer_and_parser(chunks: list[bytes], limits: Limits) -> None:
    framer = Framer(limits)
    parser = Parser(limits)
    total = sum(len(c) for c in chunks)
    produced = 0
    saw_brace = False
    try:
        for chunk in chunks:
            saw_brace = saw_brace or b"{" in chunk
            framer.feed(chunk)
            while (raw := framer.next_response()) is not None:
                produced += 1
                # Every response consumes at least its line end: no endless loop.
                assert produced <= total
                # The parser is stateless: a malformed response does not stop us from
                # checking the ones after it (the framer's errors do, below).
                try:
                    parser.parse(raw)
                except ProtocolError:
                    pass
            # Bound from framing.py: when next_response() returns None the buffer holds
            # only the current incomplete response. Without a literal announcement that
            # is one unfinished line, so at most max_line_length bytes (the check is
            # scan - line_start > max_line_length with line_start == 0); with literals it
            # is below the end of the pending literal or the scanned line, both of which
            # are checked against max_response_size.
            assert framer.buffered <= limits.max_response_size
            if not saw_brace:
                assert framer.buffered <= limits.max_line_length
    except ProtocolError:
        pass


HOSTILE = settings(
    max_examples=800,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@HOSTILE
@given(hostile_chunks())
def test_random_bytes_raise_only_protocol_errors(chunks: list[bytes]) -> None:
    feed_framer_and_parser(chunks, SMALL)


@pytest.mark.parametrize(
    "data",
    [
        b"* 1 FETCH (UID 1e999)\r\n",
        b"* 1 FETCH (MODSEQ (1E999))\r\n",
        b"* OK [HIGHESTMODSEQ 1e400] x\r\n",
        b"* 1 FETCH (RFC822.SIZE -1e999)\r\n",
    ],
)
def test_known_inputs_raise_only_protocol_errors(data: bytes) -> None:
    # Inputs of the property above, found while writing it: the NUMBER_NOTATION tolerance
    # turns "1e999" into float infinity and int() of that raises OverflowError.
    feed_framer_and_parser([data], SMALL)


def test_huge_digit_strings_raise_only_protocol_errors() -> None:
    # With default limits a line may hold more than 4300 digits, which int() refuses with
    # ValueError (Python's integer string conversion limit).
    for data in (
        b"* " + b"1" * 4301 + b" EXISTS\r\n",
        b"* 1 FETCH (UID " + b"1" * 4301 + b")\r\n",
        b"* SEARCH " + b"1" * 4301 + b"\r\n",
        b"* 1 FETCH (X (" + b"1" * 4301 + b"))\r\n",
    ):
        feed_framer_and_parser([data], Limits())


# --- hostile input: Session ----------------------------------------------------------------


def fresh_session() -> Session:
    s = Session()
    s.receive_data(b"* OK [CAPABILITY IMAP4rev1] ready\r\n")
    s.send(Command(b"NOOP"))
    s.send(Command(b"SEARCH", [Atom(b"ALL")]))
    s.send(Command(b"UID FETCH", [Atom(b"1:*"), ArgList([Atom(b"FLAGS")])]))
    s.send(Command(b"APPEND", [b"INBOX", Literal(b"hello")]))
    s.send(Command(b"NOOP"))
    s.data_to_send()
    return s


@HOSTILE
@given(hostile_chunks())
def test_random_bytes_to_a_session_raise_only_abort_errors(chunks: list[bytes]) -> None:
    s = fresh_session()
    try:
        for chunk in chunks:
            s.receive_data(chunk)
            s.data_to_send()
        s.receive_data(b"")
    except IMAPClientAbortError:
        assert s.closed
        for cmd in s.pending:
            assert cmd.done
