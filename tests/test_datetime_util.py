"""Tests for imapclient.datetime_util."""

from __future__ import annotations

import contextlib
import locale
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imapclient import datetime_util

parse_to_datetime = datetime_util.parse_to_datetime
datetime_to_INTERNALDATE = datetime_util.datetime_to_INTERNALDATE
datetime_to_native = datetime_util.datetime_to_native
format_criteria_date = datetime_util.format_criteria_date

needs_tzset = pytest.mark.skipif(not hasattr(time, "tzset"), reason="time.tzset is Unix-only")

# POSIX TZ rules, so the tests need no tz database.
CENTRAL_EUROPE = "CET-1CEST,M3.5.0,M10.5.0/3"
US_EASTERN = "EST+5EDT,M3.2.0,M11.1.0"


@contextlib.contextmanager
def local_zone(tz: str) -> Iterator[None]:
    """Temporarily make ``tz`` the process's local time zone."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = tz
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def tz(hours: int = 0, minutes: int = 0) -> timezone:
    """A fixed offset; minutes take the sign of hours."""
    if hours < 0:
        minutes = -minutes
    return timezone(timedelta(hours=hours, minutes=minutes))


UTC = timezone.utc
JUL17 = datetime(1996, 7, 17, 2, 23, 25, tzinfo=tz(-7))
JUL17_UTC = datetime(1996, 7, 17, 9, 23, 25, tzinfo=UTC)  # the same instant in UTC

# (raw text as a server sends it, the aware datetime it means)
FORMATS: list[tuple[bytes, datetime]] = [
    # INTERNALDATE
    (b"17-Jul-1996 02:44:25 -0700", datetime(1996, 7, 17, 2, 44, 25, tzinfo=tz(-7))),
    (b" 7-Jul-1996 02:44:25 -0700", datetime(1996, 7, 7, 2, 44, 25, tzinfo=tz(-7))),
    (b"07-Jul-1996 02:44:25 +0530", datetime(1996, 7, 7, 2, 44, 25, tzinfo=tz(5, 30))),
    (b"01-Jan-2000 00:00:00 +0000", datetime(2000, 1, 1, tzinfo=UTC)),
    (b"31-Dec-1999 23:59:59 -0000", datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    (b'"17-Jul-1996 02:23:25 -0700"', JUL17),  # still quoted
    # RFC 5322
    (b"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", JUL17),
    (b"Wed, 17 Jul 1996 02:23:25 -0700", JUL17),
    (b"17 Jul 1996 02:23:25 -0700", JUL17),  # no day of week
    (b"Wed 17 Jul 1996 02:23:25 -0700", JUL17),  # day of week without comma
    (b"Wed,17 Jul 1996 02:23:25 -0700", JUL17),  # no space after comma
    (b"  Wed,   17   Jul  1996 \t 02:23:25    -0700  ", JUL17),  # extra whitespace
    (b"Wed, 17 Jul 1996\r\n 02:23:25 -0700", JUL17),  # folded header
    (b"Wednesday, 17 July 1996 02:23:25 -0700", JUL17),  # full names
    (b"WED, 17 JUL 1996 02:23:25 -0700", JUL17),  # upper case
    (b"wed, 17 jul 1996 02:23:25 -0700", JUL17),  # lower case
    (b"Wed, 17-Jul-1996 02:23:25 -0700", JUL17),  # INTERNALDATE-style date
    (b"Wed, 17 Jul 1996 02:23 -0700", datetime(1996, 7, 17, 2, 23, tzinfo=tz(-7))),
    (b"Wed, 17 Jul 1996 2:23:25 -0700", datetime(1996, 7, 17, 2, 23, 25, tzinfo=tz(-7))),
    (b"Wed, 17 Jul 1996 02.23.25 -0700", JUL17),  # dots in the time
    (b"Wed, 17 Jul 1996 02:23:25 -07:00", JUL17),
    (b"Wed, 17 Jul 1996 02:23:25 -700", JUL17),
    (b"Wed, 17 Jul 1996 02:23:25 -7", JUL17),
    (b"Wed, 17 Jul 96 02:23:25 -0700", JUL17),  # two-digit year, 50-99
    (b"Wed, 17 Jul 096 02:23:25 -0700", JUL17),  # three-digit year
    (b"Sat, 1 Jan 05 00:00:00 +0000", datetime(2005, 1, 1, tzinfo=UTC)),  # 00-49
    (b"Fri, 1 Jan 49 00:00:00 +0000", datetime(2049, 1, 1, tzinfo=UTC)),
    (b"Sun, 1 Jan 50 00:00:00 +0000", datetime(1950, 1, 1, tzinfo=UTC)),
    (b"Tue, 17 Sept 1996 02:23:25 -0700", datetime(1996, 9, 17, 2, 23, 25, tzinfo=tz(-7))),
    (b"Mon, 17 Jul 1996 02:23:25 -0700", JUL17),  # wrong day of week is ignored
    (b"Wed, 17 Jul 1996 02:23:25 -0700 (PDT", JUL17),  # unbalanced comment
    (b"Wed, 17 Jul 1996 (a comment) 02:23:25 -0700", JUL17),
    (b"Wed, 17 Jul 1996 02:23:25 -0700 PDT", JUL17),  # abbreviation without parens
    (b"Wed, 17 Jul 1996 09:23:25 +0000 (Coordinated (Universal) Time)", JUL17_UTC),
    (b"Wed, 17 Jul 1996 09:23:25 GMT+0200", datetime(1996, 7, 17, 9, 23, 25, tzinfo=tz(2))),
    (b"Wed, 17 Jul 1996 09:23:25 UTC-05:00", datetime(1996, 7, 17, 9, 23, 25, tzinfo=tz(-5))),
    (b"Wed, 17 Jul 1996 02:23:25.250 -0700", JUL17.replace(microsecond=250_000)),
    (b"Tue, 31 Dec 1996 23:59:60 +0000", datetime(1996, 12, 31, 23, 59, 59, tzinfo=UTC)),
    # Obsolete and unknown zone names
    (b"Wed, 17 Jul 1996 09:23:25 GMT", JUL17_UTC),
    (b"Wed, 17 Jul 1996 09:23:25 UT", JUL17_UTC),
    (b"Wed, 17 Jul 1996 09:23:25 UTC", JUL17_UTC),
    (b"Wed, 17 Jul 1996 09:23:25 Z", JUL17_UTC),
    (b"Wed, 17 Jul 1996 04:23:25 EST", datetime(1996, 7, 17, 4, 23, 25, tzinfo=tz(-5))),
    (b"Wed, 17 Jul 1996 05:23:25 EDT", datetime(1996, 7, 17, 5, 23, 25, tzinfo=tz(-4))),
    (b"Wed, 17 Jul 1996 03:23:25 CST", datetime(1996, 7, 17, 3, 23, 25, tzinfo=tz(-6))),
    (b"Wed, 17 Jul 1996 04:23:25 CDT", datetime(1996, 7, 17, 4, 23, 25, tzinfo=tz(-5))),
    (b"Wed, 17 Jul 1996 02:23:25 MST", datetime(1996, 7, 17, 2, 23, 25, tzinfo=tz(-7))),
    (b"Wed, 17 Jul 1996 03:23:25 MDT", datetime(1996, 7, 17, 3, 23, 25, tzinfo=tz(-6))),
    (b"Wed, 17 Jul 1996 01:23:25 PST", datetime(1996, 7, 17, 1, 23, 25, tzinfo=tz(-8))),
    (b"Wed, 17 Jul 1996 02:23:25 PDT", JUL17),
    (b"Wed, 17 Jul 1996 02:23:25 pdt", JUL17),
    # Unknown names and military letters mean UTC (RFC 5322 section 4.3).
    (b"Wed, 17 Jul 1996 09:23:25 A", JUL17_UTC),
    (b"Wed, 17 Jul 1996 09:23:25 CEST", JUL17_UTC),
    # No zone at all: UTC.
    (b"Wed, 17 Jul 1996 09:23:25", JUL17_UTC),
    (b"17-Jul-1996 09:23:25", JUL17_UTC),
    # asctime() and date(1)
    (b"Wed Jul 17 09:23:25 1996", JUL17_UTC),
    (b"Wed Jul 17 02:23:25 PDT 1996", JUL17),
    (b"Wed Jul  7 02:23:25 1996 -0700", datetime(1996, 7, 7, 2, 23, 25, tzinfo=tz(-7))),
    # ISO 8601 / RFC 3339
    (b"1996-07-17T02:23:25-07:00", JUL17),
    (b"1996-07-17 09:23:25Z", JUL17_UTC),
    (b"1996-07-17T02:23-0700", JUL17.replace(second=0)),
    (b"1996-07-17T09:23:25.5+00:00", JUL17_UTC.replace(microsecond=500_000)),
]


@pytest.mark.parametrize(("raw", "expected"), FORMATS)
def test_parse_aware(raw: bytes, expected: datetime) -> None:
    parsed = parse_to_datetime(raw, normalise=False)
    assert parsed == expected
    # The zone actually given is kept, not only the instant.
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(("raw", "expected"), FORMATS)
def test_parse_accepts_str(raw: bytes, expected: datetime) -> None:
    parsed = parse_to_datetime(raw.decode("ascii"), normalise=False)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


def test_parse_keeps_offset() -> None:
    parsed = parse_to_datetime(b"17-Jul-1996 02:44:25 -0700", normalise=False)
    assert parsed.utcoffset() == timedelta(hours=-7)
    assert parsed.replace(tzinfo=None) == datetime(1996, 7, 17, 2, 44, 25)
    parsed = parse_to_datetime(b"Wed, 17 Jul 1996 02:23:25 EDT", normalise=False)
    assert parsed.utcoffset() == timedelta(hours=-4)


@pytest.mark.parametrize("raw", [b"17-Jul-1996 09:23:25 +0000", b"17-Jul-1996 09:23:25 -0000"])
def test_parse_utc_uses_timezone_utc(raw: bytes) -> None:
    assert parse_to_datetime(raw, normalise=False).tzinfo is timezone.utc


@needs_tzset
@pytest.mark.parametrize(
    ("raw", "local"),
    [
        # CEST (+0200) in summer, CET (+0100) in winter.
        (b"17-Jul-1996 02:44:25 -0700", datetime(1996, 7, 17, 11, 44, 25)),
        (b"17-Jan-1996 02:44:25 -0700", datetime(1996, 1, 17, 10, 44, 25)),
        (b"Wed, 17 Jul 1996 09:23:25 GMT", datetime(1996, 7, 17, 11, 23, 25)),
        (b"Wed, 17 Jul 1996 09:23:25", datetime(1996, 7, 17, 11, 23, 25)),
        (b"31-Dec-1999 23:30:00 +0000", datetime(2000, 1, 1, 0, 30)),
    ],
)
def test_parse_normalise_gives_local_naive(raw: bytes, local: datetime) -> None:
    with local_zone(CENTRAL_EUROPE):
        parsed = parse_to_datetime(raw)
        assert parsed.tzinfo is None
        assert parsed == local
        assert parse_to_datetime(raw, normalise=True) == local


@needs_tzset
def test_parse_normalise_matches_datetime_to_native() -> None:
    with local_zone(US_EASTERN):
        aware = parse_to_datetime(b"17-Jul-1996 02:44:25 +0900", normalise=False)
        assert parse_to_datetime(b"17-Jul-1996 02:44:25 +0900") == datetime_to_native(aware)
        assert datetime_to_native(aware) == datetime(1996, 7, 16, 13, 44, 25)


INVALID = [
    b"",
    b"   ",
    b"garbage",
    b"NIL",
    b"17-Jul-1996",  # no time
    b"02:44:25 -0700",  # no date
    b"17-Foo-1996 02:44:25 -0700",
    b"17-Ju-1996 02:44:25 -0700",
    b"0-Jul-1996 02:44:25 -0700",
    b"32-Jul-1996 02:44:25 -0700",
    b"31-Feb-2020 02:44:25 -0700",
    b"29-Feb-2100 00:00:00 +0000",  # not a leap year
    b"17-Jul-0000 02:44:25 -0700",
    b"17-Jul-1996 24:00:00 -0700",
    b"17-Jul-1996 02:60:00 -0700",
    b"17-Jul-1996 02:44:25 +2400",
    b"17-Jul-1996 02:44:25 +0575",
    b"17-Jul-1996 02:44:25 -07000",
    b"17-Jul-1996 02:44:25 -0700 1996",
    b"17/07/1996 02:44:25 -0700",
    b"Wed, 17 Jul 19961 02:23:25 -0700",
    b"1996-13-17T02:23:25Z",
    b"\xff\xfe",
    # Valid fields, but the instant cannot be represented.
    b"01-Jan-0001 00:00:00 +0100",
]


@pytest.mark.parametrize("raw", INVALID)
def test_invalid_raises_value_error_with_text(raw: bytes) -> None:
    with pytest.raises(ValueError) as info:
        parse_to_datetime(raw)
    assert repr(raw.decode("latin-1")) in str(info.value)


@pytest.mark.parametrize("raw", INVALID[:-1])
def test_invalid_raises_value_error_without_normalise(raw: bytes) -> None:
    with pytest.raises(ValueError, match="cannot parse date"):
        parse_to_datetime(raw, normalise=False)


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (datetime(1996, 7, 17, 2, 44, 25, tzinfo=tz(-7)), "17-Jul-1996 02:44:25 -0700"),
        (datetime(1996, 7, 7, 2, 44, 25, tzinfo=tz(-7)), "07-Jul-1996 02:44:25 -0700"),
        (datetime(2024, 2, 29, 23, 5, 1, tzinfo=UTC), "29-Feb-2024 23:05:01 +0000"),
        (datetime(2024, 2, 29, 23, 5, 1, tzinfo=tz(5, 30)), "29-Feb-2024 23:05:01 +0530"),
        (datetime(2024, 2, 29, 23, 5, 1, tzinfo=tz(-3, 30)), "29-Feb-2024 23:05:01 -0330"),
        (datetime(2024, 2, 29, 23, 5, 1, tzinfo=tz(14)), "29-Feb-2024 23:05:01 +1400"),
        (datetime(2020, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC), "02-Jan-2020 03:04:05 +0000"),
        (datetime(999, 12, 31, tzinfo=UTC), "31-Dec-0999 00:00:00 +0000"),
        # Paris local mean time: +00:09:21 cannot be written, so the same
        # instant is expressed at +0009.
        (
            datetime(1900, 1, 1, tzinfo=timezone(timedelta(minutes=9, seconds=21))),
            "31-Dec-1899 23:59:39 +0009",
        ),
    ],
)
def test_datetime_to_internaldate_aware(dt: datetime, expected: str) -> None:
    assert datetime_to_INTERNALDATE(dt) == expected


@needs_tzset
@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (datetime(1996, 7, 17, 2, 44, 25), "17-Jul-1996 02:44:25 -0400"),
        (datetime(1996, 1, 17, 2, 44, 25), "17-Jan-1996 02:44:25 -0500"),
        # 2023-11-05 01:30 happens twice in US Eastern; fold picks which.
        (datetime(2023, 11, 5, 1, 30), "05-Nov-2023 01:30:00 -0400"),
        (datetime(2023, 11, 5, 1, 30, fold=1), "05-Nov-2023 01:30:00 -0500"),
    ],
)
def test_datetime_to_internaldate_naive_is_local_and_dst_aware(dt: datetime, expected: str) -> None:
    with local_zone(US_EASTERN):
        assert datetime_to_INTERNALDATE(dt) == expected


@needs_tzset
def test_naive_round_trip_through_local_zone() -> None:
    with local_zone(CENTRAL_EUROPE):
        for naive in (datetime(2021, 3, 1, 12), datetime(2021, 8, 1, 12, 30, 59)):
            assert parse_to_datetime(datetime_to_INTERNALDATE(naive).encode()) == naive


OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(st.datetimes(timezones=OFFSETS).map(lambda dt: dt.replace(microsecond=0)))
def test_internaldate_round_trip_aware(dt: datetime) -> None:
    text = datetime_to_INTERNALDATE(dt)
    parsed = parse_to_datetime(text.encode("ascii"), normalise=False)
    assert parsed.utcoffset() == dt.utcoffset()
    assert parsed.replace(tzinfo=None) == dt.replace(tzinfo=None)


@needs_tzset
@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=OFFSETS
    ).map(lambda dt: dt.replace(microsecond=0))
)
def test_internaldate_round_trip_normalised(dt: datetime) -> None:
    with local_zone(CENTRAL_EUROPE):
        parsed = parse_to_datetime(datetime_to_INTERNALDATE(dt).encode("ascii"))
        # fromtimestamp is an independent route to local naive time.
        assert parsed == datetime.fromtimestamp(dt.timestamp())
        assert parsed.tzinfo is None


@given(st.datetimes(timezones=OFFSETS).map(lambda dt: dt.replace(microsecond=0)))
def test_rfc5322_round_trip(dt: datetime) -> None:
    # email.utils is an independent RFC 5322 formatter.
    from email.utils import format_datetime

    if dt.year < 1000:
        return  # format_datetime writes fewer than four year digits
    parsed = parse_to_datetime(format_datetime(dt), normalise=False)
    assert parsed.utcoffset() == dt.utcoffset()
    assert parsed.replace(tzinfo=None) == dt.replace(tzinfo=None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(1996, 7, 17), b"17-Jul-1996"),
        (date(1996, 7, 7), b"07-Jul-1996"),
        (datetime(2024, 12, 31, 23, 59), b"31-Dec-2024"),
        # No zone conversion: the date as given is the date searched for.
        (datetime(2024, 12, 31, 23, 59, tzinfo=tz(-10)), b"31-Dec-2024"),
        (date(999, 1, 1), b"01-Jan-0999"),
    ],
)
def test_format_criteria_date(value: date, expected: bytes) -> None:
    assert format_criteria_date(value) == expected


@needs_tzset
def test_datetime_to_native() -> None:
    with local_zone(CENTRAL_EUROPE):
        aware = datetime(1996, 7, 17, 2, 44, 25, tzinfo=tz(-7))
        native = datetime_to_native(aware)
        assert native == datetime(1996, 7, 17, 11, 44, 25)
        assert native.tzinfo is None


def test_datetime_to_native_leaves_naive_alone() -> None:
    naive = datetime(1996, 7, 17, 2, 44, 25)
    assert datetime_to_native(naive) is naive


# --- locale independence -------------------------------------------------

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@pytest.fixture(scope="module")
def non_english_locale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Switch LC_ALL to a locale whose month names are not English."""
    saved_locale = locale.setlocale(locale.LC_ALL)
    saved_locpath = os.environ.get("LOCPATH")
    candidates = ["de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "German_Germany"]
    chosen = None
    for name in candidates:
        with contextlib.suppress(locale.Error):
            locale.setlocale(locale.LC_ALL, name)
            chosen = name
            break
    if chosen is None and shutil.which("localedef"):
        # Minimal containers ship only C/POSIX; compile German privately.
        locpath = tmp_path_factory.mktemp("locale")
        subprocess.run(
            ["localedef", "-i", "de_DE", "-f", "UTF-8", str(locpath / "de_DE.UTF-8")],
            capture_output=True,
            check=False,
        )
        if (locpath / "de_DE.UTF-8").exists():
            os.environ["LOCPATH"] = str(locpath)
            with contextlib.suppress(locale.Error):
                locale.setlocale(locale.LC_ALL, "de_DE.UTF-8")
                chosen = "de_DE.UTF-8"
    if chosen is None:
        pytest.skip("no non-English locale available")
    try:
        march = time.strftime("%b", (2000, 3, 1, 0, 0, 0, 0, 61, 0))
        if march == "Mar":
            pytest.skip(f"locale {chosen} has English month names")
        yield chosen
    finally:
        locale.setlocale(locale.LC_ALL, saved_locale)
        if saved_locpath is None:
            os.environ.pop("LOCPATH", None)
        else:
            os.environ["LOCPATH"] = saved_locpath


@pytest.mark.parametrize("month", range(1, 13))
def test_locale_independent(non_english_locale: str, month: int) -> None:
    name = MONTHS[month - 1]
    dt = datetime(2021, month, 9, 8, 7, 6, tzinfo=tz(1))
    assert datetime_to_INTERNALDATE(dt) == f"09-{name}-2021 08:07:06 +0100"
    assert format_criteria_date(dt.date()) == f"09-{name}-2021".encode()
    assert parse_to_datetime(f"09-{name}-2021 08:07:06 +0100".encode(), normalise=False) == dt
    assert parse_to_datetime(f"Thu, 9 {name} 2021 08:07:06 +0100", normalise=False) == dt
