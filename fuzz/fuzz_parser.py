"""Fuzz target: the response parser (src/imapclient/protocol/parser.py), alone and behind
the framer.

Input layout: the last byte picks the mode (``ConsumeIntInRange(0, 3)``, read from the
back); the rest depends on it:

* mode 0 (one response): the remaining bytes are parsed as one complete response by
  three parsers: default tolerances, ``STRICT``, and default tolerances with
  ``max_depth=4``;
* mode 1 (stream): two choices from the back, tolerances (a ``Tolerance`` bitmask,
  two bytes) and a limit scale (0-255: 0 means default limits, otherwise line and
  literal limits of ``16 * scale`` bytes); the remaining bytes are a server stream fed
  whole to a Framer, every response it frames is parsed, then EOF;
* mode 2 (structured): a base response from :data:`VALID_RESPONSES` (0-255, modulo its
  length), a count of mutations (0-8), then per mutation an operation and its arguments;
  the mutated response is parsed with default and STRICT tolerances. With no mutation the
  parse must succeed: the base responses are all valid;
* modes 0 and 2 also check the compiled FETCH readers (fastfetch.py) against the general
  parser: whatever a reader accepts, it must read as the general parser does;
* mode 3 (one response, chosen tolerances): tolerances (two bytes) and a depth limit
  (1-254, or 255 for 1,000,000: past the interpreter's recursion limit) from the back;
  the rest is parsed as one response.

Checks: nothing but :class:`ProtocolError` (``LimitExceededError`` included) escapes
``Parser.parse`` or ``Framer``; never ``RecursionError``, ``IndexError``, ``ValueError``,
``OverflowError``, ``UnicodeError``, ``KeyError``, ``TypeError`` ...; ``Framer.eof`` raises
only :class:`ConnectionClosedError`; every result is a ``StatusResponse``,
``UntaggedResponse`` or ``ContinuationRequest`` and its ``repr`` works.
"""

from __future__ import annotations

from typing import Any

import _common

with _common.instrumented():
    from imapclient.exceptions import ConnectionClosedError, ProtocolError
    from imapclient.protocol.fastfetch import shape_for
    from imapclient.protocol.framing import Framer
    from imapclient.protocol.limits import DEFAULT_LIMITS, Limits
    from imapclient.protocol.parser import Parser, _Cursor
    from imapclient.protocol.responses import (
        ContinuationRequest,
        StatusResponse,
        UntaggedResponse,
    )
    from imapclient.protocol.tolerances import DEFAULT_TOLERANCES, STRICT, Tolerance

_RESPONSE_TYPES = (StatusResponse, UntaggedResponse, ContinuationRequest)
_ALL_TOLERANCES = sum(flag.value for flag in Tolerance)

