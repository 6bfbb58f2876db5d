"""Transcript tests for :class:`imapclient.protocol.framing.Framer`.

The framer turns an arbitrarily chunked byte stream into complete responses (a line plus
any literals it announces, final CRLF removed). These tests feed recorded-style transcripts
in many chunkings and check the responses that come out, the limits, end of stream and
``discard()``.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imapclient.exceptions import ConnectionClosedError, LimitExceededError, ProtocolError
from imapclient.protocol.framing import Framer
from imapclient.protocol.limits import Limits
from imapclient.protocol.tolerances import DEFAULT_TOLERANCES, STRICT, Tolerance

# --- helpers --------------------------------------------------------------------------


def literal_response(prefix: bytes, data: bytes, suffix: bytes = b")", tilde: bool = False):
    """Build ``prefix {n}CRLF data suffix`` and return (wire bytes, framed response)."""
    marker = b"~{%d}" % len(data) if tilde else b"{%d}" % len(data)
    framed = prefix + marker + b"\r\n" + data + suffix
    return framed + b"\r\n", framed


def frame(chunks, framer: Framer | None = None) -> list[bytes]:
    """Feed each chunk, draining every complete response after each feed."""
    framer = framer or Framer()
    out: list[bytes] = []
    for chunk in chunks:
        framer.feed(chunk)
        while (response := framer.next_response()) is not None:
            out.append(response)
    return out


def split_at(data: bytes, cuts) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def one_byte_chunks(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


# --- transcripts ----------------------------------------------------------------------

_LIT_CRLF_WIRE, _LIT_CRLF = literal_response(
    b"* 12 FETCH (BODY[HEADER] ", b"Subject: hi\r\nFrom: a@b\r\n\r\n"
)
_LOOKALIKE_DATA = b"x {5}\r\ny}\r\n{\r\n~{3}\r\n}{0}\r\n{99999999999}\r\n"
_LOOKALIKE_WIRE, _LOOKALIKE = literal_response(b"* 1 FETCH (BODY[] ", _LOOKALIKE_DATA)
_TILDE_WIRE, _TILDE = literal_response(
    b"* 5 FETCH (BINARY[1] ", b"\x00\x01\r\n\xff{2}\r\n", tilde=True
)
_ZERO_WIRE, _ZERO = literal_response(b"* 3 FETCH (BODY[TEXT] ", b"", b" UID 7)")

_MULTI_FRAMED = b'* LIST () "/" {7}\r\nfoo bar ("OLDNAME" ({3}\r\nold))'
_MULTI_WIRE = _MULTI_FRAMED + b"\r\n"

_THREE_LITERALS_FRAMED = (
    b"* 9 FETCH (BODY[1] {3}\r\none BODY[2] ~{4}\r\ntw\r\n BODY[3] {0}\r\n UID 9)"
)

TRANSCRIPTS = [
    pytest.param(
        [b"* OK IMAP4rev2 server ready\r\n"], [b"* OK IMAP4rev2 server ready"], id="single-line"
    ),
    pytest.param(
        [b"* 3 EXISTS\r\n* 1 RECENT\r\n* FLAGS (\\Seen \\Deleted)\r\na1 OK done\r\n"],
        [b"* 3 EXISTS", b"* 1 RECENT", b"* FLAGS (\\Seen \\Deleted)", b"a1 OK done"],
        id="several-lines-one-chunk",
    ),
    pytest.param([_LIT_CRLF_WIRE], [_LIT_CRLF], id="literal-with-crlf-inside"),
    pytest.param([_LOOKALIKE_WIRE], [_LOOKALIKE], id="literal-with-brace-lookalikes"),
    pytest.param([_TILDE_WIRE], [_TILDE], id="literal8-binary"),
    pytest.param([_ZERO_WIRE], [_ZERO], id="zero-length-literal"),
    pytest.param([_MULTI_WIRE], [_MULTI_FRAMED], id="two-literals-in-list"),
    pytest.param([_THREE_LITERALS_FRAMED + b"\r\n"], [_THREE_LITERALS_FRAMED], id="three-literals"),
    pytest.param(
        [_LIT_CRLF_WIRE + b"* 4 EXISTS\r\n" + _TILDE_WIRE + b"a2 OK fetched\r\n"],
        [_LIT_CRLF, b"* 4 EXISTS", _TILDE, b"a2 OK fetched"],
        id="literal-responses-mixed-with-lines",
    ),
    pytest.param([b"+ Ready for literal\r\n"], [b"+ Ready for literal"], id="continuation"),
    pytest.param([b"\r\n"], [b""], id="empty-line-is-framed-for-the-parser-to-reject"),
]


def _flatten(chunks):
    return b"".join(chunks)


@pytest.mark.parametrize(("chunks", "expected"), TRANSCRIPTS)
def test_transcript_as_given(chunks, expected):
    assert frame(chunks) == expected


@pytest.mark.parametrize(("chunks", "expected"), TRANSCRIPTS)
def test_transcript_split_at_every_point(chunks, expected):
    data = _flatten(chunks)
    for cut in range(1, len(data)):
        assert frame([data[:cut], data[cut:]]) == expected, f"split at {cut}"


@pytest.mark.parametrize(("chunks", "expected"), TRANSCRIPTS)
def test_transcript_one_byte_at_a_time(chunks, expected):
    assert frame(one_byte_chunks(_flatten(chunks))) == expected


@pytest.mark.parametrize(("chunks", "expected"), TRANSCRIPTS)
def test_transcript_split_inside_crlf(chunks, expected):
    data = _flatten(chunks)
    cuts = [i + 1 for i in range(len(data) - 1) if data[i : i + 2] == b"\r\n"]
    assert cuts, "every transcript has a CRLF"
    assert frame(split_at(data, cuts)) == expected


_ALL_WIRE = b"".join(_flatten(c) for c, _ in (p.values for p in TRANSCRIPTS))
_ALL_EXPECTED = [r for _, e in (p.values for p in TRANSCRIPTS) for r in e]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(_ALL_WIRE) - 1), max_size=40))
def test_any_chunking_gives_the_same_responses(cuts):
    assert frame(split_at(_ALL_WIRE, cuts)) == _ALL_EXPECTED


def test_next_response_returns_none_until_complete():
    framer = Framer()
    assert framer.next_response() is None
    framer.feed(b"* 1 FETCH (BODY[] {5}\r\nab")
    assert framer.next_response() is None
    assert framer.next_response() is None  # asking again changes nothing
    framer.feed(b"cde")
    assert framer.next_response() is None  # the closing line is still missing
    framer.feed(b")\r")
    assert framer.next_response() is None
    framer.feed(b"\n")
    assert framer.next_response() == b"* 1 FETCH (BODY[] {5}\r\nabcde)"
    assert framer.next_response() is None
    assert framer.buffered == 0


def test_buffered_counts_unframed_bytes():
    framer = Framer()
    framer.feed(b"* 1 EXISTS\r\n* 2 EX")
    assert framer.buffered == 18
    assert framer.next_response() == b"* 1 EXISTS"
    assert framer.buffered == 6
    assert framer.next_response() is None


def test_literal_data_may_contain_bare_lf_even_when_strict():
    wire, framed = literal_response(b"* 1 FETCH (BODY[] ", b"a\nb\n\nc\r")
    assert frame([wire], Framer(tolerances=STRICT)) == [framed]


def test_literal_announcement_must_end_the_line():
    # "{5}" in the middle of a line is not a literal announcement.
    assert frame([b"* OK see {5} here\r\n* 1 EXISTS\r\n"]) == [
        b"* OK see {5} here",
        b"* 1 EXISTS",
    ]


def test_literal_data_is_never_scanned_for_an_announcement():
    # The literal's data ends in "{1"; the line after it is "}". The framer must not
    # combine the two into a "{1}" announcement: literal bytes are data, and the
    # announcement is looked for in the line alone (RFC 9051 section 4.3).
    wire = b"* 1 FETCH (X {2}\r\n{1}\r\n* 2 EXISTS\r\n"
    assert frame([wire]) == [b"* 1 FETCH (X {2}\r\n{1}", b"* 2 EXISTS"]


# --- line ends ------------------------------------------------------------------------


def test_bare_lf_accepted_under_tolerance():
    framer = Framer(tolerances=Tolerance.BARE_LF)
    assert frame([b"* 2 EXISTS\n* OK done\r\n"], framer) == [b"* 2 EXISTS", b"* OK done"]


def test_bare_lf_accepted_by_default():
    assert DEFAULT_TOLERANCES & Tolerance.BARE_LF
    assert frame([b"* 1 FETCH (BODY[] {2}\nhi)\n"]) == [b"* 1 FETCH (BODY[] {2}\nhi)"]


@pytest.mark.parametrize(
    "wire",
    [
        pytest.param(b"* 2 EXISTS\n", id="bare-lf-line"),
        pytest.param(b"\n", id="bare-lf-empty-line"),
        pytest.param(b"* 1 FETCH (BODY[] {2}\nhi)\r\n", id="bare-lf-after-literal-announcement"),
        pytest.param(b"* 1 FETCH (BODY[] {2}\r\nhi)\n", id="bare-lf-after-literal"),
    ],
)
def test_bare_lf_rejected_when_strict(wire):
    framer = Framer(tolerances=STRICT)
    framer.feed(wire)
    with pytest.raises(ProtocolError):
        framer.next_response()


def test_cr_without_lf_is_part_of_the_line():
    assert frame([b"* OK a\rb\r\n"]) == [b"* OK a\rb"]


# --- limits ---------------------------------------------------------------------------


def test_max_line_length_complete_line():
    framer = Framer(limits=Limits(max_line_length=20))
    framer.feed(b"* OK " + b"x" * 16 + b"\r\n")
    with pytest.raises(LimitExceededError) as info:
        framer.next_response()
    assert info.value.limit == "max_line_length"


def test_max_line_length_exact_fit_is_allowed():
    line = b"* OK " + b"x" * 15
    assert len(line) == 20
    framer = Framer(limits=Limits(max_line_length=20))
    assert frame([line + b"\r\n"], framer) == [line]


def test_max_line_length_does_not_depend_on_chunking():
    # A line of exactly the limit must be accepted however it arrives, in particular
    # when the CR of its CRLF arrives before the LF.
    line = b"* OK " + b"x" * 15
    wire = line + b"\r\n"
    for cut in range(1, len(wire)):
        framer = Framer(limits=Limits(max_line_length=20))
        assert frame([wire[:cut], wire[cut:]], framer) == [line], f"split at {cut}"


def test_max_line_length_without_any_lf_fails_as_soon_as_passed():
    limit = 1000
    framer = Framer(limits=Limits(max_line_length=limit))
    chunk = b"y" * 100
    fed = 0
    with pytest.raises(LimitExceededError) as info:
        for _ in range(100):  # 10,000 bytes if it never raised
            framer.feed(chunk)
            fed += len(chunk)
            assert framer.next_response() is None
    assert info.value.limit == "max_line_length"
    assert fed == limit + len(chunk)  # raised on the first chunk that passed the limit
    assert fed < 100 * len(chunk)


def test_max_line_length_applies_to_the_line_after_a_literal():
    framer = Framer(limits=Limits(max_line_length=40))
    framer.feed(b"* 1 FETCH (BODY[] {3}\r\nabc UID " + b"9" * 50 + b")\r\n")
    with pytest.raises(LimitExceededError) as info:
        framer.next_response()
    assert info.value.limit == "max_line_length"


def test_max_line_length_does_not_count_literal_data():
    wire, framed = literal_response(b"* 1 FETCH (BODY[] ", b"z" * 5000)
    framer = Framer(limits=Limits(max_line_length=40))
    assert frame([wire], framer) == [framed]


def test_huge_literal_announcement_fails_immediately():
    framer = Framer()
    framer.feed(b"* 1 FETCH (BODY[] {9999999999}\r\n")
    with pytest.raises(LimitExceededError) as info:
        framer.next_response()
    assert info.value.limit == "max_literal_size"
    assert info.value.value == 9999999999
    assert framer.buffered < 100


def test_absurdly_long_literal_announcement_is_a_limit_error():
    # 24 digits: far beyond any limit. It must be refused like {9999999999}, not
    # framed as if the line had no literal (which would read the literal's data as
    # further responses).
    framer = Framer()
    framer.feed(b"* 1 FETCH (BODY[] {123456789012345678901234}\r\n")
    with pytest.raises(LimitExceededError) as info:
        framer.next_response()
    assert info.value.limit == "max_literal_size"


@pytest.mark.parametrize("tilde", [False, True], ids=["literal", "literal8"])
def test_max_literal_size(tilde):
    limits = Limits(max_literal_size=100)
    ok_wire, ok_framed = literal_response(b"* 1 FETCH (BODY[] ", b"a" * 100, tilde=tilde)
    assert frame([ok_wire], Framer(limits=limits)) == [ok_framed]
    bad_wire, _ = literal_response(b"* 1 FETCH (BODY[] ", b"a" * 101, tilde=tilde)
    framer = Framer(limits=limits)
    framer.feed(bad_wire[: bad_wire.index(b"\n") + 1])  # the announcement only
    with pytest.raises(LimitExceededError) as info:
        framer.next_response()
    assert info.value.limit == "max_literal_size"
    assert info.value.value == 101


def test_max_response_size_literals_add_up():
    limits = Limits(max_response_size=1000, max_literal_size=500)
    framer = Framer(limits=limits)
    part = b"p" * 400
    framer.feed(b"* 1 FETCH (BODY[1] {400}\r\n" + part + b" BODY[2] {400}\r\n" + part)
    assert framer.next_response() is None  # 2 x 400 plus lines: still under 1000
    framer.feed(b" BODY[3] {400}\r\n")
    with pytest.raises(LimitExceededError) as info:
        framer.next_response()
    assert info.value.limit == "max_response_size"
    assert info.value.value > 1000


def test_max_response_size_partial_line():
    framer = Framer(limits=Limits(max_response_size=500, max_line_length=10_000))
    with pytest.raises(LimitExceededError) as info:
        for _ in range(20):
            framer.feed(b"q" * 50)
            framer.next_response()
    assert info.value.limit == "max_response_size"


def test_max_response_size_line_after_literals():
    framer = Framer(limits=Limits(max_response_size=300, max_line_length=10_000))
    framer.feed(b"* 1 FETCH (BODY[] {100}\r\n" + b"r" * 100 + b" UID " + b"1" * 300 + b")\r\n")
    with pytest.raises(LimitExceededError) as info:
        framer.next_response()
    assert info.value.limit == "max_response_size"


def test_limits_are_per_response():
    # Many small responses together exceed max_response_size; none does alone.
    framer = Framer(limits=Limits(max_response_size=64))
    wire = b"* 1 EXISTS\r\n" * 100
    assert frame([wire], framer) == [b"* 1 EXISTS"] * 100


# --- end of stream --------------------------------------------------------------------


def test_eof_when_idle_does_not_raise():
    framer = Framer()
    assert frame([b"* BYE logging out\r\n"], framer) == [b"* BYE logging out"]
    framer.eof()


def test_eof_on_fresh_framer_does_not_raise():
    Framer().eof()


def test_eof_with_partial_line():
    framer = Framer()
    framer.feed(b"* 1 FETCH (FLA")
    assert framer.next_response() is None
    with pytest.raises(ConnectionClosedError) as info:
        framer.eof()
    assert "14" in str(info.value)


def test_eof_in_the_middle_of_a_literal():
    framer = Framer()
    framer.feed(b"* 1 FETCH (BODY[] {10}\r\nabcd")
    assert framer.next_response() is None
    with pytest.raises(ConnectionClosedError) as info:
        framer.eof()
    message = str(info.value)
    assert "4" in message and "10" in message


def test_eof_after_literal_data_but_before_the_line_end():
    # The literal is complete; what is missing is the rest of the response. The
    # message must not claim more literal bytes than were announced.
    framer = Framer()
    framer.feed(b"* 1 FETCH (BODY[] {3}\r\n")
    assert framer.next_response() is None
    framer.feed(b"abc UID 1)")
    with pytest.raises(ConnectionClosedError) as info:
        framer.eof()
    assert "literal" not in str(info.value)


def test_eof_is_an_abort_error_not_a_protocol_error():
    framer = Framer()
    framer.feed(b"* 1 EXI")
    with pytest.raises(ConnectionClosedError) as info:
        framer.eof()
    assert not isinstance(info.value, ProtocolError)


def test_feed_after_eof_is_refused():
    framer = Framer()
    framer.eof()
    with pytest.raises(ProtocolError):
        framer.feed(b"* OK late\r\n")


# --- discard --------------------------------------------------------------------------


def test_discard_drops_buffered_bytes():
    framer = Framer()
    framer.feed(b"* OK [CAPABILITY IMAP4rev2] injected\r\n* 1 EXI")
    assert framer.discard() == 45
    assert framer.buffered == 0
    assert framer.next_response() is None
    assert frame([b"* 2 EXISTS\r\n"], framer) == [b"* 2 EXISTS"]


def test_discard_during_a_literal():
    framer = Framer()
    framer.feed(b"* 1 FETCH (BODY[] {100}\r\nabc")
    assert framer.next_response() is None
    assert framer.discard() == 28
    assert frame([b"a1 OK done\r\n"], framer) == [b"a1 OK done"]
    framer.eof()


def test_discard_when_empty():
    framer = Framer()
    assert framer.discard() == 0
    framer.eof()


# --- linearity ------------------------------------------------------------------------


def test_large_literal_fed_one_byte_at_a_time():
    # 2 MB in 2 million feed/next_response calls. A framer that rescanned its buffer on
    # each call would need ~10^12 steps and never finish; a linear one takes about a
    # second. Only correctness is asserted.
    data = bytes(range(256)) * (2 * 1024 * 1024 // 256)
    wire, framed = literal_response(b"* 1 FETCH (BODY[] ", data)
    framer = Framer()
    view = memoryview(wire)
    out = []
    for i in range(len(wire)):
        framer.feed(view[i : i + 1])
        response = framer.next_response()
        if response is not None:
            out.append(response)
    assert len(out) == 1
    assert out[0] == framed
    assert framer.buffered == 0


def test_long_line_fed_one_byte_at_a_time():
    line = b"* SEARCH" + b" 4294967295" * 20_000  # ~220 KB, no literal
    wire = line + b"\r\n"
    view = memoryview(wire)
    framer = Framer()
    out = []
    for i in range(len(wire)):
        framer.feed(view[i : i + 1])
        response = framer.next_response()
        if response is not None:
            out.append(response)
    assert out == [line]


# --- out-of-line literals (next_frame) -------------------------------------------------

BIG = bytes(range(256)) * 8  # 2 KiB, every byte value, CR and LF included
BIG_WIRE = (
    b"* 1 FETCH (UID 1 BODY[] {2048}\r\n" + BIG + b" BODY[1] {3}\r\nabc)\r\n"
    b"* 2 EXISTS\r\n"
    b"* 3 FETCH (BODY[1] {2048}\r\n" + BIG + b" BODY[2] {2048}\r\n" + BIG[::-1] + b")\r\n"
)


def frames(chunks, framer: Framer | None = None) -> list[tuple[bytes, dict[int, bytes]]]:
    framer = framer or Framer()
    out = []
    for chunk in chunks:
        framer.feed(chunk)
        while (got := framer.next_frame()) is not None:
            out.append(got)
    return out


def test_large_literals_are_kept_out_of_line() -> None:
    (text, literals), (exists, none), (text3, literals3) = frames([BIG_WIRE])
    assert text == b"* 1 FETCH (UID 1 BODY[] {2048}\r\n BODY[1] {3}\r\nabc)"  # small: in line
    assert literals == {len(b"* 1 FETCH (UID 1 BODY[] {2048}\r\n"): BIG}
    assert (exists, none) == (b"* 2 EXISTS", {})
    assert text3 == b"* 3 FETCH (BODY[1] {2048}\r\n BODY[2] {2048}\r\n)"
    assert sorted(literals3.values()) == sorted([BIG, BIG[::-1]])
    assert literals3[text3.index(b" BODY[2]")] == BIG
    assert literals3[len(text3) - 1] == BIG[::-1]


def test_next_response_puts_out_of_line_literals_back() -> None:
    expected = [line for line in BIG_WIRE.split(b"\r\n* ")]
    expected = [expected[0]] + [b"* " + r for r in expected[1:]]
    expected[-1] = expected[-1][: -len(b"\r\n")]
    assert frame([BIG_WIRE]) == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(BIG_WIRE) - 1), max_size=30))
def test_out_of_line_literals_do_not_depend_on_chunking(cuts):
    assert frames(split_at(BIG_WIRE, cuts)) == frames([BIG_WIRE])


def test_buffered_counts_literals_already_moved_out() -> None:
    framer = Framer()
    framer.feed(b"* 1 FETCH (BODY[] {2048}\r\n" + BIG + b" UID")
    assert framer.next_frame() is None
    assert framer.buffered == len(b"* 1 FETCH (BODY[] {2048}\r\n") + 2048 + 4


def test_max_response_size_counts_literals_moved_out() -> None:
    framer = Framer(limits=Limits(max_response_size=5000))
    framer.feed(b"* 1 FETCH (BODY[1] {2048}\r\n" + BIG + b" BODY[2] {2048}\r\n" + BIG)
    assert framer.next_frame() is None  # about 4.1 KB: under the limit
    framer.feed(b" BODY[3] {2048}\r\n")
    with pytest.raises(LimitExceededError) as info:
        framer.next_frame()
    assert info.value.limit == "max_response_size"
    assert info.value.value > 5000


def test_eof_after_a_literal_moved_out_is_an_incomplete_response() -> None:
    framer = Framer()
    framer.feed(b"* 1 FETCH (BODY[] {2048}\r\n" + BIG)
    assert framer.next_frame() is None  # the literal is moved out; the buffer is empty
    with pytest.raises(ConnectionClosedError, match="middle of a response"):
        framer.eof()


def test_discard_forgets_literals_moved_out() -> None:
    framer = Framer()
    framer.feed(b"* 1 FETCH (BODY[] {2048}\r\n" + BIG)
    assert framer.next_frame() is None
    assert framer.discard() == len(b"* 1 FETCH (BODY[] {2048}\r\n") + 2048
    framer.feed(b"* 2 EXISTS\r\n")
    assert framer.next_frame() == (b"* 2 EXISTS", {})


# --- reading straight into the buffer (receive_buffer / commit) ------------------------

RECV_WIRE = (
    BIG_WIRE
    + b"* 4 FETCH (UID 4 FLAGS (\\Seen))\r\n"
    + literal_response(b"* 5 FETCH (BODY[] ", bytes(range(256)) * 600)[0]  # 150 KiB
    + b"* SEARCH" + b" 4294967295" * 3000 + b"\r\n"  # a 33 KB line
    + b"a1 OK done\r\n"
)


def frames_by_recv(sizes, wire: bytes = RECV_WIRE) -> list[tuple[bytes, dict[int, bytes]]]:
    """Frame ``wire`` read with receive_buffer()/commit(), ``sizes`` asked for in turn
    (the framer may offer less); every offered view is filled as far as data remains."""
    framer = Framer()
    out = []
    pos = 0
    for size in itertools.cycle(sizes):
        if pos == len(wire):
            break
        view = framer.receive_buffer(size)
        assert 0 < len(view) <= size
        n = min(len(view), len(wire) - pos)
        view[:n] = wire[pos : pos + n]
        view.release()
        framer.commit(n)
        pos += n
        while (got := framer.next_frame()) is not None:
            out.append(got)
    assert framer.buffered == 0
    return out


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=300_000), min_size=1, max_size=8))
def test_reading_into_the_buffer_frames_as_feeding_does(sizes):
    assert frames_by_recv(sizes) == frames([RECV_WIRE])


def test_commit_cannot_claim_more_than_the_view() -> None:
    framer = Framer()
    view = framer.receive_buffer(100)
    assert len(view) == 100
    view.release()
    with pytest.raises(ValueError):
        framer.commit(len(framer._buf) + 1)
    with pytest.raises(ValueError):
        framer.commit(-1)


def test_buffer_grows_for_a_big_response_then_shrinks_back() -> None:
    from imapclient.protocol import framing

    # Beyond the size the buffer keeps after a large response.
    data = bytes(range(256)) * ((framing._SHRINK_ABOVE + framing._CAPACITY) // 256)
    wire, _ = literal_response(b"* 1 FETCH (BODY[] ", data)
    framer = Framer()
    got = frames_by_recv([256 * 1024], wire)
    assert got[0][1] == {len(b"* 1 FETCH (BODY[] {%d}\r\n" % len(data)): data}
    framer.feed(wire)
    assert len(framer._buf) >= len(wire)
    assert framer.next_frame() is not None
    assert len(framer._buf) == framing._CAPACITY  # given back once framed
    framer.feed(b"* 2 EXISTS\r\n")
    assert framer.next_frame() == (b"* 2 EXISTS", {})


def test_a_view_still_held_does_not_stop_the_buffer_growing() -> None:
    framer = Framer()
    held = framer.receive_buffer(10)  # e.g. by an event loop, until its callback returns
    framer.feed(b"* 1 FETCH (BODY[] {3000000}\r\n")
    framer.feed(b"x" * 3_000_000 + b")\r\n")  # needs a bigger buffer: a new one
    text, literals = framer.next_frame()  # type: ignore[misc]
    assert text == b"* 1 FETCH (BODY[] {3000000}\r\n)"
    assert list(literals.values()) == [b"x" * 3_000_000]
    held.release()


# --- streamed literals (literal_router) -------------------------------------------------

STREAM_DATA = bytes(range(256)) * 40  # 10 KiB
STREAM_WIRE = (
    b"* 1 FETCH (UID 7 BODY[] {10240}\r\n" + STREAM_DATA + b" BODY[1] {2048}\r\n" + BIG
    + b" BODY[2] {3}\r\nxyz)\r\n* 2 EXISTS\r\n"
)


class Sink:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        assert type(data) is bytes
        self.chunks.append(data)


def stream_frames(chunks) -> tuple[list[tuple[bytes, dict[int, bytes]]], Sink, list[bytes]]:
    framer = Framer()
    sink = Sink()
    asked: list[bytes] = []

    def router(prefix: bytes, size: int) -> Sink | None:
        asked.append(prefix)
        return sink if prefix.endswith(b"BODY[] {%d}" % size) else None

    framer.literal_router = router
    return frames(chunks, framer), sink, asked


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(STREAM_WIRE) - 1), max_size=30))
def test_a_streamed_literal_goes_to_its_sink_however_it_arrives(cuts):
    got, sink, asked = stream_frames(split_at(STREAM_WIRE, cuts))
    assert b"".join(sink.chunks) == STREAM_DATA
    assert asked[0] == b"* 1 FETCH (UID 7 BODY[] {10240}"
    (text, literals), exists = got
    # The parser sees an empty literal where the streamed one was; the out-of-line
    # literal after it sits at its offset in that text.
    assert text == b"* 1 FETCH (UID 7 BODY[] {0}\r\n BODY[1] {2048}\r\n BODY[2] {3}\r\nxyz)"
    assert literals == {text.index(b" BODY[2]"): BIG}
    assert exists == (b"* 2 EXISTS", {})


def test_eof_in_a_streamed_literal_says_the_sink_is_incomplete() -> None:
    framer = Framer()
    framer.literal_router = lambda prefix, size: Sink()
    framer.feed(b"* 1 FETCH (BODY[] {100}\r\n" + b"x" * 40)
    assert framer.next_frame() is None
    with pytest.raises(ConnectionClosedError, match="40 of 100"):
        framer.eof()
