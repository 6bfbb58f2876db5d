"""Tests of the command encoder (src/imapclient/protocol/encoder.py).

The rules come from RFC 9051 section 4.3 (atom / quoted / literal), RFC 7888 (LITERAL+
and LITERAL-) and RFC 3516 (literal8 for BINARY). The injection tests use a small
server-side re-parser written here, independent of the library's own parser, that reads
the bytes the way a server would: line by line, following literal announcements.
"""

from __future__ import annotations

import re

import pytest

from imapclient.protocol.encoder import (
    ArgList,
    Atom,
    Command,
    Literal,
    LiteralMode,
    Quoted,
    encode_command,
    redacted,
)

SYNC = LiteralMode.SYNC
PLUS = LiteralMode.LITERAL_PLUS
MINUS = LiteralMode.LITERAL_MINUS
ALL_MODES = [SYNC, PLUS, MINUS]

# A literal announcement at the end of a line as a server reads it (RFC 9051 literal,
# RFC 7888 non-synchronising literal, RFC 3516 literal8).
_ANNOUNCEMENT = re.compile(rb"(~?)\{(\d+)(\+?)\}\Z")


def enc(*args: object, mode: LiteralMode = SYNC, name: bytes = b"X") -> list[bytes]:
    return encode_command(b"A1", Command(name, list(args)), mode)  # type: ignore[arg-type]


def one(*args: object, mode: LiteralMode = SYNC) -> bytes:
    """Encode a command that must fit in one segment and return it."""
    segments = enc(*args, mode=mode)
    assert len(segments) == 1, segments
    return segments[0]


# --- an independent server-side reader -------------------------------------------------