#: Valid responses (final CRLF removed, as the framer returns them) that the structured
#: mode mutates. Written for this target from RFC 9051/3501 examples and what Gmail,
#: Dovecot and Exchange are known to send.
VALID_RESPONSES: tuple[bytes, ...] = (
    b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
    b"AUTH=PLAIN] Dovecot ready.",
    b"A1 OK [CAPABILITY IMAP4rev1 UIDPLUS MOVE CONDSTORE] Logged in",
    b"* 172 EXISTS",
    b"* 1 RECENT",
    b"* 44 EXPUNGE",
    b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)",
    b"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited",
    b"* OK [UIDVALIDITY 3857529045] UIDs valid",
    b"* OK [UIDNEXT 4392] Predicted next UID",
    b"* OK [HIGHESTMODSEQ 715194045007]",
    b"A142 OK [READ-WRITE] SELECT completed",
    b"A3 OK [APPENDUID 38505 3955] APPEND completed",
    b"A4 OK [COPYUID 38505 304,319:320 3956:3958] Done",
    b"A5 NO [TRYCREATE] No such mailbox",
    b"A6 BAD [BADCHARSET (UTF-8 US-ASCII)] Unsupported charset",
    b'* LIST (\\HasNoChildren) "/" INBOX',
    b'* LIST (\\HasChildren \\Noselect) "." "Public Folders"',
    b"* LIST () NIL {8}\r\nfoo\r\nbar",
    b'* LIST (\\Subscribed) "/" "Foo" ("CHILDINFO" ("SUBSCRIBED") "OLDNAME" ("Bar"))',
    b'* LSUB () "/" ~/Mail/foo',
    b'* STATUS "blurdybloop" (MESSAGES 231 UIDNEXT 44292 UNSEEN 3)',
    b"* STATUS INBOX (MAILBOXID (F2212ea87-6097-4256-9d51-71338625) SIZE 1024) ",
    b"* SEARCH 2 84 882",
    b"* SEARCH",
    b"* SEARCH 2 5 6 (MODSEQ 917162500)",
    b"* SORT 5 3 4 1 2",
    b'* ESEARCH (TAG "A282") UID MIN 2 COUNT 3 ALL 2,10:11',
    b'* ESEARCH (TAG "A1" MAILBOX "INBOX" UIDVALIDITY 3) UID PARTIAL (-1:-100 200:250)',
    b"* THREAD (2)(3 6 (4 23)(44 7 96))",
    b'* NAMESPACE (("" "/")) (("~" "/")) (("#shared/" "/")("#public/" "/"))',
    b"* NAMESPACE NIL NIL NIL",
    b"* ENABLED CONDSTORE QRESYNC",
    b'* ID ("name" "Dovecot" "version" NIL "support-url" "http://example.org/")',
    b"* VANISHED (EARLIER) 300:310,405,411",
    b"* ACL INBOX Fred rwipslxetad Chris lrswi",
    b"* LISTRIGHTS ~/Mail/saved smith la r swicdkxte",
    b"* MYRIGHTS INBOX rwiptsldaex",
    b'* QUOTA "" (STORAGE 10 512 MESSAGE 3 1000)',
    b'* QUOTAROOT INBOX ""',
    b'* METADATA "" (/shared/comment "My comment" /private/comment NIL)',
    b"* METADATA INBOX /shared/comment /private/comment",
    b"* CAPABILITY IMAP4rev1 IMAP4rev2 STARTTLS AUTH=GSSAPI LOGINDISABLED",
    b"* BYE Autologout; idle for too long",
    b"* PREAUTH IMAP4rev1 server logged in as Smith",
    b"+ Ready for additional command text",
    b"+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=",
    b"+",
    b'* 12 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" '
    b'RFC822.SIZE 4286 ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" '
    b'"IMAP4rev1 WG mtg summary and minutes" (("Terry Gray" NIL "gray" '
    b'"cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) '
    b'(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" '
    b'"cac.washington.edu")) ((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" '
    b'NIL "KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>") '
    b'BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))',
    b"* 2 FETCH (UID 42 BODY[HEADER.FIELDS (SUBJECT FROM)] {39}\r\n"
    b"Subject: hello\r\nFrom: a@example.org\r\n\r\n)",
    b"* 3 FETCH (BODY[]<0> {5}\r\nHello BINARY[1] ~{4}\r\nab\x00c BINARY.SIZE[1] 4)",
    b'* 4 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL '
    b'"QUOTED-PRINTABLE" 1234 40 NIL NIL NIL NIL)("APPLICATION" "PDF" ("NAME" '
    b'"a.pdf") NIL NIL "BASE64" 52000 NIL ("ATTACHMENT" ("FILENAME" "a.pdf")) '
    b'NIL NIL) "MIXED" ("BOUNDARY" "xyz") NIL NIL NIL))',
    b'* 5 FETCH (BODYSTRUCTURE ("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 3000 '
    b'(NIL "sub" NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" NIL NIL NIL '
    b'"7BIT" 20 1) 60))',
    b"* 6 FETCH (X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 "
    b'X-GM-LABELS (\\Inbox \\Sent Important "Muy Importante") UID 7 MODSEQ (12121))',
    b'* 7 FETCH (EMAILID (M6d99ac3275bb4e) THREADID NIL SAVEDATE NIL PREVIEW "Hi")',
    b'* 8 FETCH (FLAGS (\\Seen $Label[1]) RFC822.SIZE 1.2E3 BODY ("TEXT" "PLAIN" NIL '
    b'NIL NIL "7BIT" -1 -1))',
    b'* 9 FETCH (RFC822.HEADER NIL RFC822.TEXT "" RFC822 {0}\r\n)',
    b"A7 OK [MODIFIED 7,9] Conditional STORE failed",
    b"* OK [CLOSED] Previous mailbox closed",
    b"* NO [ALERT] System shutdown in 10 minutes",
    b"* 3 XFOO some unknown data",
    b'* XUNKNOWN (1 2 (3)) "x"',
    b"A8 OK",
    b"A9 NO [COPYUID 1] bad Exchange COPYUID",
    # Listing shapes the compiled readers of fastfetch.py take (see the differential
    # check in mode 2).
    b'* 21 FETCH (UID 21 FLAGS (\\Answered \\Seen $Work x) INTERNALDATE '
    b'"01-Jan-2023 14:39:00 +0000" RFC822.SIZE 2977)',
    b'* 15 FETCH (UID 15 ENVELOPE ("Mon, 02 Jan 2023 23:21:13 +0200" "Fwd: \\"x\\"" '
    b'(("Carol" NIL "carol" "news.example")) (("Carol" NIL "carol" "news.example")) NIL '
    b'(("Alice" NIL "alice" "example.org")) NIL NIL NIL "<14@news.example>") BODYSTRUCTURE '
    b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 572 9 NIL NIL NIL NIL)'
    b'("message" "rfc822" NIL NIL NIL "7bit" 887 ("Sun, 01 Jan 2023 20:36:38 +0000" "Hi" '
    b'(("A" NIL "a" "b")) NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "utf-8") '
    b'NIL NIL "quoted-printable" 568 10 NIL ("inline" NIL) ("en" "de") NIL) 19 NIL '
    b'("attachment" ("filename" "a.eml")) NIL NIL) "mixed" ("boundary" "=_14") NIL NIL NIL))',
    b"* 31 FETCH (UID 31 MODSEQ (77) BODY[] {5}\r\nHello X-GM-MSGID 99)",
    # A literal subject (the line readers' fallback).
    b'* 16 FETCH (UID 16 ENVELOPE ("Mon, 02 Jan 2023 23:21:13 +0200" {12}\r\nRe: a\r\n\tlong '
    b'(("Carol" NIL "carol" "news.example")) NIL NIL (("Alice" NIL "alice" "example.org")) '
    b'NIL NIL NIL "<16@news.example>") BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") '
    b'NIL NIL "7bit" 12 1 NIL NIL NIL NIL))',
)


