"""Types that appear in values returned by imapclient.

Strings from the server stay ``bytes`` (flags, keys, header values), as users of the API
expect; folder names are decoded to ``str`` by the client when ``folder_encode`` is on.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, NamedTuple

__all__ = [
    "Address",
    "BodyData",
    "Envelope",
    "MailboxQuotaRoots",
    "Namespace",
    "Quota",
    "ResponseDict",
    "SearchIds",
    "SequenceSet",
    "Unparsed",
]


class Address(NamedTuple):
    """An e-mail address from an ENVELOPE (RFC 3501 section 7.4.2).

    ``Mary Smith <mary@foo.com>`` is ``Address(b'Mary Smith', None, b'mary', b'foo.com')``.
    A group (RFC 2822) starts with an address whose ``host`` is None and ``mailbox`` the
    group's name, and ends with one whose ``mailbox`` and ``host`` are both None.
    """

    name: bytes | None
    route: bytes | None
    mailbox: bytes | None
    host: bytes | None

    def __str__(self) -> str:
        mailbox = _text(self.mailbox)
        address = f"{mailbox}@{_text(self.host)}" if self.host is not None else mailbox
        if self.name:
            return f"{_text(self.name)} <{address}>"
        return address


class Envelope(NamedTuple):
    """A message's envelope (RFC 3501 section 7.4.2).

    ``date`` is a datetime, or None when the header is missing or unparseable;
    address fields are tuples of :class:`Address`, or None when the header is absent.
    """

    date: datetime | None
    subject: bytes | None
    from_: tuple[Address, ...] | None
    sender: tuple[Address, ...] | None
    reply_to: tuple[Address, ...] | None
    to: tuple[Address, ...] | None
    cc: tuple[Address, ...] | None
    bcc: tuple[Address, ...] | None
    in_reply_to: bytes | None
    message_id: bytes | None


class BodyData(tuple[Any, ...]):
    """A BODY or BODYSTRUCTURE value: the server's nested lists as tuples.

    For a multipart body, the first element is a list of the parts (each a BodyData),
    followed by the subtype and any extension data; otherwise the fields of RFC 3501's
    ``body-type-1part`` in order (type, subtype, parameters, id, description, encoding,
    size, ...).
    """

    __slots__ = ()

    @property
    def is_multipart(self) -> bool:
        """True if this body is a multipart (its first element is the list of parts)."""
        return bool(self) and isinstance(self[0], list)


class SearchIds(list[int]):
    """A list of message ids from SEARCH or SORT, with ``modseq`` set when the server
    reported one (RFC 7162 ``(MODSEQ n)``)."""

    modseq: int | None

    def __init__(self, ids: Iterable[int] = (), modseq: int | None = None) -> None:
        super().__init__(ids)
        self.modseq = modseq


class SequenceSet:
    """A set of message numbers or UIDs kept as ranges, never expanded.

    A server may answer ``1:4294967295``; this stays two integers, and ``len`` and ``in``
    work on the ranges. Iterating yields the numbers lazily, in the order given.
    ``str()`` gives the IMAP syntax.
    """

    __slots__ = ("ranges",)

    ranges: tuple[tuple[int, int], ...]

    def __init__(self, ranges: Iterable[tuple[int, int]]) -> None:
        self.ranges = tuple((min(a, b), max(a, b)) for a, b in ranges)

    def __iter__(self) -> Iterator[int]:
        return itertools.chain.from_iterable(range(a, b + 1) for a, b in self.ranges)

    def __len__(self) -> int:
        return sum(b - a + 1 for a, b in self.ranges)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __contains__(self, item: object) -> bool:
        return isinstance(item, int) and any(a <= item <= b for a, b in self.ranges)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SequenceSet):
            return self.ranges == other.ranges
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.ranges)

    def __str__(self) -> str:
        return ",".join(str(a) if a == b else f"{a}:{b}" for a, b in self.ranges)

    def __repr__(self) -> str:
        return f"SequenceSet({str(self)!r})"


class Namespace(NamedTuple):
    """The account's namespaces (RFC 2342): each element is None or a tuple of
    ``(prefix, delimiter)`` pairs, readable by position or as ``personal``, ``other`` and
    ``shared``."""

    personal: tuple[tuple[Any, Any], ...] | None
    other: tuple[tuple[Any, Any], ...] | None
    shared: tuple[tuple[Any, Any], ...] | None


class Unparsed(NamedTuple):
    """A FETCH item the server sent in a form the parser could not read: ``raw`` is the
    item's value exactly as sent, ``error`` says what was wrong with it."""

    raw: bytes
    error: str


class Quota(NamedTuple):
    """One resource limit of a quota root (RFC 9208): ``usage`` and ``limit`` are in the
    resource's unit (KiB for STORAGE, messages for MESSAGE)."""

    quota_root: str
    resource: str
    usage: int
    limit: int


class MailboxQuotaRoots(NamedTuple):
    """The quota roots that apply to a mailbox (RFC 9208 GETQUOTAROOT)."""

    mailbox: str | bytes
    quota_roots: list[str]


class ResponseDict(dict[Any, Any]):
    """A dict with ``bytes`` keys (``b'EXISTS'``) that also answers ``str`` look-ups.

    Keys are bytes, as in today's API. For code written against the older documentation
    (``select_info['EXISTS']``), a ``str`` key is looked up as its ASCII bytes; iteration,
    equality and ``keys()`` see only the bytes keys.
    """

    __slots__ = ()

    def __missing__(self, key: Any) -> Any:
        if isinstance(key, str):
            alias = key.encode("ascii", "replace")
            if dict.__contains__(self, alias):
                return self[alias]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        return isinstance(key, str) and dict.__contains__(self, key.encode("ascii", "replace"))

    def get(self, key: Any, default: Any = None) -> Any:
        """``self[key]`` (bytes or str key), or ``default``."""
        try:
            return self[key]
        except KeyError:
            return default

    # Python 2 spellings used by code written for the original API (the documentation's
    # example iterates with ``response.iteritems()``).
    def iteritems(self) -> Iterator[tuple[Any, Any]]:
        """Same as ``iter(self.items())``."""
        return iter(self.items())

    def iterkeys(self) -> Iterator[Any]:
        """Same as ``iter(self.keys())``."""
        return iter(self.keys())

    def itervalues(self) -> Iterator[Any]:
        """Same as ``iter(self.values())``."""
        return iter(self.values())


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8", "replace")
