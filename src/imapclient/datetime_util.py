"""Parsing and formatting of the dates and times used by IMAP.

* INTERNALDATE (RFC 3501 ``date-time``): ``"17-Jul-1996 02:44:25 -0700"``.
* ENVELOPE dates, which are raw RFC 5322 ``Date:`` header values and so come
  in every shape mail software has ever produced.
* SEARCH criteria dates (``SINCE``, ``BEFORE``, ...): ``17-Jul-1996``.

Month names are always English: this module never uses ``strftime`` or
``strptime``, whose ``%b`` follows the process locale.

Time zone rules of :func:`parse_to_datetime`:

* An explicit numeric offset is honoured (``-0700``, ``+07:00``, ``+7``,
  ``GMT+0200``).
* The RFC 822 names ``UT``, ``UTC``, ``GMT``, ``Z`` and the North American
  ``EST``/``EDT``/``CST``/``CDT``/``MST``/``MDT``/``PST``/``PDT`` are known.
* Any other zone name (military letters, ``CEST``, ...), ``-0000`` and a
  missing zone all mean UTC, as RFC 5322 section 4.3 prescribes for zones
  whose meaning is not known.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

__all__ = [
    "datetime_to_INTERNALDATE",
    "datetime_to_native",
    "format_criteria_date",
    "parse_to_datetime",
]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_FULL = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)

# RFC 5322 section 4.3 obs-zone names with a defined meaning (hours from UTC).
_ZONE_HOURS = {
    "UT": 0,
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
}

# Time of day: "02:23:25", "2:23", "02.23.25", "02:23:25.123".
_TIME = r"""
    (?P<hour>\d{1,2}) \s*[:.]\s* (?P<minute>\d{2})
    (?: \s*[:.]\s* (?P<second>\d{2}) (?:[.,](?P<fraction>\d+))? )?
"""
# Zone: a name, a numeric offset, or both ("GMT+0200"), optionally followed by
# a bare abbreviation as in "+0200 CEST" (comments are stripped beforehand).
_ZONE = r"""
    (?: (?P<zname>[A-Za-z]+) \s* )?
    (?P<zoff> [+-] \s* \d{1,2} (?: :? \d{2} )? )?
    (?: \s+ [A-Za-z]+ )?