def _check(result: Any) -> None:
    assert isinstance(result, _RESPONSE_TYPES), result
    repr(result)


def _parse(parser: Parser, data: bytes) -> Any:
    try:
        result = parser.parse(data)
    except ProtocolError:
        return None
    _check(result)
    return result


_PARSERS = (
    Parser(),
    Parser(tolerances=STRICT),
    Parser(Limits(max_depth=4)),
)
_DEFAULT = _PARSERS[0]
_FRESH = Parser()  # parses only the valid base responses

#: Tokens the structured mode splices in.
_TOKENS = (
    b" ",
    b"(",
    b")",
    b"[",
    b"]",
    b'"',
    b"\\",
    b"{",
    b"}",
    b"~",
    b"<",
    b">",
    b"NIL",
    b"nil",
    b"0",
    b"-1",
    b"1.2E3",
    b"1e999",
    b"18446744073709551616",
    b"99999999999999999999",
    b"4294967295:1",
    b"\r\n",
    b"\n",
    b"\r",
    b"\x00",
    b"\xff",
    b"{0}\r\n",
    b"{3}\r\n",
    b"~{2}\r\n",
    b"{99999999999999999999999}\r\n",
    b"()",
    b"(" * 120,
    b")" * 120,
    b"BODY[",
    b"BINARY[1]",
    b"<0>",
    b"\\*",
    b"*",
    b"+",
    b"%",
    b'"31-Feb-2024 25:61:61 +9999"',
    b'"Mon, 1 Jan 0000 00:00:00 -2400"',
)


def _mutate(fdp: Any) -> tuple[bytes, int, bytes]:
    original = VALID_RESPONSES[fdp.ConsumeIntInRange(0, 255) % len(VALID_RESPONSES)]
    base = bytearray(original)
    count = fdp.ConsumeIntInRange(0, 8)
    for _ in range(count):
        op = fdp.ConsumeIntInRange(0, 7)
        size = len(base)
        pos = fdp.ConsumeIntInRange(0, 255) * (size + 1) // 256
        if op == 0:  # insert fuzz bytes
            base[pos:pos] = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 16))
        elif op == 1:  # delete a range
            del base[pos : pos + fdp.ConsumeIntInRange(1, 32)]
        elif op == 2:  # overwrite one byte
            if pos < size:
                base[pos] = fdp.ConsumeIntInRange(0, 255)
        elif op == 3:  # insert a token
            base[pos:pos] = _TOKENS[fdp.ConsumeIntInRange(0, 255) % len(_TOKENS)]
        elif op == 4:  # duplicate a range
            length = fdp.ConsumeIntInRange(1, 64)
            base[pos:pos] = base[pos : pos + length]
        elif op == 5:  # splice in part of another valid response
            other = VALID_RESPONSES[fdp.ConsumeIntInRange(0, 255) % len(VALID_RESPONSES)]
            start = fdp.ConsumeIntInRange(0, 255) * len(other) // 256
            base[pos:pos] = other[start : start + fdp.ConsumeIntInRange(1, 128)]
        elif op == 6:  # nest the rest of the response in parentheses
            depth = fdp.ConsumeIntInRange(1, 255)
            base[pos:] = b"(" * depth + base[pos:] + b")" * depth
        else:  # truncate
            del base[pos:]
    return bytes(base), count, original