class ServerRead:
    """What a server reads from the concatenated segments: the command's lines (without
    their CRLF), the literals, and for each literal whether it was synchronising."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.literals: list[bytes] = []
        self.sync: list[bool] = []
        self.binary: list[bool] = []


def server_read(segments: list[bytes]) -> ServerRead:
    """Read exactly one command from ``segments`` as a (lenient) server would.

    A server ends a line at the first LF (lenient servers also accept a bare LF), so
    every line must end in CRLF and contain no other CR or LF. A line ending with a
    literal announcement is followed by that many octets of literal data, and then the
    command continues on the next line. Also checks the segment boundaries: each segment
    but the last ends right after a synchronising announcement, and no segment boundary
    falls anywhere else.
    """
    data = b"".join(segments)
    # Offsets where the client stops and waits for "+".
    boundaries = []
    pos = 0
    for seg in segments[:-1]:
        pos += len(seg)
        boundaries.append(pos)
    waits: list[int] = []

    out = ServerRead()
    pos = 0
    while True:
        lf = data.find(b"\n", pos)
        assert lf >= 0, f"command does not end in a line end: {data[pos:]!r}"
        line = data[pos:lf]
        assert line.endswith(b"\r"), f"line ends in a bare LF: {line!r}"
        line = line[:-1]
        assert b"\r" not in line, f"bare CR inside a command line: {line!r}"
        out.lines.append(line)
        pos = lf + 1
        m = _ANNOUNCEMENT.search(line)
        if m is None:
            break
        size = int(m.group(2))
        synchronising = m.group(3) == b""
        if synchronising:
            waits.append(pos)
        out.literals.append(data[pos : pos + size])
        out.sync.append(synchronising)
        out.binary.append(m.group(1) == b"~")
        assert pos + size <= len(data), "literal shorter than announced"
        pos += size
    assert pos == len(data), f"bytes after the end of the command: {data[pos:]!r}"
    assert waits == boundaries, "segments must split exactly after synchronising literals"
    return out


def decode_args(read: ServerRead) -> list[object]:
    """Decode the arguments of a command read by :func:`server_read` (tag and name
    removed): atoms and numbers as bytes, quoted strings unescaped, literals as their
    data, lists as Python lists, NIL as None."""
    # Rebuild a token stream in which literals are replaced by placeholders.
    text = bytearray()
    for i, line in enumerate(read.lines):
        text += line
        if i < len(read.literals):
            m = _ANNOUNCEMENT.search(bytes(text))
            assert m is not None
            del text[m.start() :]
            text += b"\x00L%d\x00" % i
    tokens = bytes(text)
    # Skip "A1 NAME".
    tag, _, rest = tokens.partition(b" ")
    assert tag == b"A1"
    _, _, rest = rest.partition(b" ")

    pos = 0

    def value() -> object:
        nonlocal pos
        c = rest[pos : pos + 1]
        if c == b"(":
            pos += 1
            items: list[object] = []
            while rest[pos : pos + 1] != b")":
                items.append(value())
                if rest[pos : pos + 1] == b" ":
                    pos += 1
            pos += 1
            return items
        if c == b'"':
            pos += 1
            buf = bytearray()
            while True:
                ch = rest[pos : pos + 1]
                assert ch, "unterminated quoted string"
                if ch == b"\\":
                    nxt = rest[pos + 1 : pos + 2]
                    assert nxt in (b'"', b"\\"), 'only \\" and \\\\ may be escaped'
                    buf += nxt
                    pos += 2
                elif ch == b'"':
                    pos += 1
                    return bytes(buf)
                else:
                    buf += ch
                    pos += 1
        if c == b"\x00":
            end = rest.index(b"\x00", pos + 1)
            index = int(rest[pos + 2 : end])
            pos = end + 1
            return read.literals[index]
        m = re.compile(rb"[^ ()]+").match(rest, pos)
        assert m is not None, rest[pos:]
        pos = m.end()
        return None if m.group() == b"NIL" else m.group()

    args = []
    while pos < len(rest):
        args.append(value())
        if rest[pos : pos + 1] == b" ":
            pos += 1
    return args


def roundtrip(value: bytes | str, mode: LiteralMode) -> bytes:
    segments = enc(value, mode=mode)
    (arg,) = decode_args(server_read(segments))
    assert isinstance(arg, bytes)
    return arg


# --- atoms, quoted strings, literals -----------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [b"INBOX", b"Sent", b"a.b-c_d", b"1:5,7", b"x]y", b"#news.comp", b"Name~1", b"a}"],
)
def test_atom_safe_strings_stay_atoms(value: bytes) -> None:
    assert one(value) == b"A1 X " + value + b"\r\n"
    assert one(value.decode()) == b"A1 X " + value + b"\r\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"two words", b'"two words"'),
        (b'say "hi"', b'"say \\"hi\\""'),
        (b"back\\slash", b'"back\\\\slash"'),
        (b"\\", b'"\\\\"'),
        (b'"', b'"\\""'),
        (b"", b'""'),
        (b"(paren", b'"(paren"'),
        (b"a{b", b'"a{b"'),
        (b"wild*", b'"wild*"'),
        (b"per%", b'"per%"'),
        (b"tab\there", b'"tab\there"'),
    ],
)
def test_strings_needing_quotes_are_quoted_and_escaped(value: bytes, expected: bytes) -> None:
    assert one(value) == b"A1 X " + expected + b"\r\n"
    assert roundtrip(value, SYNC) == value


@pytest.mark.parametrize("value", [b"NIL", b"nil", b"Nil", "NIL"])
def test_the_string_nil_is_quoted_not_sent_as_nil(value: bytes | str) -> None:
    out = one(value)
    assert out.lower() == b'a1 x "nil"\r\n'
    assert one(None) == b"A1 X NIL\r\n"


def test_empty_string_and_empty_quoted() -> None:
    assert one(b"") == b'A1 X ""\r\n'
    assert one("") == b'A1 X ""\r\n'
    assert one(Quoted(b"")) == b'A1 X ""\r\n'


def test_quoted_never_becomes_an_atom() -> None:
    assert one(Quoted(b"INBOX")) == b'A1 X "INBOX"\r\n'
    assert one(Quoted(b"NIL")) == b'A1 X "NIL"\r\n'


@pytest.mark.parametrize(
    "value",
    [b"caf\xc3\xa9", "Entw\u00fcrfe", b"\xff", b"a\rb", b"a\nb", b"a\r\nb", b"\r\n", b"\x80"],
)
@pytest.mark.parametrize("mode", ALL_MODES)
def test_8bit_cr_lf_force_a_literal(value: bytes | str, mode: LiteralMode) -> None:
    raw = value.encode() if isinstance(value, str) else value
    segments = enc(value, mode=mode)
    read = server_read(segments)
    assert read.literals == [raw]
    assert read.sync == [mode is SYNC]
    assert roundtrip(value, mode) == raw
    quoted = enc(Quoted(raw), mode=mode)
    assert server_read(quoted).literals == [raw]


@pytest.mark.parametrize(
    "arg",
    [
        b"a\x00b",
        "a\x00b",
        b"\x00",
        Quoted(b"\x00"),
        Quoted(b"x\x00"),
        Literal(b"message\x00body"),
        Literal(bytearray(b"\x00")),
        ArgList([b"ok", b"bad\x00"]),
        ArgList([Literal(b"\x00")]),
    ],
)
@pytest.mark.parametrize("mode", ALL_MODES)
def test_nul_is_refused(arg: object, mode: LiteralMode) -> None:
    with pytest.raises(ValueError):
        encode_command(b"A1", Command(b"X", [b"before", arg]), mode)  # type: ignore[list-item]


def test_nul_is_refused_even_after_a_synchronising_literal() -> None:
    # The first literal would already be a segment; nothing at all may be produced.
    with pytest.raises(ValueError):
        encode_command(b"A1", Command(b"X", [Literal(b"abc"), b"x\x00"]), SYNC)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_binary_literal_may_carry_nul(mode: LiteralMode) -> None:
    data = b"\x00\x01\xff\r\n\x00"
    segments = encode_command(
        b"A1", Command(b"APPEND", [b"INBOX", Literal(data, binary=True)]), mode
    )
    read = server_read(segments)
    assert read.literals == [data]
    assert read.binary == [True]
    if mode is SYNC:
        assert segments == [b"A1 APPEND INBOX ~{6}\r\n", data + b"\r\n"]
    else:
        assert segments == [b"A1 APPEND INBOX ~{6+}\r\n" + data + b"\r\n"]


def test_literal_is_always_a_literal() -> None:
    assert enc(Literal(b"abc")) == [b"A1 X {3}\r\n", b"abc\r\n"]
    assert enc(Literal(b"")) == [b"A1 X {0}\r\n", b"\r\n"]
    assert enc(Literal(memoryview(b"abc")), mode=PLUS) == [b"A1 X {3+}\r\nabc\r\n"]


# --- segments and literal modes -------------------------------------------------------


def test_sync_literals_split_segments() -> None:
    segments = enc(b"INBOX", Literal(b"hello"), b"x y", Literal(b"\r\n.\r\n"), 7)
    assert segments == [
        b"A1 X INBOX {5}\r\n",
        b'hello "x y" {5}\r\n',
        b"\r\n.\r\n 7\r\n",
    ]
    for seg in segments[:-1]:
        assert re.search(rb"\{\d+\}\r\n\Z", seg)
    assert segments[-1].endswith(b"\r\n")
    read = server_read(segments)
    assert read.literals == [b"hello", b"\r\n.\r\n"]
    assert read.sync == [True, True]


def test_no_literal_means_one_segment() -> None:
    assert enc(b"a", Quoted(b"b c"), 3, ArgList([b"x"])) == [b'A1 X a "b c" 3 (x)\r\n']


@pytest.mark.parametrize("size", [0, 1, 4096, 4097, 100_000])
def test_literal_plus_is_one_segment_for_any_size(size: int) -> None:
    data = b"x" * size
    segments = enc(Literal(data), Literal(b"\xff"), mode=PLUS)
    assert len(segments) == 1
    assert segments[0] == b"A1 X {%d+}\r\n" % size + data + b" {1+}\r\n\xff\r\n"
    read = server_read(segments)
    assert read.sync == [False, False]


def test_literal_minus_at_4096_is_non_synchronising() -> None:
    data = b"y" * 4096
    segments = enc(Literal(data), mode=MINUS)
    assert segments == [b"A1 X {4096+}\r\n" + data + b"\r\n"]


def test_literal_minus_at_4097_is_synchronising() -> None:
    data = b"y" * 4097
    segments = enc(Literal(data), mode=MINUS)
    assert segments == [b"A1 X {4097}\r\n", data + b"\r\n"]


def test_literal_minus_mixed_sizes() -> None:
    small, big = b"s" * 10, b"B" * 5000
    segments = enc(Literal(small), Literal(big), Literal(small), mode=MINUS)
    assert segments == [
        b"A1 X {10+}\r\n" + small + b" {5000}\r\n",
        big + b" {10+}\r\n" + small + b"\r\n",
    ]
    assert server_read(segments).sync == [False, True, False]


def test_string_that_needs_a_literal_follows_the_mode() -> None:
    big = b"\xc3\xa9" * 3000  # 6000 bytes of UTF-8
    assert len(enc(big, mode=MINUS)) == 2
    assert len(enc(big, mode=PLUS)) == 1
    assert len(enc(b"\xc3\xa9", mode=MINUS)) == 1


# --- Atom, ArgList, numbers -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"A\r",
        b"A\nB",
        b"\r\n",
        b"A\x00",
        b"\xff",
        b"caf\xc3\xa9",
        b" lead",
        b"trail ",
        b"a  b",
    ],
)
def test_atom_refuses_invalid_tokens(value: bytes) -> None:
    with pytest.raises(ValueError):
        Atom(value)


def test_atom_is_sent_verbatim() -> None:
    assert one(Atom(b"\\Seen"), Atom(b"BODY.PEEK[HEADER.FIELDS (FROM)]")) == (
        b"A1 X \\Seen BODY.PEEK[HEADER.FIELDS (FROM)]\r\n"
    )


@pytest.mark.parametrize("name", [b"", b"FETCH\r\nA2 LOGOUT", b"X\n", b"N\x00"])
def test_command_name_is_checked_like_an_atom(name: bytes) -> None:
    with pytest.raises(ValueError):
        encode_command(b"A1", Command(name), SYNC)


def test_arglist_nesting() -> None:
    args = ArgList([b"a", ArgList([1, None, ArgList([])]), Quoted(b"q r"), Atom(b"\\Flag")])
    assert one(args) == b'A1 X (a (1 NIL ()) "q r" \\Flag)\r\n'
    assert decode_args(server_read(enc(args))) == [[b"a", [b"1", None, []], b"q r", b"\\Flag"]]


def test_arglist_with_literal_splits_inside_the_list() -> None:
    segments = enc(ArgList([b"a", Literal(b"xyz"), b"b"]))
    assert segments == [b"A1 X (a {3}\r\n", b"xyz b)\r\n"]


def test_empty_arglist() -> None:
    assert one(ArgList([])) == b"A1 X ()\r\n"


@pytest.mark.parametrize(("n", "text"), [(0, b"0"), (1, b"1"), (4294967295, b"4294967295")])
def test_ints(n: int, text: bytes) -> None:
    assert one(n) == b"A1 X " + text + b"\r\n"


def test_number_beyond_number64_raises() -> None:
    # RFC 9051 section 9: number64 is at most 2^63 - 1; anything larger is invalid
    # syntax, and the client must never send invalid syntax (DESIGN.md).
    assert one(2**63 - 1) == b"A1 X 9223372036854775807\r\n"
    with pytest.raises(ValueError):
        enc(2**63)
    with pytest.raises(ValueError):
        enc(10**30)


def test_negative_int_raises() -> None:
    with pytest.raises(ValueError):
        enc(-1)
    with pytest.raises(ValueError):
        enc(ArgList([1, -5]))


@pytest.mark.parametrize("value", [True, False])
def test_bool_raises(value: bool) -> None:
    with pytest.raises(TypeError):
        enc(value)


@pytest.mark.parametrize("value", [1.5, object(), [b"a"], {b"a": 1}])
def test_other_types_raise(value: object) -> None:
    with pytest.raises(TypeError):
        enc(value)


# --- injection ----------------------------------------------------------------------------

HOSTILE = [
    "x\r\nA2 LOGOUT",
    "x\r\nA2 LOGOUT\r\n",
    'INBOX" LOGOUT',
    'INBOX"\r\nA2 LOGOUT',
    "\\",
    '\\"',
    "a\rb",
    "a\nb",
    "\r",
    "\n",
    "\n\n\n",
    "{5}\r\n",
    "x {5}",
    "x {5+}",
    "x ~{5}",
    "}\r\n",
    " ",
    ")",
    "(",
    "x" * 1023,
    "x" * 1024,
    "y " * 5000,
    "\r\n" * 3000,
    "A" * 70000,
    "\u00e9\r\n\u00e9",
]


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v)[:30])
@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize("wrap", ["plain", "quoted", "list", "bytes"])
def test_hostile_values_cannot_inject_a_command(value: str, mode: LiteralMode, wrap: str) -> None:
    raw = value.encode()
    arg: object
    if wrap == "plain":
        arg = value
    elif wrap == "bytes":
        arg = raw
    elif wrap == "quoted":
        arg = Quoted(raw)
    else:
        arg = ArgList([raw, b"tail"])
    segments = encode_command(b"A1", Command(b"SELECT", [arg, b"after"]), mode)  # type: ignore[list-item]
    read = server_read(segments)
    # The server read exactly one command: one line more than there are literals, the
    # first line starts with the tag and name, and the value came back unchanged.
    assert len(read.lines) == len(read.literals) + 1
    assert read.lines[0].startswith(b"A1 SELECT ")
    args = decode_args(read)
    expected = [raw, b"tail"] if wrap == "list" else raw
    assert args == [expected, b"after"]
    pieces = line_parts(segments)
    assert len(pieces) == len(segments)
    text_len = sum(len(piece) for seg_pieces in pieces for piece in seg_pieces)
    assert text_len + sum(len(lit) for lit in read.literals) == len(b"".join(segments))
    for i, seg_pieces in enumerate(pieces):
        for j, piece in enumerate(seg_pieces):
            assert piece.endswith(b"\r\n"), f"segment {i} ends inside a line: {piece!r}"
            body = piece[:-2]
            assert b"\r" not in body and b"\n" not in body, f"line break inside {body!r}"
            last = i == len(pieces) - 1 and j == len(seg_pieces) - 1
            if not last:
                assert _ANNOUNCEMENT.search(body), f"a line ended early: {body!r}"


def line_parts(segments: list[bytes]) -> list[list[bytes]]:
    """Split each segment at literal boundaries into the line parts a server reads as
    command text (literal data removed), each with the line end that closes it. Literal
    data may start at the beginning of a segment (after a synchronising announcement)."""
    result: list[list[bytes]] = []
    skip = 0  # literal bytes still to pass over
    for seg in segments:
        parts: list[bytes] = []
        pos = min(skip, len(seg))
        skip -= pos
        while pos < len(seg):
            lf = seg.find(b"\n", pos)
            end = len(seg) if lf < 0 else lf + 1
            piece = seg[pos:end]
            parts.append(piece)
            pos = end
            m = _ANNOUNCEMENT.search(piece[:-2]) if piece.endswith(b"\r\n") else None
            if m is not None:
                size = int(m.group(2))
                taken = min(size, len(seg) - pos)
                pos += taken
                skip = size - taken
        result.append(parts)
    assert skip == 0
    return result


# --- redacted() ---------------------------------------------------------------------------


def test_redacted_hides_every_argument_of_a_sensitive_command() -> None:
    cmd = Command(b"LOGIN", [b"alice", Quoted(b"s3cret pass")], sensitive=True)
    out = redacted(b"A7", cmd)
    assert out.startswith(b"A7 LOGIN")
    assert b"**REDACTED**" in out
    assert b"alice" not in out and b"s3cret" not in out and b"pass" not in out


def test_redacted_hides_literal_secrets_of_a_sensitive_command() -> None:
    cmd = Command(b"AUTHENTICATE", [Atom(b"PLAIN"), Literal(b"AGFsaWNlAHMzY3JldA==")], True)
    out = redacted(b"A1", cmd)
    assert b"AGFsaWNl" not in out
    assert b"PLAIN" not in out
    assert b"\r" not in out and b"\n" not in out


def test_redacted_shows_ordinary_arguments() -> None:
    cmd = Command(b"SELECT", [b"INBOX", Quoted(b"a b"), 5, None, ArgList([Atom(b"\\Seen")])])
    assert redacted(b"A2", cmd) == b'A2 SELECT INBOX "a b" 5 NIL (\\Seen)'


def test_redacted_shows_literals_by_size() -> None:
    body = b"From: x\r\n\r\nsecret body text"
    cmd = Command(
        b"APPEND",
        [b"INBOX", ArgList([Atom(b"\\Seen")]), Literal(body), Literal(b"\x00\x01", binary=True)],
    )
    out = redacted(b"A3", cmd)
    assert b"secret" not in out
    assert b"%d" % len(body) in out
    assert out.startswith(b"A3 APPEND INBOX (\\Seen) ")
    assert b"\r" not in out and b"\n" not in out and b"\x00" not in out


@pytest.mark.parametrize(
    "value", [b"line1\r\nline2", b"caf\xc3\xa9", b"z " * 2500], ids=["crlf", "8bit", "long"]
)
def test_redacted_shows_strings_sent_as_literals_by_size(value: bytes) -> None:
    out = redacted(b"A4", Command(b"SEARCH", [Atom(b"TEXT"), value, ArgList([value])]))
    assert value not in out
    assert out.count(b"%d" % len(value)) == 2
    assert b"\r" not in out and b"\n" not in out


def test_redacted_of_invalid_argument_does_not_raise() -> None:
    out = redacted(b"A5", Command(b"X", [b"a\x00b"]))
    assert b"\x00" not in out