"""

# RFC 5322 / RFC 822 and INTERNALDATE: optional day of week, then
# "17 Jul 1996" or "17-Jul-1996" (separators may mix), time, optional zone.
_RFC5322_RE = re.compile(
    r"""
    ^ (?: [A-Za-z]+ \.? \s*,?\s* )?
    (?P<day>\d{1,2}) (?:\s*-\s*|\s+) (?P<month>[A-Za-z]+) \.?
    (?:\s*-\s*|\s+) (?P<year>\d{2,4})
    (?: \s*,?\s+ | \s*,\s* ) (?:at\s+)?
    """
    + _TIME
    + r"\s*"
    + _ZONE
    + r"$",
    re.VERBOSE | re.ASCII,
)

# asctime() / Unix date(1): "Wed Jul 17 02:23:25 [PDT] 1996 [-0700]".
_ASCTIME_RE = re.compile(
    r"""
    ^ (?: [A-Za-z]+ \s*,?\s* )?
    (?P<month>[A-Za-z]+) \s+ (?P<day>\d{1,2}) \s+
    """
    + _TIME
    + r"""
    \s+ (?: (?P<zname>[A-Za-z]+) \s+ )?
    (?P<year>\d{4})
    (?: \s+ (?P<zoff>[+-]\d{4}) )?
    $
    """,
    re.VERBOSE | re.ASCII,
)

# ISO 8601 / RFC 3339: "1996-07-17T02:23:25-07:00", "1996-07-17 02:23:25Z".
_ISO_RE = re.compile(
    r"""
    ^ (?P<year>\d{4}) - (?P<month>\d{2}) - (?P<day>\d{2})
    (?:[Tt]|\s+)
    (?P<hour>\d{2}) : (?P<minute>\d{2})
    (?: : (?P<second>\d{2}) (?:[.,](?P<fraction>\d+))? )?
    \s* (?: (?P<zname>[Zz]) | (?P<zoff>[+-]\d{2}(?::?\d{2})?) )?
    $
    """,
    re.VERBOSE | re.ASCII,
)

# Innermost parenthesised comment; removed repeatedly to handle nesting.
_COMMENT_RE = re.compile(r"\([^()]*\)")


def _strip_comments(text: str) -> str:
    """Remove RFC 5322 comments such as ``(PDT)``, including nested ones."""
    while "(" in text:
        new = _COMMENT_RE.sub(" ", text)
        if new == text:
            # Unbalanced "(": everything after it is a broken comment.
            return text[: text.index("(")]
        text = new
    return text.replace(")", " ")


def _month_number(name: str) -> int:
    """Map "Jul", "JUL", "July", "Sept" ... to 1-12; raise ValueError otherwise."""
    lowered = name.lower()
    if len(lowered) >= 3:
        for number, full in enumerate(_MONTH_FULL, start=1):
            if full.startswith(lowered):
                return number
    raise ValueError(f"unknown month name {name!r}")


def _year(digits: str) -> int:
    """Apply the RFC 5322 section 4.3 rules for two- and three-digit years."""
    year = int(digits)
    if len(digits) == 2:
        return year + (2000 if year < 50 else 1900)
    if len(digits) == 3:
        return year + 1900
    return year


def _offset(zname: str | None, zoff: str | None) -> timezone:
    """Build the zone from a numeric offset and/or a zone name."""
    if zoff:
        sign = -1 if zoff[0] == "-" else 1
        digits = re.sub(r"[\s:+-]", "", zoff)
        if len(digits) <= 2:
            hours, minutes = int(digits), 0
        else:
            hours, minutes = int(digits[:-2]), int(digits[-2:])
        if hours > 23 or minutes > 59:
            raise ValueError(f"invalid zone offset {zoff!r}")
        if hours == 0 and minutes == 0:
            return timezone.utc
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    if zname:
        hours = _ZONE_HOURS.get(zname.upper(), 0)
        if hours:
            return timezone(timedelta(hours=hours))
    return timezone.utc


def _build(match: re.Match[str], month: int, year: int) -> datetime:
    """Assemble an aware datetime from the named groups of a match."""
    groups = match.groupdict()
    second = int(groups["second"] or 0)
    # A leap second cannot be represented; 23:59:60 is as close to 23:59:59
    # as makes any difference to a mail client.
    second = min(second, 59)
    fraction = groups.get("fraction") or ""
    microsecond = int(fraction[:6].ljust(6, "0")) if fraction else 0
    return datetime(
        year,
        month,
        int(groups["day"]),
        int(groups["hour"]),
        int(groups["minute"]),
        second,
        microsecond,
        tzinfo=_offset(groups.get("zname"), groups.get("zoff")),
    )


def _parse_aware(text: str) -> datetime:
    """Parse ``text`` (any supported format) to an aware datetime."""
    text = " ".join(_strip_comments(text).split()).strip('"').strip()
    match = _RFC5322_RE.match(text) or _ASCTIME_RE.match(text)
    if match is not None:
        return _build(match, _month_number(match["month"]), _year(match["year"]))
    match = _ISO_RE.match(text)
    if match is not None:
        return _build(match, int(match["month"]), int(match["year"]))
    raise ValueError("unrecognised date format")


def parse_to_datetime(timestamp: bytes | str, normalise: bool = True) -> datetime:
    """Parse an IMAP INTERNALDATE or an RFC 5322 (ENVELOPE) date.

    Accepted forms include ``17-Jul-1996 02:44:25 -0700`` (the day may be
    space-padded), ``Wed, 17 Jul 1996 02:23:25 -0700 (PDT)``, dates without
    the day of week or the seconds, two- and three-digit years (RFC 5322
    section 4.3: two-digit 00-49 mean 20xx, 50-99 mean 19xx, three digits
    are added to 1900), full or upper-case
    month names, obsolete zone names, zone-less dates, extra whitespace and
    comments, ``asctime()`` style ``Wed Jul 17 02:23:25 1996`` and ISO 8601.
    The day of week, if present, is ignored rather than checked.  A leap
    second (``:60``) becomes ``:59``.

    A missing, unknown or ``-0000`` zone is taken as UTC (see the module
    docstring), so every input has a well-defined instant.

    Args:
        timestamp: the date as sent by the server; bytes are decoded as
            latin-1 so that stray 8-bit bytes cannot cause a decode error.
        normalise: if true (the default), return a naive datetime in the
            local time zone of this process; if false, return an aware
            datetime carrying the zone given in ``timestamp``.

    Raises:
        ValueError: the text is not a recognisable date, or names an
            impossible one (e.g. 31-Feb); the message contains the text.
    """
    text = timestamp.decode("latin-1") if isinstance(timestamp, bytes) else timestamp
    try:
        dt = _parse_aware(text)
        return datetime_to_native(dt) if normalise else dt
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"cannot parse date {text!r}: {exc}") from None


def datetime_to_native(dt: datetime) -> datetime:
    """Convert an aware datetime to a naive one in the local time zone.

    A naive datetime is returned unchanged: it is assumed to be local time
    already.  The local zone's offset valid at that instant is used, so DST
    is handled.

    Raises:
        OverflowError: the local time falls outside the datetime range.
    """
    if dt.utcoffset() is None:
        return dt
    if not dt.microsecond:  # the common case (IMAP dates have whole seconds), 4x faster
        try:
            return datetime.fromtimestamp(dt.timestamp())
        except (OverflowError, OSError, ValueError):
            pass  # near the ends of the datetime range: let astimezone() decide
    return dt.astimezone().replace(tzinfo=None)


def datetime_to_INTERNALDATE(dt: datetime) -> str:
    """Format ``dt`` as an RFC 3501 INTERNALDATE, e.g. ``17-Jul-1996 02:44:25 -0700``.

    A naive datetime is taken as local time and given the local zone offset
    valid at that instant (DST-aware; ``dt.fold`` selects between the two
    readings of an ambiguous local time).  An aware datetime keeps its own
    offset; if that offset has a seconds part (historical local mean time),
    the time is re-expressed in the offset rounded to whole minutes, because
    the format cannot carry seconds of offset.  Microseconds are dropped.
    The day is zero-padded, which RFC 3501's ``date-day-fixed`` allows.

    The result has no surrounding double quotes; the command builder adds
    them.
    """
    if dt.utcoffset() is None:
        dt = dt.astimezone()
    offset = dt.utcoffset()
    assert offset is not None  # guaranteed by the conversion above
    minutes = round(offset.total_seconds() / 60)
    if offset != timedelta(minutes=minutes):
        dt = dt.astimezone(timezone(timedelta(minutes=minutes)))
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    return (
        f"{dt.day:02d}-{_MONTHS[dt.month - 1]}-{dt.year:04d} "
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} {sign}{hh:02d}{mm:02d}"
    )


def format_criteria_date(dt: date | datetime) -> bytes:
    """Format a SEARCH date criterion (``SINCE``, ``BEFORE``, ...): ``b"17-Jul-1996"``.

    The calendar date of ``dt`` is used as given: an aware datetime is not
    converted to another zone first (IMAP compares such criteria against
    dates without regard to time or zone).
    """
    return f"{dt.day:02d}-{_MONTHS[dt.month - 1]}-{dt.year:04d}".encode("ascii")