def _differential(response: bytes, base: bytes | None = None) -> None:
    """Differential check of the compiled FETCH readers (fastfetch.py): the reader of the
    response's own shape, and of ``base``'s, may decline it; if one reads it, it must
    give what the general parser (alone, no shape) gives."""
    try:
        general: Any = _Cursor(response, DEFAULT_LIMITS, DEFAULT_TOLERANCES).response()
    except ProtocolError:
        general = None
    candidates = []
    if isinstance(general, UntaggedResponse) and general.name == b"FETCH":
        candidates.append(tuple(general.data))
    if base is not None:
        reference = _FRESH.parse(base)
        if isinstance(reference, UntaggedResponse) and reference.name == b"FETCH":
            candidates.append(tuple(reference.data))
    for keys in candidates:
        shape = shape_for(keys)
        fast = shape.read(response, DEFAULT_LIMITS.max_depth) if shape is not None else None
        if fast is None:
            continue
        assert isinstance(general, UntaggedResponse), ("fast path accepted", response, general)
        assert (fast[0], dict(fast[1])) == (general.number, dict(general.data)), response
    for keys in candidates:
        # The same straight from a receive buffer, with other bytes after the data that
        # the reader must not look at, and cut one byte short.
        shape = shape_for(keys)
        if shape is None:
            continue
        line = response + b"\r\n"
        buf = bytearray(line + line)
        view, depth = memoryview(buf), DEFAULT_LIMITS.max_depth
        got = shape.read_line(buf, view, 0, len(line), depth)
        if got is not None:
            assert isinstance(general, UntaggedResponse), ("line reader accepted", response)
            assert got[2] == len(line), (response, got)
            assert (got[0], dict(got[1])) == (general.number, dict(general.data)), response
        assert shape.read_line(buf, view, 0, len(line) - 1, depth) is None


def _stream(fdp: Any) -> None:
    tolerances = Tolerance(fdp.ConsumeIntInRange(0, _ALL_TOLERANCES))
    scale = fdp.ConsumeIntInRange(0, 255)
    if scale:
        limits = Limits(
            max_line_length=16 * scale,
            max_literal_size=16 * scale,
            max_response_size=64 * scale,
            max_depth=max(1, scale // 2),
        )
    else:
        limits = DEFAULT_LIMITS
    framer = Framer(limits, tolerances)
    parser = Parser(limits, tolerances)
    try:
        framer.feed(fdp.ConsumeBytes(fdp.remaining_bytes()))
        while (raw := framer.next_response()) is not None:
            _check(parser.parse(raw))
    except ProtocolError:
        return
    try:
        framer.eof()
    except ConnectionClosedError:
        pass


def test_one_input(data: bytes) -> None:
    fdp = _common.provider(data)
    mode = fdp.ConsumeIntInRange(0, 3)
    if mode == 0:
        payload = fdp.ConsumeBytes(fdp.remaining_bytes())
        for parser in _PARSERS:
            _parse(parser, payload)
        _differential(payload)
    elif mode == 1:
        _stream(fdp)
    elif mode == 2:
        response, mutations, base = _mutate(fdp)
        result = _parse(_DEFAULT, response)
        if mutations == 0:
            assert result is not None, ("a valid response failed to parse", response)
        _parse(_PARSERS[1], response)
        _differential(response, base)
    else:
        tolerances = Tolerance(fdp.ConsumeIntInRange(0, _ALL_TOLERANCES))
        depth = fdp.ConsumeIntInRange(1, 255)
        if depth == 255:  # beyond the interpreter's recursion limit
            parser = Parser(Limits(max_depth=1_000_000), tolerances)
            try:
                result = parser.parse(fdp.ConsumeBytes(fdp.remaining_bytes()))
            except ProtocolError:
                return
            assert isinstance(result, _RESPONSE_TYPES), type(result)  # no repr: too deep
            return
        parser = Parser(Limits(max_depth=depth), tolerances)
        _parse(parser, fdp.ConsumeBytes(fdp.remaining_bytes()))


if __name__ == "__main__":
    _common.main("parser", test_one_input)
