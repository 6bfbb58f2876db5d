"""The compiled FETCH fast paths (protocol/fastfetch.py) against the general parser.

The general parser is the reference: for every FETCH response the compiled reader of
its shape accepts, both must give equal values of the same types, all the way down; and
whatever the compiled reader declines must still parse (or fail) exactly as before.
"""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imapclient.datetime_util import datetime_to_native
from imapclient.exceptions import LimitExceededError, ProtocolError
from imapclient.protocol import fastfetch
from imapclient.protocol.encoder import Atom, Command
from imapclient.protocol.framing import Framer
from imapclient.protocol.limits import DEFAULT_LIMITS, Limits
from imapclient.protocol.parser import Parser, _Cursor
from imapclient.protocol.responses import UntaggedResponse
from imapclient.protocol.session import PendingCommand, Session
from imapclient.protocol.tolerances import DEFAULT_TOLERANCES, Tolerance
from imapclient.response_types import Address, BodyData, Envelope

FAST = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def general(data: bytes, tolerances: Tolerance = DEFAULT_TOLERANCES) -> Any:
    return _Cursor(data, DEFAULT_LIMITS, tolerances).response()


def fast(data: bytes, max_depth: int = 100) -> tuple[int, dict[bytes, Any]] | None:
    """The compiled reader of ``data``'s own shape (learnt from the general parser)."""
    reference = general(data)
    shape = fastfetch.shape_for(tuple(reference.data))
    assert shape is not None, "no compiled shape for these items"
    return shape.read(data, max_depth)


