"""Compiled fast paths for the FETCH responses of a mailbox listing.

Listing a mailbox means thousands of FETCH responses with the same items in the same
order. Once the general parser (:mod:`.parser`) has read one, its item sequence -- its
*shape*, such as ``UID FLAGS INTERNALDATE RFC822.SIZE`` -- is compiled here into one
anchored regular expression with a converter per item, and the following responses are
matched whole by it: one regex match per response instead of one per token. ENVELOPE is
one sub-pattern with one ``findall`` per address list; BODYSTRUCTURE, which nests without
bound, has a reader of its own that takes one regex match per body part.

The general parser stays the reference. Whatever a compiled shape does not match exactly
(a literal, a lower-case NIL, an atom where a string belongs, a tolerated deviation, an
odd date, a message/rfc822 part, ...) is declined and goes to the general parser, and
for every response both accept, both return equal values: ``tests/protocol/
test_fastfetch.py`` checks that on generated responses and on captured server output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from ..datetime_util import _offset
from ..response_types import Address, BodyData, Envelope, ResponseDict
from .framing import Literals
from .lexical import FLAG, MONTHS, fixed_zone, unquote

__all__ = ["INTERNALDATE", "Shape", "internaldate", "shape_for"]


class _Decline(Exception):
    """The compiled shape cannot read this response exactly: the general parser will."""


# --- strict token patterns (RFC 9051 section 9); anything else is declined ------------

_Q = rb'"[^"\\\r\n]*(?:\\["\\][^"\\\r\n]*)*"'  # quoted, quotes included
_NQ = rb"(?:NIL|" + _Q + rb")"  # nstring without literals
_NUM = rb"\d{1,20}"
# body-fld-param, body-fld-dsp, body-fld-lang
_PARAMS = rb"(?:NIL|\(" + _Q + rb" " + _Q + rb"(?: " + _Q + rb" " + _Q + rb")*\))"
_DSP = rb"(?:NIL|\(" + _Q + rb" " + _PARAMS + rb"\))"
_LANG = rb"(?:" + _NQ + rb"|\(" + _Q + rb"(?: " + _Q + rb")*\))"
# body-fld-dsp, body-fld-lang and body-fld-loc, each optional only if all after it are
# absent; further body-extensions are declined.
_EXT_TAIL = rb"(?: (" + _DSP + rb")(?: (" + _LANG + rb")(?: (" + _NQ + rb"))?)?)?"


def _groups(*patterns: bytes) -> bytes:
    """The patterns as capturing groups separated by SP."""
    return b" ".join(b"(" + p + b")" for p in patterns)


# body-type-basic's fields before the size: type subtype params id description encoding
_FIELDS = _groups(_Q, _Q, _PARAMS, _NQ, _NQ, _Q)
# body-type-1part except message/rfc822: (fields) size [lines] [md5 [dsp [lang [loc]]]]
_LEAF = re.compile(
    rb"\(("
    + _FIELDS
    + rb") ("
    + _NUM
    + rb")(?: ("
    + _NUM
    + rb"))?((?: ("
    + _NQ
    + rb")"
    + _EXT_TAIL
    + rb")?)\)"
)
# The end of body-type-mpart after its parts: SP subtype [SP params [dsp [lang [loc]]]]
_MPART_END = re.compile(rb" (" + _Q + rb")(?: (" + _PARAMS + rb")" + _EXT_TAIL + rb")?\)")
_DSP_PARTS = re.compile(rb"\(" + _groups(_Q, _PARAMS) + rb"\)")
_Q_CONTENT = re.compile(rb'"([^"\\\r\n]*(?:\\["\\][^"\\\r\n]*)*)"')

_ADDRESS_FIELDS = _groups(_NQ, _NQ, _NQ, _NQ)
_ADDRESS = re.compile(rb"\(" + _ADDRESS_FIELDS + rb"\)")
_ADDRESS_TEXT = re.compile(rb"\(" + b" ".join([_NQ] * 4) + rb"\)")
_ADDRESS_LIST = rb"(?:NIL|\((?:" + _ADDRESS_TEXT.pattern + rb")+\))"
# envelope: date subject from sender reply-to to cc bcc in-reply-to message-id
_ENVELOPE = rb"\(" + _groups(_NQ, _NQ, *[_ADDRESS_LIST] * 6, _NQ, _NQ) + rb"\)"
# body-type-msg: the fields and the size, the envelope, then the nested body (read by
# _read_body); after it SP lines [md5 [dsp [lang [loc]]]].
_MESSAGE_HEAD = re.compile(rb"\(" + _FIELDS + rb" (" + _NUM + rb") " + _ENVELOPE + rb" (?=\()")
_MESSAGE_END = re.compile(rb" (" + _NUM + rb")(?: (" + _NQ + rb")" + _EXT_TAIL + rb")?\)")

# The common Date: header shape; others go to datetime_util.parse_to_datetime.
_ENV_DATE = re.compile(
    rb"(?:[A-Za-z]{3}, )?(\d{1,2} [A-Za-z]{3} \d{4}) (\d\d):(\d\d):(\d\d) ([+-]\d{4})"
    rb"(?: \([A-Za-z]*\))?\Z"
)
#: date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
INTERNALDATE = rb'" ?(\d{1,2}-[A-Za-z]{3}-\d{4}) (\d\d):(\d\d):(\d\d) ([+-]\d{4})"'


# --- converters: raw tokens to the general parser's values ----------------------------


def _string(token: bytes) -> bytes:
    return unquote(token[1:-1])


def _nstring(token: bytes) -> bytes | None:
    return None if token == b"NIL" else unquote(token[1:-1])


def _strings(token: bytes) -> tuple[bytes, ...]:
    found = _Q_CONTENT.findall(token)
    if b"\\" in token:
        return tuple(unquote(s) for s in found)
    return tuple(found)


def _params(token: bytes) -> tuple[bytes, ...] | None:
    return None if token == b"NIL" else _strings(token)


def _dsp(token: bytes) -> tuple[bytes, tuple[bytes, ...] | None] | None:
    if token == b"NIL":
        return None
    m = _DSP_PARTS.match(token)
    assert m is not None  # the enclosing pattern matched the same text
    return (_string(m.group(1)), _params(m.group(2)))


def _lang(token: bytes) -> bytes | tuple[bytes, ...] | None:
    if token == b"NIL":
        return None
    return _string(token) if token[0] == 0x22 else _strings(token)


def _extensions(
    fields: list[Any], dsp: bytes | None, lang: bytes | None, loc: bytes | None
) -> None:
    if dsp is not None:
        fields.append(_dsp(dsp))
        if lang is not None:
            fields.append(_lang(lang))
            if loc is not None:
                fields.append(_nstring(loc))


# Parts differ mostly in size and line count: what surrounds them is converted once per
# distinct text. Values are immutable, so sharing them between results is safe.
_LEAF_CACHE: dict[tuple[bytes, bytes], tuple[tuple[Any, ...], tuple[Any, ...], bool]] = {}


def _leaf(m: re.Match[bytes]) -> BodyData:
    head, size, lines, ext = m.group(1, 8, 9, 10)
    key = (head, ext)
    cached = _LEAF_CACHE.get(key)
    if cached is None:
        cached = _leaf_fields(m)
        if len(_LEAF_CACHE) >= 4096:
            _LEAF_CACHE.clear()
        _LEAF_CACHE[key] = cached
    before, after, text = cached
    if lines is None:
        if text and after:
            raise _Decline  # TEXT without its line count: the general parser's verdict
        return BodyData((*before, int(size), *after))
    return BodyData((*before, int(size), int(lines), *after))


def _leaf_fields(m: re.Match[bytes]) -> tuple[tuple[Any, ...], tuple[Any, ...], bool]:
    """The fields before the size, those after the size and line count, and whether
    the type is TEXT."""
    type_, subtype, params, id_, desc, enc = m.group(2, 3, 4, 5, 6, 7)
    md5, dsp, lang, loc = m.group(11, 12, 13, 14)
    media = _string(type_)
    sub = _string(subtype)
    upper = media.upper()
    if upper == b"MESSAGE" and sub.upper() in (b"RFC822", b"GLOBAL"):
        raise _Decline  # body-type-msg needs an envelope and a body: not this pattern
    after: list[Any] = []
    if md5 is not None:
        after.append(_nstring(md5))
        _extensions(after, dsp, lang, loc)
    before = (media, sub, _params(params), _nstring(id_), _nstring(desc), _string(enc))
    return before, tuple(after), upper == b"TEXT"


def _read_body(
    buf: bytes, pos: int, max_depth: int, literals: Literals | None
) -> tuple[BodyData, int]:
    """body (BODY / BODYSTRUCTURE) at ``pos``: one match per part, with a stack of the
    enclosing multiparts (lists of their parts so far) and message/rfc822 parts (tuples
    of their fields before the nested body)."""
    stack: list[list[BodyData] | tuple[Any, ...]] = []
    while True:
        while buf.startswith(b"((", pos):  # body-type-mpart opens
            stack.append([])
            pos += 1
        # The general parser counts FETCH's "(" as depth 1: a leaf at nesting L reaches
        # 4 + L with a disposition's parameters, an envelope 5 + L. Near the limit the
        # general parser decides alone.
        if len(stack) + 5 > max_depth:
            raise _Decline
        m = _LEAF.match(buf, pos)
        if m is None:
            m = _MESSAGE_HEAD.match(buf, pos)
            if m is None:
                raise _Decline
            stack.append(_message_head(m))
            pos = m.end()
            continue
        part = _leaf(m)
        pos = m.end()
        while stack:
            frame = stack[-1]
            if type(frame) is tuple:  # the nested body of a message/rfc822 part
                m = _MESSAGE_END.match(buf, pos)
                if m is None:
                    raise _Decline
                lines, md5, dsp, lang, loc = m.groups()
                fields = [*frame, part, int(lines)]
                if md5 is not None:
                    fields.append(_nstring(md5))
                    _extensions(fields, dsp, lang, loc)
            else:
                frame.append(part)  # type: ignore[union-attr]
                if buf.startswith(b"(", pos):
                    break  # the next part of the same multipart
                m = _MPART_END.match(buf, pos)
                if m is None:
                    raise _Decline
                subtype, params, dsp, lang, loc = m.groups()
                fields = [frame, _string(subtype)]
                if params is not None:
                    fields.append(_params(params))
                    _extensions(fields, dsp, lang, loc)
            stack.pop()
            part = BodyData(fields)
            pos = m.end()
        else:
            return part, pos


def _message_head(m: re.Match[bytes]) -> tuple[Any, ...]:
    g = m.groups()
    media, sub = _string(g[0]), _string(g[1])
    if media.upper() != b"MESSAGE" or sub.upper() not in (b"RFC822", b"GLOBAL"):
        raise _Decline  # a list where no other type has one
    return (
        media,
        sub,
        _params(g[2]),
        _nstring(g[3]),
        _nstring(g[4]),
        _string(g[5]),
        int(g[6]),
        _raw_envelope(g, 7),
    )


_ZONES: dict[bytes, timezone] = {}


def _envelope_zone(zone: bytes) -> timezone:
    # datetime_util's rule (UTC for a zero offset), once per distinct offset.
    try:
        tz = _offset(None, zone.decode("ascii"))
    except ValueError:
        raise _Decline from None
    if len(_ZONES) < 1024:
        _ZONES[zone] = tz
    return tz


def _envelope_date(raw: bytes) -> datetime:
    m = _ENV_DATE.match(raw)
    if m is None:
        raise _Decline
    text, hh, mm, ss, zone = m.groups()
    day = _DAYS.get(text) or _day_of(text)
    tz = _ZONES.get(zone)
    if tz is None:
        tz = _envelope_zone(zone)
    try:
        return datetime(*day, int(hh), int(mm), min(int(ss), 59), tzinfo=tz)
    except ValueError:
        raise _Decline from None


_ENV_DAY_SECONDS: dict[bytes, int] = {}
_ENV_ZONE_SECONDS: dict[bytes, int] = {}
_ENV_SECONDS = {b"%02d" % n: min(n, 59) for n in range(100)}  # as _envelope_date()


def _envelope_date_local(raw: bytes) -> datetime:
    """datetime_to_native(_envelope_date(raw)), without making the aware value."""
    m = _ENV_DATE.match(raw)
    if m is None:
        raise _Decline
    text, hh, mm, ss, zone = m.groups()
    day = _ENV_DAY_SECONDS.get(text)
    if day is None:
        year, month, d = _DAYS.get(text) or _day_of(text)
        try:
            day = date(year, month, d).toordinal() * 86400
        except ValueError:
            raise _Decline from None
        if len(_ENV_DAY_SECONDS) >= 4096:
            _ENV_DAY_SECONDS.clear()
        _ENV_DAY_SECONDS[text] = day
    offset = _ENV_ZONE_SECONDS.get(zone)
    if offset is None:
        tz = _ZONES.get(zone) or _envelope_zone(zone)
        offset = _EPOCH_SECONDS + int(tz.utcoffset(None).total_seconds())
        if len(_ENV_ZONE_SECONDS) < 1024:
            _ENV_ZONE_SECONDS[zone] = offset
    try:
        return datetime.fromtimestamp(
            day + _HOURS[hh] + _MINUTES[mm] + _ENV_SECONDS[ss] - offset
        )
    except (KeyError, OverflowError, OSError, ValueError):
        raise _Decline from None


# Addresses and whole address lists recur (the account's own, frequent correspondents,
# the same recipients): each distinct text is converted once. Values are immutable, so
# sharing them between results is safe.
_ADDRESS_CACHE: dict[bytes, Address] = {}
_LIST_CACHE: dict[bytes, tuple[Address, ...]] = {}
_new_tuple = tuple.__new__  # NamedTuple's own __new__ is a Python function: skipped


def _addresses(token: bytes) -> tuple[Address, ...]:
    found = _LIST_CACHE.get(token)
    if found is not None:
        return found
    out = []
    cache = _ADDRESS_CACHE
    for text in _ADDRESS_TEXT.findall(token):
        address = cache.get(text)
        if address is None:
            m = _ADDRESS.match(text)
            assert m is not None  # the same text matched the envelope's pattern
            address = _new_tuple(Address, map(_nstring, m.groups()))
            if len(cache) >= 4096:
                cache.clear()
            cache[text] = address
        out.append(address)
    found = tuple(out)
    if len(_LIST_CACHE) >= 4096:
        _LIST_CACHE.clear()
    _LIST_CACHE[token] = found
    return found


def _raw_envelope(g: tuple[Any, ...], i: int) -> tuple[Any, ...]:
    """An envelope as the general parser leaves it inside a message/rfc822 body
    structure: nested tuples, NIL as None."""
    lists = [
        None
        if token == b"NIL"
        else tuple([tuple(map(_nstring, a)) for a in _ADDRESS.findall(token)])
        for token in g[i + 2 : i + 8]
    ]
    return (_nstring(g[i]), _nstring(g[i + 1]), *lists, _nstring(g[i + 8]), _nstring(g[i + 9]))


def _envelope(g: tuple[Any, ...], i: int) -> Envelope:
    return _make_envelope(g, i, _envelope_date)


def _envelope_local(g: tuple[Any, ...], i: int) -> Envelope:
    """:func:`_envelope` with the date as the naive local time ``normalise_times``
    gives (see Shape.read_line_local)."""
    return _make_envelope(g, i, _envelope_date_local)


def _make_envelope(
    g: tuple[Any, ...],
    i: int,
    date_of: Callable[[bytes], datetime],
    subject: bytes | None = None,
) -> Envelope:
    # ``subject``: a literal's data (see _read_envelope_literal); else it is in ``g``.
    raw_date = _nstring(g[i])
    lists: list[tuple[Address, ...] | None] = []
    last_token = last = None
    for token in g[i + 2 : i + 8]:
        if token == b"NIL":
            lists.append(None)
        elif token == last_token:  # From, Sender and Reply-To are usually the same
            lists.append(last)
        else:
            last_token, last = token, _addresses(token)
            lists.append(last)
    return _new_tuple(
        Envelope,
        (
            date_of(raw_date) if raw_date else None,
            _nstring(g[i + 1]) if subject is None else subject,
            *lists,
            _nstring(g[i + 8]),
            _nstring(g[i + 9]),
        ),
    )


# An envelope whose subject is a literal: Dovecot sends a subject that kept its folding
# (CRLF or TAB) that way. Up to the literal's data, then from just after it.
_ENVELOPE_TO_SUBJECT = re.compile(rb"\((" + _NQ + rb") \{(" + _NUM + rb")\}\r\n")
_ENVELOPE_AFTER_SUBJECT = re.compile(b" " + _groups(*[_ADDRESS_LIST] * 6, _NQ, _NQ) + rb"\)")


def _read_envelope_literal(
    buf: bytearray, view: memoryview, pos: int, endpos: int, date_of: Callable[[bytes], datetime]
) -> tuple[Envelope, int, int]:
    """An ENVELOPE with a literal subject, in the framer's buffer (a line reader's
    fallback, see _build): the envelope, where it ends, and the literal's size. Anything
    else, or a literal not wholly before ``endpos``, is declined."""
    m = _ENVELOPE_TO_SUBJECT.match(buf, pos, endpos)
    if m is None:
        raise _Decline
    start = m.end()
    end = start + int(m.group(2))
    if end > endpos:
        raise _Decline
    rest = _ENVELOPE_AFTER_SUBJECT.match(buf, end, endpos)
    if rest is None:
        raise _Decline
    groups = (m.group(1), None, *rest.groups())
    envelope = _make_envelope(groups, 0, date_of, bytes(view[start:end]))
    return envelope, rest.end(), end - start


_DAYS: dict[bytes, tuple[int, int, int]] = {}
_INTERNAL_ZONES: dict[bytes, timezone] = {}


def internaldate(groups: tuple[Any, ...]) -> datetime | None:
    """INTERNALDATE from the groups of :data:`INTERNALDATE` (the general parser's fast
    case too); None for a date ``datetime`` refuses or an unknown month."""
    try:
        day = _DAYS.get(groups[0]) or _day_of(groups[0])
        return datetime(
            day[0],
            day[1],
            day[2],
            _TWO[groups[1]],
            _TWO[groups[2]],
            _TWO[groups[3]],
            0,
            _INTERNAL_ZONES.get(groups[4]) or _zone_of(groups[4]),
        )
    except (ValueError, _Decline):
        return None


# Hours, minutes and seconds are two digits (the pattern says so): a table lookup is a
# third of the cost of int().
_TWO = {b"%02d" % n: n for n in range(100)}


def _day_of(text: bytes) -> tuple[int, int, int]:
    # "17-Jul-1996" (INTERNALDATE) or "17 Jul 1996" (an envelope's date, as the patterns
    # give them) -> (1996, 7, 17). A listing has few distinct days and zones: each is
    # converted once.
    day, month, year = text[:-9], text[-8:-5], text[-4:]
    number = MONTHS.get(month.lower())
    if number is None:
        raise _Decline
    if len(_DAYS) >= 4096:
        _DAYS.clear()
    found = _DAYS[text] = (int(year), number, int(day))
    return found


def _zone_of(text: bytes) -> timezone:
    zone = _INTERNAL_ZONES[text] = fixed_zone(text)
    return zone


# INTERNALDATE straight to the naive local time that ``normalise_times`` gives, for the
# listings that ask for it (see Shape): the POSIX timestamp is summed from tables and
# handed to ``fromtimestamp``, which is what datetime_to_native() does with the aware
# value, without making that value first. Day and zone entries are kept positive (days
# from 0001-01-01, the zone's offset plus the epoch's) so that a miss is never mistaken
# for a zero.
_EPOCH_SECONDS = date(1970, 1, 1).toordinal() * 86400
_DAY_SECONDS: dict[bytes, int] = {}
_ZONE_SECONDS: dict[bytes, int] = {}
_HOURS = {b"%02d" % n: n * 3600 for n in range(24)}
_MINUTES = {b"%02d" % n: n * 60 for n in range(60)}
_SECONDS = {b"%02d" % n: n for n in range(60)}  # 60, a leap second: datetime() decides


def _day_seconds(text: bytes) -> int:
    year, month, day = _DAYS.get(text) or _day_of(text)
    if len(_DAY_SECONDS) >= 4096:
        _DAY_SECONDS.clear()
    found = _DAY_SECONDS[text] = date(year, month, day).toordinal() * 86400  # ValueError
    return found


def _zone_seconds(text: bytes) -> int:
    offset = _INTERNAL_ZONES.get(text) or _zone_of(text)  # ValueError beyond 24 hours
    found = _ZONE_SECONDS[text] = _EPOCH_SECONDS + int(offset.utcoffset(None).total_seconds())
    return found


# A listing has few distinct flag lists: each is checked and split once. The shape's
# pattern only finds the parentheses; the flags are checked here, by the strict grammar.
_FLAG_LISTS: dict[bytes, tuple[bytes, ...]] = {}
_FLAG_LIST = re.compile(rb"(?:" + FLAG + rb"(?: " + FLAG + rb")*)?\Z")


def _flags_of(text: bytes) -> tuple[bytes, ...]:
    if _FLAG_LIST.match(text) is None:
        raise _Decline
    if len(_FLAG_LISTS) >= 4096:
        _FLAG_LISTS.clear()
    found = _FLAG_LISTS[text] = tuple(text.split(b" ")) if text else ()
    return found


# Converters written straight into the generated readers, as expressions of the groups
# ``g`` from index ``{i}``: the same code as internaldate(), without a call per item.
_FLAGS_EXPRESSION = "FLAG_LISTS.get(g[{i}]) or flags_of(g[{i}])"
_INTERNALDATE_EXPRESSION = (
    "datetime(*(DAYS.get(g[{i}]) or day_of(g[{i}])), TWO[g[{i} + 1]], TWO[g[{i} + 2]],"
    " TWO[g[{i} + 3]], 0, ZONES.get(g[{i} + 4]) or zone_of(g[{i} + 4]))"
)
# The same instant as _INTERNALDATE_EXPRESSION, as datetime_to_native() gives it.
_LOCAL_INTERNALDATE_EXPRESSION = (
    "fromtimestamp((DAY_SECONDS.get(g[{i}]) or day_seconds(g[{i}])) + HOURS[g[{i} + 1]]"
    " + MINUTES[g[{i} + 2]] + SECONDS[g[{i} + 3]]"
    " - (ZONE_SECONDS.get(g[{i} + 4]) or zone_seconds(g[{i} + 4])))"
)
_EXPRESSION_NAMES = {
    "fromtimestamp": datetime.fromtimestamp,
    "DAY_SECONDS": _DAY_SECONDS,
    "ZONE_SECONDS": _ZONE_SECONDS,
    "HOURS": _HOURS,
    "MINUTES": _MINUTES,
    "SECONDS": _SECONDS,
    "day_seconds": _day_seconds,
    "zone_seconds": _zone_seconds,
    "datetime": datetime,
    "DAYS": _DAYS,
    "ZONES": _INTERNAL_ZONES,
    "TWO": _TWO,
    "FLAG_LISTS": _FLAG_LISTS,
    "flags_of": _flags_of,
    "day_of": _day_of,
    "zone_of": _zone_of,
}


_Converter = Callable[[tuple[Any, ...], int], Any]
_LITERAL_ANNOUNCEMENT = re.compile(rb"\{(\d{1,20})\}\r\n")
# Message data items whose value is an nstring: BODY[section]<origin>, RFC822 ...
_NSTRING_KEY = re.compile(rb"(?:BODY\[[^\]\"]*\](?:<\d{1,20}>)?|RFC822(?:\.HEADER|\.TEXT)?)\Z")


def _read_nstring(
    buf: bytes, pos: int, max_depth: int, literals: Literals | None
) -> tuple[bytes | None, int]:
    """nstring, literals included: a message body, a header, a section."""
    c = buf[pos : pos + 1]
    if c == b"{":
        m = _LITERAL_ANNOUNCEMENT.match(buf, pos)
        if m is None:
            raise _Decline
        size = int(m.group(1))
        start = m.end()
        if literals:
            data = literals.get(start)
            if data is not None:
                if len(data) != size:
                    raise _Decline
                return data, start
        end = start + size
        if end > len(buf):
            raise _Decline
        return buf[start:end], end
    if c == b'"':
        m = _Q_CONTENT.match(buf, pos)
        if m is None:
            raise _Decline
        return unquote(m.group(1)), m.end()
    if buf.startswith(b"NIL", pos):
        return None, pos + 3  # the next pattern requires the delimiter
    raise _Decline


# An nstring in a line reader's pattern: a literal's size, or a quoted string's content;
# NIL when neither group matched. A literal's data is taken by the generated code.
_NSTRING_ALTERNATIVES = rb'(?:\{(\d{1,20})\}\r\n|"([^"\\\r\n]*(?:\\["\\][^"\\\r\n]*)*)"|NIL)'
# What the generated code does with them: ``{i}``, ``{j}`` are the two groups' indexes.
# A literal is copied out once, as Framer.next_frame would; one not wholly before
# ``endpos`` is declined (still arriving: the framer frames it when it is whole).
_NSTRING_CODE = """\
        size = g[{i}]
        if size is None:
            items[k{key}] = None if g[{j}] is None else unquote(g[{j}])
        else:
            end = pos + int(size)
            if end > endpos:
                return None
            items[k{key}] = bytes(view[pos:end])
            literal_bytes += end - pos
            pos = end"""


_Reader = Callable[[bytes, int, int, "Literals | None"], tuple[Any, int]]

# Items with a sub-pattern: (pattern, number of groups, converter): None for a number,
# an expression for the generated reader, or a function of (groups, index).
_PATTERN_ITEMS: dict[bytes, tuple[bytes, int, _Converter | str | None]] = {
    b"UID": (rb"(" + _NUM + rb")", 1, None),
    b"RFC822.SIZE": (rb"(" + _NUM + rb")", 1, None),
    b"X-GM-MSGID": (rb"(" + _NUM + rb")", 1, None),
    b"X-GM-THRID": (rb"(" + _NUM + rb")", 1, None),
    b"MODSEQ": (rb"\((" + _NUM + rb")\)", 1, None),
    b"FLAGS": (rb'\(([^()"{\r\n]*)\)', 1, _FLAGS_EXPRESSION),
    b"INTERNALDATE": (INTERNALDATE, 5, _INTERNALDATE_EXPRESSION),
    b"ENVELOPE": (_ENVELOPE, 10, _envelope),
}
# What read_line_local uses instead.
_LOCAL_CONVERTERS: dict[bytes, _Converter | str] = {
    b"INTERNALDATE": _LOCAL_INTERNALDATE_EXPRESSION,
    b"ENVELOPE": _envelope_local,
}
# Items read by a function (they nest without bound).
_READER_ITEMS: dict[bytes, _Reader] = {
    b"BODYSTRUCTURE": _read_body,
    b"BODY": _read_body,
}


_Read = Callable[[bytes, int, "Literals | None"], "tuple[int, ResponseDict] | None"]
_ReadLine = Callable[
    [bytearray, memoryview, int, int, int], "tuple[int, ResponseDict, int, int] | None"
]


class Shape:
    """The compiled readers of FETCH responses whose items are ``keys``, in that order.

    ``read(buf, max_depth, literals=None)`` returns ``(message number, items)`` for the
    FETCH response ``buf`` (with its out-of-line literals, see :mod:`.framing`), or None
    to decline it. ``read_line(buf, view, pos, endpos, max_depth)`` reads a response
    straight from the framer's buffer ``buf`` (``view`` is a memoryview of it) between
    ``pos`` and ``endpos`` (its final CRLF included, its literals too: ``literals``
    says whether it can have any) and returns
    ``(message number, items, end, bytes of literal data)``; see
    :meth:`.Framer.take_lines`. ``read_line_local`` is the same, except that it gives
    INTERNALDATE as the naive local time that ``datetime_to_native`` makes of it (for
    the listings of a client with ``normalise_times``).
    """

    __slots__ = ("keys", "literals", "read", "read_line", "read_line_local")

    def __init__(
        self,
        keys: tuple[bytes, ...],
        read: _Read,
        read_line: _ReadLine,
        read_line_local: _ReadLine,
        literals: bool,
    ) -> None:
        self.keys = keys
        self.read = read
        self.read_line = read_line
        self.read_line_local = read_line_local
        self.literals = literals


def _compile(keys: tuple[bytes, ...]) -> Shape | None:
    read = _build(keys, line=False)
    if read is None:
        return None
    read_line = _build(keys, line=True)
    dated = b"INTERNALDATE" in keys or b"ENVELOPE" in keys
    local = _build(keys, line=True, local=True) if dated else read_line
    # An ENVELOPE's subject can be a literal (read by the line readers' fallback).
    literals = b"ENVELOPE" in keys or any(_NSTRING_KEY.match(key) for key in keys)
    return Shape(keys, read, read_line, local, literals)


def _build(
    keys: tuple[bytes, ...], *, line: bool, local: bool = False, envelope_literal: bool = False
) -> Any:
    """Build a reader as straight-line Python, as dataclasses and namedtuple do: one
    statement per item, no per-item loop or dispatch. The source holds only generated
    names and group numbers; keys, patterns and converters are passed in ``names``.

    A line reader with an ENVELOPE item has a fallback, built with ``envelope_literal``:
    the same reader, except that it reads the ENVELOPE with _read_envelope_literal. When
    the step holding the ENVELOPE does not match, the response is offered to it from its
    start (the common envelope stays one match in one pattern)."""
    names: dict[str, Any] = {"ResponseDict": ResponseDict, "Decline": _Decline, "unquote": unquote}
    fallback = (
        _build(keys, line=True, local=local, envelope_literal=True)
        if line and not envelope_literal and b"ENVELOPE" in keys
        else None
    )
    names["fallback"] = fallback
    envelope_step = -1  # the step whose pattern holds the ENVELOPE: its failure tries fallback
    if line:
        lines = ["def read_line(buf, view, origin, endpos, max_depth):", "    pos = origin"]
        lines += ["    items = ResponseDict()", "    literal_bytes = 0"]
    else:
        lines = ["def read(buf, max_depth, literals=None):", "    pos = 0"]
        lines += ["    items = ResponseDict()"]
    lines.append("    try:")
    pattern = rb"\* (" + _NUM + rb") (?i:FETCH) \("
    group = 2  # the next group of the pattern being built; 1 is the message number
    step = 0

    def end_step(source: bytes) -> None:
        if line and step and source == rb"\)\r\n":  # the usual end after a literal
            lines[steps_at[-1]] = (
                '        if not buf.startswith(b")\\r\\n", pos, endpos):\n'
                "            return None"
            )
            lines.append("        pos += 3")
            return
        names[f"match{step}"] = re.compile(source).match
        declined = (
            "fallback(buf, view, origin, endpos, max_depth)"
            if fallback is not None and step == envelope_step
            else "None"
        )
        lines[steps_at[-1]] = (
            f"        m = match{step}(buf, pos{', endpos' if line else ''})\n"
            "        if m is None:\n"
            f"            return {declined}\n"
            "        g = m.groups()\n" + ("        number = int(g[0])\n" if step == 0 else "")
        )
        lines.append("        pos = m.end()")

    def next_step() -> None:
        # After an item read outside the pattern: a new step, with a pattern of its own.
        nonlocal step, pattern, group
        step += 1
        pattern, group = b"", 1
        steps_at.append(len(lines))
        lines.append("")  # replaced by the step's match once its pattern is complete

    steps_at = [len(lines)]
    lines.append("")  # as in next_step()
    for index, key in enumerate(keys):
        names[f"k{index}"] = key
        if index:
            pattern += b" "
        pattern += rb"(?i:" + re.escape(key) + rb") "
        reader: Any = _READER_ITEMS.get(key)
        nstring = reader is None and _NSTRING_KEY.match(key) is not None
        if nstring and line:
            # In the step's pattern; a literal's data ends the step (a pattern cannot
            # skip it).
            end_step(pattern + _NSTRING_ALTERNATIVES)
            lines.append(_NSTRING_CODE.format(i=group - 1, j=group, key=index))
            next_step()
            continue
        if envelope_literal and key == b"ENVELOPE":
            end_step(pattern)
            names[f"r{index}"] = _read_envelope_literal
            names[f"d{index}"] = _envelope_date_local if local else _envelope_date
            call = f"r{index}(buf, view, pos, endpos, d{index})"
            lines.append(f"        items[k{index}], pos, n = {call}")
            lines.append("        literal_bytes += n")
            next_step()
            continue
        if key == b"ENVELOPE":
            envelope_step = step
        if nstring:
            reader = _read_nstring
        if reader is not None:
            end_step(pattern)
            names[f"r{index}"] = reader
            literals = "None" if line else "literals"
            call = f"r{index}(buf, pos, max_depth, {literals})"
            lines.append(f"        items[k{index}], pos = {call}")
            next_step()
            continue
        spec = _PATTERN_ITEMS.get(key)
        if spec is None:
            return None
        fragment, count, convert = spec
        pattern += fragment
        if local:
            convert = _LOCAL_CONVERTERS.get(key, convert)
        if convert is None:
            lines.append(f"        items[k{index}] = int(g[{group - 1}])")
        elif isinstance(convert, str):
            names.update(_EXPRESSION_NAMES)
            lines.append(f"        items[k{index}] = " + convert.format(i=group - 1))
        else:
            names[f"c{index}"] = convert
            lines.append(f"        items[k{index}] = c{index}(g, {group - 1})")
        group += count
    end_step(pattern + (rb"\)\r\n" if line else rb"\)\Z"))
    result = "number, items, pos, literal_bytes" if line else "number, items"
    # ValueError: datetime() refusing a date such as 31-Feb; KeyError: an hour such as
    # 24; OverflowError, OSError: fromtimestamp() beyond its range. The general parser
    # decides those.
    errors = (
        "Decline, ValueError, KeyError, OverflowError, OSError" if local else "Decline, ValueError"
    )
    lines += [f"    except ({errors}):", "        return None", f"    return {result}"]
    exec("\n".join(lines), names)  # our own source: see the docstring
    return names["read_line" if line else "read"]


_SHAPES: dict[tuple[bytes, ...], Shape | None] = {}


def shape_for(keys: tuple[bytes, ...]) -> Shape | None:
    """The compiled reader for FETCH responses with these item keys (in this order), or
    None if one of them has no fast path. Compiled once per process and kept."""
    try:
        return _SHAPES[keys]
    except KeyError:
        pass
    shape = _compile(keys) if 0 < len(keys) <= 16 else None
    if len(_SHAPES) >= 256:  # a server inventing item orders must not grow this forever
        _SHAPES.clear()
    _SHAPES[keys] = shape
    return shape
