"""The typed responses the parser produces.

Three kinds of server response exist (RFC 9051 section 7): status responses (tagged or
untagged OK/NO/BAD, and untagged PREAUTH/BYE), untagged data (``* 3 EXISTS``,
``* LIST ...``), and continuation requests (``+ ...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ..response_types import SequenceSet

__all__ = [
    "AppendUid",
    "ContinuationRequest",
    "CopyUid",
    "ESearchResponse",
    "MailboxList",
    "MailboxStatus",
    "Response",
    "ResponseCode",
    "StatusResponse",
    "UntaggedResponse",
    "Vanished",
]


@dataclass(slots=True)
class ResponseCode:
    """A response code: the bracketed part of ``OK [UIDNEXT 4392] Predicted next UID``.

    ``name`` is the upper-cased code name, ``value`` its parsed argument (an int, a tuple
    of flags or capabilities, a :class:`CopyUid` ...; None for codes without one or when
    the argument could not be parsed) and ``raw`` the argument text exactly as sent.
    """

    name: bytes
    value: Any = None
    raw: bytes = b""


@dataclass(slots=True)
class StatusResponse:
    """OK, NO, BAD, PREAUTH or BYE; ``tag`` is None for untagged responses."""

    tag: bytes | None
    status: bytes
    code: ResponseCode | None
    text: bytes


@dataclass(slots=True)
class UntaggedResponse:
    """Untagged data: ``name`` is the upper-cased keyword (``b'FETCH'``, ``b'LIST'``),
    ``number`` the leading number for message data (EXISTS, RECENT, EXPUNGE, FETCH),
    ``data`` the parsed value (None for EXISTS/RECENT/EXPUNGE)."""

    name: bytes
    number: int | None
    data: Any


@dataclass(slots=True)
class ContinuationRequest:
    """``+ text``: the server waits for a literal, a SASL response, or is idling."""

    text: bytes


Response = StatusResponse | UntaggedResponse | ContinuationRequest


class MailboxList(NamedTuple):
    """A LIST, LSUB or XLIST entry. ``extended`` holds LIST-EXTENDED data (RFC 5258), e.g.
    ``{b'CHILDINFO': (b'SUBSCRIBED',), b'OLDNAME': (b'old',)}``."""

    flags: tuple[bytes, ...]
    delimiter: bytes | None
    name: bytes
    extended: dict[bytes, Any]


class MailboxStatus(NamedTuple):
    """A STATUS response: the mailbox name and its items (``{b'MESSAGES': 231}``)."""

    name: bytes
    items: dict[bytes, int | bytes]


class ESearchResponse(NamedTuple):
    """An ESEARCH response (RFC 4731/9051): the correlating tag, whether the results are
    UIDs, and the returned items (``MIN``/``MAX``/``COUNT``/``MODSEQ`` as ints, ``ALL`` as
    a :class:`~imapclient.response_types.SequenceSet`)."""

    tag: bytes | None
    uid: bool
    items: dict[bytes, Any]


class Vanished(NamedTuple):
    """A VANISHED response (RFC 7162): ``earlier`` is True for ``VANISHED (EARLIER)``."""

    earlier: bool
    uids: SequenceSet


class CopyUid(NamedTuple):
    """The COPYUID response code (RFC 4315)."""

    uidvalidity: int
    source: SequenceSet
    destination: SequenceSet


class AppendUid(NamedTuple):
    """The APPENDUID response code (RFC 4315)."""

    uidvalidity: int
    uids: SequenceSet