def same(a: Any, b: Any) -> bool:
    """Equal values of identical types, recursively (so 1 != True, b'' != None ...)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, datetime):
        return a == b and a.utcoffset() == b.utcoffset()
    return bool(a == b)


def assert_agrees(data: bytes) -> bool:
    """The fast reader gives what the general parser gives; returns whether it accepted."""
    reference = general(data)
    got = fast(data)
    if got is None:
        return False
    number, items = got
    assert number == reference.number
    assert same(dict(items), dict(reference.data)), (items, reference.data)
    return True


# --- captured responses -----------------------------------------------------------------

DOVECOT_META = (
    b"* 2 FETCH (UID 2 FLAGS (\\Answered \\Seen \\Recent) INTERNALDATE "
    b'"01-Jan-2023 14:39:00 +0000" RFC822.SIZE 2977)'
)
DOVECOT_ENVELOPE = (
    b'* 1 FETCH (UID 1 ENVELOPE ("Sun, 01 Jan 2023 07:26:41 +0530" '
    b'"=?utf-8?q?=F0=9F=8E=89_Party_on_Saturday!?=" (("Trent Nowak" NIL "trent.nowak61" '
    b'"example.org")) (("Trent Nowak" NIL "trent.nowak61" "example.org")) (("Trent Nowak" '
    b'NIL "trent.nowak61" "example.org")) (("Alice" NIL "alice" "example.org")("Judy Nowak" '
    b'NIL "judy.nowak21" "example.net")) NIL NIL "<0.dd793279@example.org>" '
    b'"<0.357a6fda@example.org>") BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") '
    b'NIL NIL "7bit" 1921 32 NIL NIL NIL NIL)("text" "html" ("charset" "us-ascii") NIL NIL '
    b'"7bit" 2503 36 NIL NIL NIL NIL) "alternative" ("boundary" "=_0_9bd2967026bd") NIL NIL '
    b"NIL))"
)
DOVECOT_FORWARD = (
    b'* 15 FETCH (UID 15 ENVELOPE ("Mon, 02 Jan 2023 23:21:13 +0200" "Fwd: notice" '
    b'(("Carol Walsh" NIL "carol.walsh87" "news.example")) (("Carol Walsh" NIL '
    b'"carol.walsh87" "news.example")) (("Carol Walsh" NIL "carol.walsh87" "news.example")) '
    b'(("Alice" NIL "alice" "example.org")) NIL NIL NIL "<14.7cc2b68e@news.example>") '
    b'BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 572 9 NIL NIL '
    b'NIL NIL)("message" "rfc822" NIL NIL NIL "7bit" 887 ("Sun, 01 Jan 2023 20:36:38 +0000" '
    b'"Password expiry notice" (("=?utf-8?q?=C3=85sa?=" NIL "sa" "example.org")) '
    b'(("=?utf-8?q?=C3=85sa?=" NIL "sa" "example.org")) (("=?utf-8?q?=C3=85sa?=" NIL "sa" '
    b'"example.org")) (("Alice" NIL "alice" "example.org")) NIL NIL NIL "<fwd.14@example.net>")'
    b' ("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 568 10 NIL NIL NIL NIL)'
    b' 19 NIL ("inline" NIL) NIL NIL) "mixed" ("boundary" "=_14_2244eb13e939") NIL NIL NIL))'
)
# RFC 3501's own example (section 8), upper-case types, no extension data.
RFC_EXAMPLE = (
    b'* 12 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" '
    b'RFC822.SIZE 4286 ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" '
    b'"IMAP4rev1 WG mtg summary and minutes" (("Terry Gray" NIL "gray" '
    b'"cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) '
    b'(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" '
    b'"cac.washington.edu")) ((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL '
    b'"KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>") '
    b'BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))'
)
GMAIL = (
    b"* 7 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID 1278455344230334865 UID 7 "
    b"MODSEQ (12345) FLAGS (\\Seen $Forwarded) RFC822.SIZE 1234)"
)
NESTED = (
    b'* 3 FETCH (UID 3 BODYSTRUCTURE ((("text" "plain" ("charset" "utf-8") NIL NIL '
    b'"quoted-printable" 10 1 NIL NIL NIL NIL)("text" "html" ("charset" "utf-8") NIL NIL '
    b'"quoted-printable" 20 2 NIL NIL NIL NIL) "alternative" ("boundary" "b2") NIL NIL NIL)'
    b'("application" "pdf" ("name" "a \\"quoted\\" name.pdf") "<id@x>" "desc" "base64" 4554 '
    b'"md5sum" ("attachment" ("filename" "a.pdf" "size" "4554")) ("en" "de") "http://x/y")'
    b' "mixed" ("boundary" "b1") ("inline" NIL) "en" NIL))'
)


@pytest.mark.parametrize(
    "data",
    [DOVECOT_META, DOVECOT_ENVELOPE, DOVECOT_FORWARD, RFC_EXAMPLE, GMAIL, NESTED],
    ids=["dovecot-meta", "dovecot-envelope", "forwarded-message", "rfc3501", "gmail", "nested"],
)
def test_captured_responses_take_the_fast_path_and_agree(data: bytes) -> None:
    assert assert_agrees(data)


def test_parser_uses_the_learnt_shape_for_the_next_responses() -> None:
    parser = Parser()
    first = parser.parse(DOVECOT_META)
    second = parser.parse(DOVECOT_META.replace(b"* 2 FETCH (UID 2", b"* 3 FETCH (UID 3"))
    assert parser._hits == 1 and parser._misses == 0
    assert isinstance(second, UntaggedResponse) and second.number == 3
    assert second.data[b"UID"] == 3
    assert same(dict(second.data), {**dict(first.data), b"UID": 3})


def test_known_values() -> None:
    number, items = fast(RFC_EXAMPLE)  # type: ignore[misc]
    assert number == 12
    assert items[b"FLAGS"] == (b"\\Seen",)
    assert items[b"RFC822.SIZE"] == 4286
    assert items[b"INTERNALDATE"] == datetime(1996, 7, 17, 9, 44, 25, tzinfo=timezone.utc)
    envelope = items[b"ENVELOPE"]
    assert isinstance(envelope, Envelope)
    assert envelope.subject == b"IMAP4rev1 WG mtg summary and minutes"
    assert envelope.to == (Address(None, None, b"imap", b"cac.washington.edu"),)
    assert envelope.cc[1] == Address(b"John Klensin", None, b"KLENSIN", b"MIT.EDU")
    assert envelope.date == datetime(1996, 7, 17, 9, 23, 25, tzinfo=timezone.utc)
    body = items[b"BODY"]
    assert isinstance(body, BodyData) and not body.is_multipart
    assert body == (b"TEXT", b"PLAIN", (b"CHARSET", b"US-ASCII"), None, None, b"7BIT", 3028, 92)
    number, items = fast(NESTED)  # type: ignore[misc]
    structure = items[b"BODYSTRUCTURE"]
    assert structure.is_multipart and structure[0][0].is_multipart
    assert structure[0][1][2] == (b"name", b'a "quoted" name.pdf')
    assert structure[0][1][8] == (b"attachment", (b"filename", b"a.pdf", b"size", b"4554"))
    assert structure[1:] == (b"mixed", (b"boundary", b"b1"), (b"inline", None), b"en", None)


# --- what the fast path declines (and the general parser still decides) -----------------

DECLINED = {
    "literal subject": (
        RFC_EXAMPLE,
        b'"IMAP4rev1 WG mtg summary and minutes"',
        b"{36}\r\nIMAP4rev1 WG mtg summary and minutes",
    ),
    "lower-case nil": (RFC_EXAMPLE, b'((NIL NIL "imap"', b'((nil NIL "imap"'),
    "atom for a string": (RFC_EXAMPLE, b'"7BIT"', b"7BIT"),
    "space between parts": (NESTED, b'NIL)("application"', b'NIL) ("application"'),
    "text without lines": (NESTED, b'"quoted-printable" 10 1 NIL', b'"quoted-printable" 10 NIL'),
    "31 February": (DOVECOT_META, b"01-Jan-2023", b"31-Feb-2023"),
    "unknown month": (DOVECOT_META, b"01-Jan-2023", b"01-Foo-2023"),
    "odd envelope date": (
        RFC_EXAMPLE,
        b"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)",
        b"17 Jul 96 2:23 PDT",
    ),
    "impossible zone": (RFC_EXAMPLE, b"02:23:25 -0700 (PDT)", b"02:23:25 -0790"),
    "extra body extension": (NESTED, b'"en" NIL))', b'"en" NIL 42))'),
    "bracket in flag": (DOVECOT_META, b"\\Recent)", b"\\Recent [x])"),
    "trailing space": (DOVECOT_META, b"2977)", b"2977) "),
    "message without envelope": (DOVECOT_FORWARD, b'"7bit" 887 (', b'"7bit" 887 NIL NIL ('),
    "items in another order": (DOVECOT_META, b"UID 2 FLAGS", b"FLAGS (\\Seen) UID 2 FLAGS"),
    "percent in flag": (DOVECOT_META, b"\\Recent)", b"\\Recent 50%)"),
    "two spaces between flags": (DOVECOT_META, b"\\Seen \\Recent", b"\\Seen  \\Recent"),
    "space before the flags": (DOVECOT_META, b"(\\Answered", b"( \\Answered"),
    "backslash alone": (DOVECOT_META, b"\\Recent)", b"\\)"),
    "8-bit flag": (DOVECOT_META, b"\\Recent)", b"caf\xc3\xa9)"),
}


@pytest.mark.parametrize("name", sorted(DECLINED))
def test_declined_responses_fall_back_to_the_general_parser(name: str) -> None:
    base, old, new = DECLINED[name]
    assert old in base
    data = base.replace(old, new)
    shape = fastfetch.shape_for(tuple(general(base).data))
    assert shape is not None
    assert shape.read(data, 100) is None, f"the fast path accepted {data!r}"
    # A Parser holding that shape gives the general parser's answer, or its error.
    parser = Parser()
    parser._shape = shape
    try:
        reference = general(data)
    except ProtocolError as exc:
        with pytest.raises(type(exc)):
            parser.parse(data)
    else:
        assert same(parser.parse(data), reference)


def test_depth_limit_is_the_general_parsers() -> None:
    # With a small max_depth the general parser refuses NESTED: so must the Parser
    # holding a compiled shape, and the shape itself must decline.
    shape = fastfetch.shape_for((b"UID", b"BODYSTRUCTURE"))
    assert shape is not None
    refused = 0
    for depth in range(1, 8):
        limits = Limits(max_depth=depth)
        try:
            _Cursor(NESTED, limits, DEFAULT_TOLERANCES).response()
        except LimitExceededError:
            refused += 1
            assert shape.read(NESTED, depth) is None
            parser = Parser(limits)
            parser._shape = shape
            with pytest.raises(LimitExceededError):
                parser.parse(NESTED)
        else:  # near the limit the fast path may decline; if it reads, it agrees
            got = shape.read(NESTED, depth)
            assert got is None or same(dict(got[1]), dict(general(NESTED).data))
    assert refused >= 3
    assert shape.read(NESTED, 8) is not None


def test_a_shape_that_keeps_declining_is_dropped() -> None:
    parser = Parser()
    declined = DOVECOT_META.replace(b"01-Jan-2023", b"31-Feb-2023")
    for _ in range(200):
        parser.parse(declined)
    assert parser._shape is None  # given up: no more double parsing
    assert (b"UID", b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE") in parser._rejected
    parser.parse(RFC_EXAMPLE)  # other items: a new shape is learnt
    assert parser._shape is not None


# --- generated responses ----------------------------------------------------------------

_TEXT = st.binary(min_size=0, max_size=12).filter(lambda b: b"\r" not in b and b"\n" not in b)
_WORDS = st.sampled_from(
    [
        b"",
        b"a",
        b'Re: "x"',
        b"back\\slash",
        b"(paren)",
        b"caf\xc3\xa9",
        b"NIL",
        b"{3}",
        b"  spaces  ",
        b"\x01ctl",
    ]
)


class Wire:
    """Renders values as a server would, noting what the fast path must decline."""

    def __init__(self) -> None:
        self.declines = False

    def q(self, text: bytes, literal: bool = False) -> bytes:
        if literal:
            self.declines = True
            return b"{%d}\r\n%s" % (len(text), text)
        return b'"' + text.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'

    def nq(self, value: bytes | None, literal: bool = False) -> bytes:
        return b"NIL" if value is None else self.q(value, literal)

    def params(self, pairs: list[tuple[bytes, bytes]] | None) -> bytes:
        if pairs is None:
            return b"NIL"
        return b"(" + b" ".join(self.q(k) + b" " + self.q(v) for k, v in pairs) + b")"


@st.composite
def nstrings(draw: Any) -> bytes | None:
    return draw(st.none() | _WORDS | _TEXT)


@st.composite
def envelopes(draw: Any, wire: Wire) -> bytes:
    date = draw(
        st.sampled_from(
            [
                b"Sun, 01 Jan 2023 07:26:41 +0530",
                b"1 Feb 2024 23:59:60 -0000",
                b"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)",
                b"Mon, 31 Dec 2001 00:00:00 +2359",
            ]
        )
        | st.none()
    )
    if draw(st.booleans()) and date is not None:
        wire.declines = True
        date = draw(
            st.sampled_from([b"17 Jul 96 2:23 PDT", b"garbage", b"", b"31 Feb 2023 10:00:00 +0000"])
        )

    def addresses() -> bytes:
        found = draw(
            st.lists(st.tuples(nstrings(), nstrings(), nstrings(), nstrings()), max_size=3)
        )
        if not found:
            return b"NIL"
        return b"(" + b"".join(b"(" + b" ".join(wire.nq(p) for p in a) + b")" for a in found) + b")"

    subject = draw(nstrings())
    literal = subject is not None and draw(st.integers(0, 9)) == 0
    fields = [wire.nq(date), wire.nq(subject, literal)]
    first = addresses()
    fields += [first, first if draw(st.booleans()) else addresses()]
    fields += [addresses() for _ in range(4)]
    fields += [wire.nq(draw(nstrings())), wire.nq(draw(nstrings()))]
    return b"(" + b" ".join(fields) + b")"


@st.composite
def extensions(draw: Any, wire: Wire, first: bytes) -> bytes:
    count = draw(st.integers(0, 4))
    if count == 0:
        return b""
    out = [first]
    if count > 1:
        dsp = draw(
            st.none()
            | st.tuples(
                _WORDS, st.none() | st.lists(st.tuples(_WORDS, _WORDS), min_size=1, max_size=2)
            )
        )
        out.append(
            b"NIL" if dsp is None else b"(" + wire.q(dsp[0]) + b" " + wire.params(dsp[1]) + b")"
        )
    if count > 2:
        lang = draw(st.none() | _WORDS | st.lists(_WORDS, min_size=1, max_size=3))
        out.append(
            wire.nq(lang)
            if not isinstance(lang, list)
            else b"(" + b" ".join(wire.q(x) for x in lang) + b")"
        )
    if count > 3:
        out.append(wire.nq(draw(nstrings())))
    return b" " + b" ".join(out)


@st.composite
def bodies(draw: Any, wire: Wire, depth: int = 0) -> bytes:
    kind = draw(
        st.sampled_from(
            ["text", "basic", "multipart", "message"] if depth < 3 else ["text", "basic"]
        )
    )
    params = draw(st.none() | st.lists(st.tuples(_WORDS, _WORDS), min_size=1, max_size=3))
    if kind == "multipart":
        parts = b"".join(draw(bodies(wire, depth + 1)) for _ in range(draw(st.integers(1, 3))))
        return (
            b"("
            + parts
            + b" "
            + wire.q(draw(_WORDS))
            + draw(extensions(wire, wire.params(params)))
            + b")"
        )
    head = {
        "text": [wire.q(draw(st.sampled_from([b"text", b"TEXT", b"Text"]))), wire.q(b"plain")],
        "basic": [
            wire.q(draw(st.sampled_from([b"application", b"image", b"message"]))),
            wire.q(b"pdf"),
        ],
        "message": [
            wire.q(draw(st.sampled_from([b"message", b"MESSAGE"]))),
            wire.q(draw(st.sampled_from([b"rfc822", b"global"]))),
        ],
    }[kind]
    head += [
        wire.params(params),
        wire.nq(draw(nstrings())),
        wire.nq(draw(nstrings())),
        wire.q(b"7bit"),
        b"%d" % draw(st.integers(0, 10**12)),
    ]
    if kind == "message":
        head += [
            draw(envelopes(wire)),
            draw(bodies(wire, depth + 1)),
            b"%d" % draw(st.integers(0, 99)),
        ]
    elif kind == "text":
        head.append(b"%d" % draw(st.integers(0, 99)))
    md5 = wire.nq(draw(nstrings()))
    return b"(" + b" ".join(head) + draw(extensions(wire, md5)) + b")"


@FAST
@given(st.data())
def test_generated_responses_agree_with_the_general_parser(data: Any) -> None:
    wire = Wire()
    items = [b"UID %d" % data.draw(st.integers(1, 2**32 - 1))]
    if data.draw(st.booleans()):
        flags = data.draw(
            st.lists(
                st.sampled_from([b"\\Seen", b"\\Answered", b"$Label1", b"\\*", b"x.y-z"]),
                max_size=4,
            )
        )
        items.append(b"FLAGS (" + b" ".join(flags) + b")")
    if data.draw(st.booleans()):
        items.append(
            b'INTERNALDATE "%s"'
            % data.draw(
                st.sampled_from(
                    [
                        b"17-Jul-1996 02:44:25 -0700",
                        b" 1-Jan-2023 00:00:00 +0000",
                        b"29-Feb-2024 23:59:59 +1400",
                    ]
                )
            )
        )
    if data.draw(st.booleans()):
        items.append(b"ENVELOPE " + data.draw(envelopes(wire)))
    items.append(
        data.draw(st.sampled_from([b"BODYSTRUCTURE ", b"BODY "])) + data.draw(bodies(wire))
    )
    if data.draw(st.booleans()):
        items.append(b"MODSEQ (%d)" % data.draw(st.integers(0, 2**63 - 1)))
    order = data.draw(st.permutations(items))
    response = b"* %d FETCH (" % data.draw(st.integers(1, 10**6)) + b" ".join(order) + b")"
    accepted = assert_agrees(response)
    if not wire.declines:
        assert accepted, f"a canonical response was declined: {response!r}"


# --- a listing through the session: lines read straight from the framer's buffer ----------


def listing(count: int) -> list[bytes]:
    return [
        b'* %d FETCH (UID %d FLAGS (\\Seen) INTERNALDATE "0%d-Jan-2023 14:39:00 +0000" '
        b"RFC822.SIZE %d)" % (n, n + 100, 1 + n % 9, 1000 + n)
        for n in range(1, count + 1)
    ]


def run_listing(
    wire: bytes, cuts: list[int], local_times: bool = False
) -> tuple[Session, PendingCommand]:
    from imapclient.commands.base import message_route

    session = Session()
    session.receive_data(b"* PREAUTH hi\r\n")
    session.send(Command(b"SELECT", [Atom(b"INBOX")]))
    session.data_to_send()
    session.receive_data(b"A1 OK [READ-WRITE] done\r\n")

    class Ctx:
        use_uid = True

    route = message_route(Ctx(), Atom(b"101:150"))  # type: ignore[arg-type]
    pending = session.send(
        Command(b"UID", [Atom(b"FETCH"), Atom(b"101:150"), Atom(b"(FLAGS)")]),
        claims=(b"FETCH",),
        route=route,
        local_times=local_times,
    )
    session.data_to_send()
    pieces = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    for piece in pieces:
        if piece:
            session.receive_data(piece)
    return session, pending


@FAST
@given(st.lists(st.integers(0, 5000), max_size=12).map(sorted))
def test_a_listing_gives_the_general_parsers_responses_however_it_arrives(cuts: list[int]) -> None:
    lines = listing(60)
    # Not this command's: an EXPUNGE, a FETCH of a UID outside its set, a literal.
    lines.insert(10, b"* 3 EXPUNGE")
    lines.insert(20, b"* 59 FETCH (UID 999 FLAGS (\\Seen))")
    lines.insert(
        30,
        b"* 60 FETCH (UID 140 FLAGS (\\Seen) INTERNALDATE {28}\r\n"
        b'"01-Jan-2023 14:39:00 +0000" RFC822.SIZE 5)',
    )
    wire = b"".join(line + b"\r\n" for line in lines) + b"A2 OK done\r\n"
    cuts = [c for c in cuts if c < len(wire)]
    session, pending = run_listing(wire, cuts)
    assert pending.result is not None and pending.result.status == b"OK"
    mine = [r for r in pending.untagged if isinstance(r, UntaggedResponse)]
    expected = [general(line) for line in lines]
    claimed = [r for r in expected if r.name == b"FETCH" and 101 <= r.data[b"UID"] <= 150]
    assert len(mine) == len(claimed) == 51
    for got, want in zip(mine, claimed, strict=True):
        assert got.number == want.number and same(dict(got.data), dict(want.data))
    others = [(r.name, r.number) for r in session.unsolicited]
    assert others == [(r.name, r.number) for r in expected if r not in claimed]
    assert (b"EXPUNGE", 3) in others and (b"FETCH", 59) in others and len(others) == 12
    assert session._parser._hits >= 40  # the compiled shape read most of them


def test_lines_are_not_taken_past_the_line_limit() -> None:
    lines = listing(3)
    long_flags = b"(" + b" ".join([b"$k%04d" % i for i in range(300)]) + b")"
    lines[2] = lines[2].replace(b"FLAGS (\\Seen)", b"FLAGS " + long_flags)
    framer = Framer(limits=Limits(max_line_length=1000))
    parser = Parser(limits=Limits(max_line_length=1000))
    framer.feed(b"".join(line + b"\r\n" for line in lines))
    parser.parse(framer.next_response())  # learns the shape
    assert [n for n, _ in parser.take_fetch_lines(framer)] == [2]  # not the long third
    with pytest.raises(LimitExceededError):
        framer.next_frame()


def test_no_lines_are_taken_inside_a_response() -> None:
    framer = Framer()
    parser = Parser()
    parser.parse(listing(1)[0])
    framer.feed(b"* 9 FETCH (UID 9 BODY[] {5}\r\n")  # a literal is pending
    assert framer.next_frame() is None
    framer.feed(b"abcde)\r\n" + listing(2)[1] + b"\r\n")
    assert parser.take_fetch_lines(framer) == []  # mid-response: nothing taken
    assert framer.next_frame() == (b"* 9 FETCH (UID 9 BODY[] {5}\r\nabcde)", {})
    assert [n for n, _ in parser.take_fetch_lines(framer)] == [2]


# --- INTERNALDATE as naive local time (the listings of a client with normalise_times) ----

# POSIX TZ rules (no tz database needed): none, an hour with DST, half hours with DST.
LOCAL_ZONES = ["UTC0", "CET-1CEST,M3.5.0,M10.5.0/3", "NST3:30NDT,M3.2.0,M11.1.0"]


@pytest.fixture(params=LOCAL_ZONES)
def local_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


META_KEYS = (b"UID", b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE")


def meta_line(date: bytes) -> bytearray:
    return bytearray(
        b'* 7 FETCH (UID 9 FLAGS (\\Seen) INTERNALDATE "%s" RFC822.SIZE 12)\r\n' % date
    )


def local_reference(line: bytearray) -> dict[bytes, Any] | None:
    """What the general parser and datetime_to_native() make of ``line`` (None: one of
    them refuses it)."""
    try:
        items = dict(general(bytes(line[:-2])).data)
        date = items[b"INTERNALDATE"]
        if not isinstance(date, datetime):
            return None
        items[b"INTERNALDATE"] = datetime_to_native(date)
    except (ProtocolError, OverflowError, OSError, ValueError):
        return None
    return items


def check_local(line: bytearray) -> bool:
    """The local reader agrees with the general parser + datetime_to_native() on
    ``line``, and declines only what the aware reader declines or what fromtimestamp()
    cannot convert; returns whether it accepted."""
    shape = fastfetch.shape_for(META_KEYS)
    assert shape is not None and shape.read_line_local is not None
    got = shape.read_line_local(line, memoryview(line), 0, len(line), 100)
    reference = local_reference(line)
    if got is None:
        aware = shape.read_line(line, memoryview(line), 0, len(line), 100)
        if aware is not None and reference is not None:
            # Only where fromtimestamp() cannot go: datetime_to_native() has a slower
            # way there, which the command layer takes.
            with pytest.raises((OverflowError, OSError, ValueError)):
                datetime.fromtimestamp(aware[1][b"INTERNALDATE"].timestamp())
        return False
    assert reference is not None, f"accepted what the general path refuses: {bytes(line)!r}"
    number, items, end, literal_bytes = got
    assert (number, end, literal_bytes) == (7, len(line), 0)
    date = items[b"INTERNALDATE"]
    assert date.tzinfo is None and date == reference[b"INTERNALDATE"]
    assert date.fold == reference[b"INTERNALDATE"].fold  # the later of a repeated hour
    assert same(dict(items), reference)
    return True


@settings(
    FAST, suppress_health_check=[*FAST.suppress_health_check, HealthCheck.function_scoped_fixture]
)  # the zone fixture is the same for every example, on purpose
@given(
    st.integers(1, 31),
    st.sampled_from([b"Jan", b"feb", b"Mar", b"OCT", b"Nov", b"Dec", b"Foo"]),
    st.sampled_from([1, 2, 1969, 1970, 2023, 2024, 2038, 2100, 9999]),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from([b"+", b"-"]),
    st.integers(0, 30),
    st.sampled_from([0, 30, 45, 59, 60, 99]),
)
def test_local_internaldate_is_datetime_to_native_of_the_aware_one(
    local_zone: str,
    day: int,
    month: bytes,
    year: int,
    hour: int,
    minute: int,
    second: int,
    sign: bytes,
    zone_hours: int,
    zone_minutes: int,
) -> None:
    date = b"%2d-%s-%04d %02d:%02d:%02d %s%02d%02d" % (
        day,
        month,
        year,
        hour,
        minute,
        second,
        sign,
        zone_hours,
        zone_minutes,
    )
    check_local(meta_line(date))


@pytest.mark.parametrize(
    "date, accepted",
    [
        (b"17-Jul-1996 02:44:25 -0700", True),
        (b"27-Oct-2024 00:30:00 +0000", True),  # 02:30 twice in Berlin: the second one
        (b"27-Oct-2024 01:30:00 +0000", True),
        (b"31-Mar-2024 01:30:00 +0000", True),
        (b"24-Jan-2023 24:00:00 +0000", False),
        (b"24-Jan-2023 23:60:00 +0000", False),
        (b"31-Dec-2016 23:59:60 +0000", False),  # a leap second: datetime() has none
        (b"31-Feb-2023 10:00:00 +0000", False),
        (b"01-Jan-2023 10:00:00 +9999", False),
        (b"01-Jan-0001 00:00:00 +1400", False),  # before the first day datetime knows
        (b"31-Dec-9999 23:59:59 -1400", False),  # after the last
    ],
)
def test_local_internaldate_edges(local_zone: str, date: bytes, accepted: bool) -> None:
    line = meta_line(date)
    if check_local(line):
        assert accepted
    else:
        # Declined: the general parser (and the command layer) decide, as before.
        assert not accepted or local_reference(line) is None


def test_a_listing_with_local_times_converts_only_its_own_responses() -> None:
    lines = listing(60)
    lines.insert(
        20,
        b'* 59 FETCH (UID 999 FLAGS (\\Seen) INTERNALDATE "09-Jan-2023 14:39:00 +0000" '
        b"RFC822.SIZE 5)",
    )
    by_uid = {general(line).data[b"UID"]: general(line).data for line in lines}
    wire = b"".join(line + b"\r\n" for line in lines) + b"A2 OK done\r\n"
    session, pending = run_listing(wire, [len(wire) // 3], local_times=True)
    mine = [r for r in pending.untagged if isinstance(r, UntaggedResponse)]
    assert len(mine) == 50
    local = 0
    for got in mine:
        date, want = got.data[b"INTERNALDATE"], by_uid[got.data[b"UID"]][b"INTERNALDATE"]
        if date.tzinfo is None:  # read by the compiled shape
            local += 1
            assert date == datetime_to_native(want)
        else:  # read by the general parser (the first one): the command layer converts
            assert same(date, want)
    assert local >= 40
    # Not this command's (UIDs 151-160 and 999): kept with the aware dates every other
    # response has, the same instants.
    others = {r.data[b"UID"]: r.data[b"INTERNALDATE"] for r in session.unsolicited}
    assert sorted(others) == [*range(151, 161), 999]
    for uid, date in others.items():
        assert date.tzinfo is not None and date == by_uid[uid][b"INTERNALDATE"]
    # Without local_times every date stays aware.
    _, pending = run_listing(wire, [len(wire) // 3])
    assert all(r.data[b"INTERNALDATE"].tzinfo is not None for r in pending.untagged)


# --- responses with literals, read straight from the framer's buffer ----------------------


def body_listing(count: int) -> list[bytes]:
    """BODY[] responses of 0 bytes to 3 KiB (some in line, some out of line when framed)."""
    out = []
    for n in range(1, count + 1):
        data = bytes([n % 256]) * (n * 97 % 3000) + b"\r\n)"  # CRLF and ")" inside
        out.append(b"* %d FETCH (UID %d BODY[] {%d}\r\n%s)" % (n, n + 100, len(data), data))
    return out


@FAST
@given(st.lists(st.integers(1, 70_000), min_size=1, max_size=6))
def test_a_body_listing_read_from_the_buffer_agrees_with_the_general_parser(sizes):
    lines = body_listing(40)
    lines.insert(5, b"* 2 EXPUNGE")
    lines.insert(9, b'* 30 FETCH (UID 130 BODY[] "quoted")')
    lines.insert(12, b"* 31 FETCH (UID 131 BODY[] NIL)")
    wire = b"".join(line + b"\r\n" for line in lines) + b"A2 OK done\r\n"
    session = Session()
    session.receive_data(b"* PREAUTH hi\r\n")
    session.send(Command(b"SELECT", [Atom(b"INBOX")]))
    session.data_to_send()
    session.receive_data(b"A1 OK [READ-WRITE] done\r\n")
    pending = session.send(Command(b"FETCH", [Atom(b"1:*"), Atom(b"BODY[]")]), claims=(b"FETCH",))
    session.data_to_send()
    pos = 0
    for size in itertools.cycle(sizes):
        if pos == len(wire):
            break
        view = session.receive_buffer(size)
        n = min(len(view), len(wire) - pos)
        view[:n] = wire[pos : pos + n]
        view.release()
        session.received(n)
        pos += n
    assert pending.result is not None and pending.result.status == b"OK"
    expected = [general(line) for line in lines if b"EXPUNGE" not in line]
    got = [r for r in pending.untagged if isinstance(r, UntaggedResponse)]
    assert len(got) == len(expected) == 42
    for a, b in zip(got, expected, strict=True):
        assert a.number == b.number and same(dict(a.data), dict(b.data))
    assert session._parser._hits >= 30  # most were read by the compiled shape


NSTRING_FORMS = {  # the form on the wire: the literal data it carries
    "literal": (b"{5}\r\nab)\r\n", 5),
    "empty literal": (b"{0}\r\n", 0),
    "literal with leading zeros": (b"{003}\r\nabc", 3),
    "quoted": (b'"a header"', 0),
    "quoted with escapes": (b'"a \\"b\\" \\\\c"', 0),
    "empty quoted": (b'""', 0),
    "NIL": (b"NIL", 0),
}
NSTRING_DECLINED = {
    "lowercase nil": b"nil",
    "atom": b"abc",
    "literal without CRLF": b"{3}abc",
    "literal8 marker": b"~{3}\r\nabc",
    "quoted CR": b'"a\rb"',
    "NIL run into the next item": b"NILFLAGS",
}


@pytest.mark.parametrize("text", sorted(NSTRING_FORMS), ids=str)
@pytest.mark.parametrize("where", ["first", "last"])
def test_the_line_reader_reads_each_nstring_form_as_the_general_parser_does(text, where):
    value, data_size = NSTRING_FORMS[text]
    other = b"{4}\r\nbody"
    header, body = (value, other) if where == "first" else (other, value)
    line = b"* 3 FETCH (UID 9 BODY[HEADER] %s FLAGS (\\Seen) BODY[TEXT] %s)" % (header, body)
    want = general(line)
    shape = fastfetch.shape_for(tuple(want.data))
    assert shape is not None
    end = len(line) + 2
    buf = bytearray(line + b"\r\n* 4 FETCH (UID 10 ")  # bytes past endpos
    got = shape.read_line(buf, memoryview(buf), 0, end, 100)
    assert got is not None, line
    number, items, pos, literal_bytes = got
    assert (number, dict(items)) == (want.number, dict(want.data))
    assert (pos, literal_bytes) == (end, 4 + data_size)
    for cut in range(end - 1, 0, -5):  # never completed from what lies past endpos
        assert shape.read_line(buf, memoryview(buf), 0, cut, 100) is None


@pytest.mark.parametrize("text", sorted(NSTRING_DECLINED), ids=str)
def test_the_line_reader_declines_what_is_not_an_nstring(text):
    shape = fastfetch.shape_for((b"UID", b"BODY[]"))
    assert shape is not None
    line = b"* 3 FETCH (UID 9 BODY[] %s)\r\n" % NSTRING_DECLINED[text]
    assert shape.read_line(line, memoryview(line), 0, len(line), 100) is None


def test_bytes_past_the_end_of_the_data_are_never_read() -> None:
    # Once a response is taken the buffer is reused from its start, and the old bytes
    # stay behind the new data: a reader that looked past the end would see an old
    # response's tail complete a new one that has only half arrived.
    for line in (listing(1)[0], body_listing(3)[2]):
        framer, parser = Framer(), Parser()
        parser.parse(line)  # learns the shape
        framer.feed(line + b"\r\n")
        assert len(parser.take_fetch_lines(framer)) == 1
        for cut in (5, len(line) // 2, len(line) - 1, len(line) + 1):
            framer.feed((line + b"\r\n")[:cut])
            assert parser.take_fetch_lines(framer) == [], cut
            framer.feed((line + b"\r\n")[cut:])
            assert len(parser.take_fetch_lines(framer)) == 1


def test_a_response_cut_inside_its_literal_is_still_taken_whole() -> None:
    # The framer has seen the literal's announcement and waits for its data; once the
    # data is there the line reader takes the response (it is not framed), and a
    # response it declines is framed from the state the framer kept.
    first, second = body_listing(30)[28:30]  # literals of 2,716 and 2,813 bytes
    declined = first[:-1] + b" X-OTHER 5)"
    for line, taken in ((first, True), (declined, False)):
        framer, parser = Framer(), Parser()
        parser.parse(second)  # learns the (UID, BODY[]) shape
        wire = line + b"\r\n" + second + b"\r\n"
        cut = line.index(b"}\r\n") + 100  # inside the first literal
        framer.feed(wire[:cut])
        assert parser.take_fetch_lines(framer) == []
        assert framer.next_frame() is None  # now waiting for the literal's data
        framer.feed(wire[cut:])
        got = parser.take_fetch_lines(framer)
        if taken:
            assert [n for n, _ in got] == [29, 30]
            assert dict(got[0][1]) == dict(general(line).data)
        else:
            assert got == []
            frame = framer.next_frame()
            assert frame is not None
            assert parser.parse(*frame) == general(line)
            frame = framer.next_frame()  # (the parser now expects X-OTHER's shape)
            assert frame is not None and parser.parse(*frame) == general(second)
        assert framer.buffered == 0 and framer.next_frame() is None


def test_a_literal_over_the_limit_is_left_to_the_framer() -> None:
    limits = Limits(max_literal_size=1000)
    framer, parser = Framer(limits), Parser(limits)
    small, big = body_listing(2)[0], b"* 9 FETCH (UID 9 BODY[] {2000}\r\n" + b"x" * 2000 + b")"
    parser.parse(small)
    framer.feed(small + b"\r\n" + big + b"\r\n")
    assert len(parser.take_fetch_lines(framer)) == 1  # the small one only
    with pytest.raises(LimitExceededError) as info:
        framer.next_frame()
    assert info.value.limit == "max_literal_size"


def test_a_literal_to_be_streamed_is_never_read_from_the_buffer() -> None:
    session = Session()
    session.receive_data(b"* PREAUTH hi\r\n")
    session.send(Command(b"SELECT", [Atom(b"INBOX")]))
    session.data_to_send()
    session.receive_data(b"A1 OK [READ-WRITE] done\r\n")
    session._parser.parse(body_listing(1)[0])  # the (UID, BODY[]) shape is learnt
    written: list[bytes] = []

    class Sink:
        def write(self, data: bytes) -> None:
            written.append(data)

    pending = session.send(
        Command(b"UID", [Atom(b"FETCH"), Atom(b"7"), Atom(b"BODY[]")]),
        claims=(b"FETCH",),
        literal_sink=lambda prefix, size: Sink(),
    )
    session.data_to_send()
    session.receive_data(b"* 3 FETCH (UID 7 BODY[] {5}\r\nhello)\r\nA2 OK done\r\n")
    assert b"".join(written) == b"hello"
    (response,) = pending.untagged
    assert response.data[b"BODY[]"] == b""  # the data went to the sink


# --- an ENVELOPE whose subject is a literal: the line readers' fallback -----------------

SUBJECT = b'"=?utf-8?q?=F0=9F=8E=89_Party_on_Saturday!?="'
LITERAL_SUBJECTS = {
    "folded with CRLF": b"=?utf-8?b?zpXOu867?=\r\n =?utf-8?b?z4I=?=",
    "folded with a TAB": b"Re: a long subject\tthat was folded",
    "protocol-like text": b'x") NIL NIL {5}\r\n(("a" NIL "b" "c"))',
    "empty": b"",
    "8-bit": "Ελληνικά".encode(),
}


def with_literal_subject(data: bytes, response: bytes = DOVECOT_ENVELOPE) -> bytes:
    assert SUBJECT in response
    return response.replace(SUBJECT, b"{%d}\r\n%s" % (len(data), data))


@pytest.mark.parametrize("name", sorted(LITERAL_SUBJECTS), ids=str)
def test_the_line_readers_read_an_envelope_with_a_literal_subject(name, local_zone):
    data = LITERAL_SUBJECTS[name]
    text = with_literal_subject(data)
    want = general(text)
    shape = fastfetch.shape_for(tuple(want.data))
    assert shape is not None and shape.literals  # never read while a lane streams
    end = len(text) + 2
    buf = bytearray(text + b"\r\n" + DOVECOT_ENVELOPE[:200])  # stale bytes past endpos
    got = shape.read_line(buf, memoryview(buf), 0, end, 100)
    assert got is not None
    assert (got[0], dict(got[1]), got[2], got[3]) == (want.number, dict(want.data), end, len(data))
    assert got[1][b"ENVELOPE"].subject == data
    local = shape.read_line_local(buf, memoryview(buf), 0, end, 100)
    assert local is not None
    envelope, reference = local[1][b"ENVELOPE"], want.data[b"ENVELOPE"]
    assert envelope[1:] == reference[1:]
    assert envelope.date == datetime_to_native(reference.date)
    for cut in range(end - 1, 0, -9):  # never completed from what lies past endpos
        assert shape.read_line(buf, memoryview(buf), 0, cut, 100) is None


LITERAL_ENVELOPES_DECLINED = {
    "literal display name": (b'(("Trent Nowak" NIL', b'(({11}\r\nTrent Nowak NIL'),
    "literal date": (
        b'"Sun, 01 Jan 2023 07:26:41 +0530"',
        b"{31}\r\nSun, 01 Jan 2023 07:26:41 +0530",
    ),
    "literal longer than the response": (b"{5}\r\nParty", b"{9000}\r\nParty"),
    "literal without CRLF": (b"{5}\r\nParty", b"{5}Party"),
    "two literals": (b'"<0.dd793279@example.org>"', b"{24}\r\n<0.dd793279@example.org>"),
}


@pytest.mark.parametrize("name", sorted(LITERAL_ENVELOPES_DECLINED), ids=str)
def test_other_literals_in_an_envelope_are_left_to_the_general_parser(name):
    old, new = LITERAL_ENVELOPES_DECLINED[name]
    text = with_literal_subject(b"Party")
    assert old in text
    text = text.replace(old, new)
    shape = fastfetch.shape_for(tuple(general(DOVECOT_ENVELOPE).data))
    assert shape is not None
    buf = bytearray(text + b"\r\n")
    assert shape.read_line(buf, memoryview(buf), 0, len(buf), 100) is None
    assert shape.read_line_local(buf, memoryview(buf), 0, len(buf), 100) is None


def test_a_listing_with_literal_subjects_is_read_from_the_buffer() -> None:
    lines = [
        with_literal_subject(b"Subject %d\r\n folded" % n).replace(b"UID 1 ", b"UID %d " % n)
        .replace(b"* 1 ", b"* %d " % n)
        if n % 2
        else DOVECOT_ENVELOPE.replace(b"UID 1 ", b"UID %d " % n).replace(b"* 1 ", b"* %d " % n)
        for n in range(101, 141)
    ]
    wire = b"".join(line + b"\r\n" for line in lines) + b"A2 OK done\r\n"
    for cuts in ([], [700, 1400, 5000], list(range(97, len(wire), 997))):
        session, pending = run_listing(wire, cuts)
        got = [r for r in pending.untagged if isinstance(r, UntaggedResponse)]
        assert [(r.number, dict(r.data)) for r in got] == [
            (general(line).number, dict(general(line).data)) for line in lines
        ]
        assert session._parser._hits >= 30


ENVELOPE_KEYS = (b"UID", b"ENVELOPE")


def envelope_line(date: bytes) -> bytearray:
    return bytearray(
        b'* 7 FETCH (UID 9 ENVELOPE ("%s" "hi" (("A" NIL "a" "x.org")) NIL NIL NIL NIL NIL '
        b'NIL "<id@x>"))\r\n' % date
    )


@settings(
    FAST, suppress_health_check=[*FAST.suppress_health_check, HealthCheck.function_scoped_fixture]
)  # the zone fixture is the same for every example, on purpose
@given(
    st.sampled_from([b"", b"Sun, "]),
    st.integers(1, 31),
    st.sampled_from([b"Jan", b"feb", b"Oct", b"Foo"]),
    st.sampled_from([1, 1969, 2023, 2024, 9999]),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from([b"+0000", b"-0000", b"+0530", b"-0700", b"+1400", b"+9999"]),
    st.sampled_from([b"", b" (PDT)"]),
)
def test_local_envelope_date_is_datetime_to_native_of_the_aware_one(
    local_zone: str,
    weekday: bytes,
    day: int,
    month: bytes,
    year: int,
    hour: int,
    minute: int,
    second: int,
    zone: bytes,
    comment: bytes,
) -> None:
    date = b"%s%d %s %04d %02d:%02d:%02d %s%s" % (
        weekday, day, month, year, hour, minute, second, zone, comment
    )
    line = envelope_line(date)
    shape = fastfetch.shape_for(ENVELOPE_KEYS)
    assert shape is not None
    got = shape.read_line_local(line, memoryview(line), 0, len(line), 100)
    aware = shape.read_line(line, memoryview(line), 0, len(line), 100)
    if got is None:
        # Declined only where the aware reader declines or fromtimestamp() cannot go;
        # the general parser and the command layer decide then.
        if aware is not None:
            with pytest.raises((OverflowError, OSError, ValueError)):
                datetime.fromtimestamp(aware[1][b"ENVELOPE"].date.timestamp())
        return
    assert aware is not None  # the same grammar: accepted by both or neither
    want = aware[1][b"ENVELOPE"]
    envelope = got[1][b"ENVELOPE"]
    assert envelope.date.tzinfo is None
    assert envelope.date == datetime_to_native(want.date)
    assert envelope.date.fold == datetime_to_native(want.date).fold
    assert envelope[1:] == want[1:]
    # And the aware reader agrees with the general parser, as everywhere else.
    assert same(dict(aware[1]), dict(general(bytes(line[:-2])).data))


def test_envelope_dates_of_responses_not_the_listings_stay_aware() -> None:
    line = bytes(envelope_line(b"Sun, 01 Jan 2023 07:26:41 +0530"))[:-2]
    session = Session()
    session.receive_data(b"* PREAUTH hi\r\n")
    session.send(Command(b"SELECT", [Atom(b"INBOX")]))
    session.data_to_send()
    session.receive_data(b"A1 OK [READ-WRITE] done\r\n")
    session._parser.parse(line)  # the (UID, ENVELOPE) shape is learnt

    class Ctx:
        use_uid = True

    from imapclient.commands.base import message_route

    pending = session.send(
        Command(b"UID", [Atom(b"FETCH"), Atom(b"1:5"), Atom(b"ENVELOPE")]),
        claims=(b"FETCH",),
        route=message_route(Ctx(), Atom(b"1:5")),  # type: ignore[arg-type]
        local_times=True,
    )
    session.data_to_send()
    mine, other = line.replace(b"UID 9", b"UID 3"), line  # UID 9: not in 1:5
    session.receive_data(mine + b"\r\n" + other + b"\r\nA2 OK done\r\n")
    want = general(line).data[b"ENVELOPE"].date
    (response,) = pending.untagged
    assert response.data[b"ENVELOPE"].date == datetime_to_native(want)
    (unsolicited,) = session.unsolicited
    date = unsolicited.data[b"ENVELOPE"].date
    assert date.tzinfo is not None and date == want
