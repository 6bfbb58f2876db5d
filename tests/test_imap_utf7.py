"""Tests for imapclient.imap_utf7 (RFC 3501 section 5.1.3 modified UTF-7)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imapclient import imap_utf7

encode = imap_utf7.encode
decode = imap_utf7.decode

PRINTABLE = re.compile(rb"[\x20-\x7e]*")

# (decoded, encoded) pairs that must convert exactly in both directions.
VECTORS = [
    ("", b""),
    ("INBOX", b"INBOX"),
    ("&", b"&-"),
    ("&&", b"&-&-"),
    ("a&b", b"a&-b"),
    ("~peter/mail/台北/日本語", b"~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
    ("台北", b"&U,BTFw-"),
    ("Entwürfe", b"Entw&APw-rfe"),
    ("Gelöschte Objekte", b"Gel&APY-schte Objekte"),
    ("Отправленные", b"&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"),
    ("é&é", b"&AOk-&-&AOk-"),
    # Astral characters need a UTF-16 surrogate pair.
    ("😀", b"&2D3eAA-"),
    ("Inbox 😀 & 📬", b"Inbox &2D3eAA- &- &2D3c7A-"),
    # Characters outside 0x20-0x7e are encoded even when they are ASCII.
    ("a\tb", b"a&AAk-b"),
    ("\r\n\x00", b"&AA0ACgAA-"),
    ("\x7f", b"&AH8-"),
    (" ~", b" ~"),
]


@pytest.mark.parametrize(("text", "encoded"), VECTORS)
def test_encode_vectors(text: str, encoded: bytes) -> None:
    assert encode(text) == encoded


@pytest.mark.parametrize(("text", "encoded"), VECTORS)
def test_decode_vectors(text: str, encoded: bytes) -> None:
    assert decode(encoded) == text
    assert decode(encoded, strict=True) == text


def test_encode_passes_bytes_through() -> None:
    raw = b"already &-encoded \xff"
    assert encode(raw) is raw


def test_decode_passes_str_through() -> None:
    text = "already decoded &Jjo"
    assert decode(text) is text
    assert decode(text, strict=True) is text


@pytest.mark.parametrize("bad", [None, 42, bytearray(b"x"), ["INBOX"]])
def test_wrong_types_raise_type_error(bad: object) -> None:
    with pytest.raises(TypeError):
        encode(bad)
    with pytest.raises(TypeError):
        decode(bad)


def test_encode_lone_surrogate_raises_value_error() -> None:
    with pytest.raises(ValueError, match="cannot encode"):
        encode("bad \udcff name")


def test_long_names() -> None:
    ascii_part = "x" * 100_000
    text = ascii_part + "ü" * 10_000 + ascii_part
    encoded = encode(text)
    assert encoded.startswith(ascii_part.encode())
    assert decode(encoded) == text
    assert decode(encoded, strict=True) == text


# (input, lenient result, fragment of the strict error message)
MALFORMED = [
    # Unterminated shifts.
    (b"&", "&", "unterminated"),
    (b"abc&", "abc&", "unterminated"),
    (b"&Jjo", "&Jjo", "unterminated"),
    (b"a&Jjo&-", "a&Jjo&", "unterminated"),
    # Characters outside the modified base64 alphabet.
    (b"&AOk=-", "&AOk=-", "unterminated"),
    (b"&AO/k-", "&AO/k-", "unterminated"),
    (b"&AOk x-", "&AOk x-", "unterminated"),
    # Length that cannot come from whole bytes.
    (b"&A-", "&A-", "base64 length"),
    (b"&AOkAO-", "&AOkAO-", "base64 length"),
    # Odd number of UTF-16 bytes.
    (b"&AOkA-", "&AOkA-", "odd number"),
    # Unpaired surrogates.
    (b"&2D0-", "&2D0-", "surrogate"),
    (b"&3gA-", "&3gA-", "surrogate"),
    (b"&2D3YPQ-", "&2D3YPQ-", "surrogate"),
    # A bad shift does not spoil good ones around it.
    (b"&AOk-/&2D0-/&AOk-", "é/&2D0-/é", "surrogate"),
]


@pytest.mark.parametrize(("raw", "lenient", "_message"), MALFORMED)
def test_malformed_lenient_keeps_text_literally(raw: bytes, lenient: str, _message: str) -> None:
    assert decode(raw) == lenient


@pytest.mark.parametrize(("raw", "_lenient", "message"), MALFORMED)
def test_malformed_strict_raises(raw: bytes, _lenient: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode(raw, strict=True)


@pytest.mark.parametrize(
    "raw",
    [
        b"&AGE-",  # "a", which must represent itself
        b"&ACY-",  # "&", which must be written "&-"
        b"&AOkAYQ-",  # "\xe9a": the "a" must be outside the shift
        b"&AOl-",  # "\xe9" with non-zero padding bits
    ],
)
def test_non_canonical_strict_only(raw: bytes) -> None:
    decode(raw)  # lenient: accepted
    with pytest.raises(ValueError, match="non-canonical"):
        decode(raw, strict=True)


def test_non_canonical_lenient_values() -> None:
    assert decode(b"&AGE-") == "a"
    assert decode(b"&AOkAYQ-") == "éa"


def test_raw_utf8_lenient() -> None:
    # Servers with UTF8=ACCEPT, or broken ones, send raw UTF-8.
    assert decode("Entwürfe".encode()) == "Entwürfe"
    assert decode("台北 &AOk-".encode()) == "台北 é"


def test_raw_invalid_utf8_falls_back_to_latin1() -> None:
    assert decode(b"\xe9t\xe9") == "été"


@pytest.mark.parametrize(
    "raw", [b"Entw\xc3\xbcrfe", b"\xe9t\xe9", b"a\x00b", b"tab\there", b"\x7f"]
)
def test_strict_rejects_bytes_outside_printable_ascii(raw: bytes) -> None:
    with pytest.raises(ValueError, match="non-"):
        decode(raw, strict=True)


def test_lenient_decode_of_control_characters() -> None:
    assert decode(b"a\x00b") == "a\x00b"


@given(st.text())
def test_round_trip(text: str) -> None:
    assert decode(encode(text)) == text


@given(st.text())
def test_encoder_output_is_canonical(text: str) -> None:
    assert decode(encode(text), strict=True) == text


@given(st.text())
def test_encode_output_is_printable_ascii(text: str) -> None:
    encoded = encode(text)
    assert PRINTABLE.fullmatch(encoded)
    assert b"\r" not in encoded
    assert b"\n" not in encoded
    assert b"\x00" not in encoded


@given(st.text(alphabet=st.characters(min_codepoint=0x80, codec="utf-8"), min_size=1))
def test_matches_stdlib_utf7_for_non_ascii_runs(text: str) -> None:
    # Independent oracle: RFC 2152 UTF-7 differs only in "+" for "&" and "/" for ",".
    reference = text.encode("utf-7")
    assert reference.startswith(b"+")
    assert reference.endswith(b"-")
    assert encode(text) == b"&" + reference[1:-1].replace(b"/", b",") + b"-"


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_printable_ascii_is_literal_except_ampersand(text: str) -> None:
    assert encode(text) == text.replace("&", "&-").encode("ascii")


NASTY = st.binary() | st.lists(
    st.sampled_from(
        [b"&", b"-", b"A", b"O", b"k", b"2D0", b"3gA", b",", b"+", b"=", b"/", b"\xc3"]
    ),
).map(b"".join)


@given(NASTY)
def test_lenient_decode_never_raises(raw: bytes) -> None:
    assert isinstance(decode(raw), str)


@given(NASTY)
def test_strict_decode_raises_only_value_error(raw: bytes) -> None:
    try:
        text = decode(raw, strict=True)
    except ValueError:
        return
    # Whatever strict mode accepts is canonical, so it re-encodes identically.
    assert encode(text) == raw
