"""Named tolerances for known defects of real servers.

The parser accepts a few deviations from RFC 3501/9051 that widely deployed servers are
known to produce. Each is a flag here, on by default; :data:`STRICT` turns them all off,
which the tests use to prove each deviation is really handled by its tolerance (and which
can help when testing a server implementation). The client never *sends* invalid syntax.
"""

from __future__ import annotations

import enum

__all__ = ["CLIENT_TOLERANCES", "DEFAULT_TOLERANCES", "STRICT", "Tolerance"]


class Tolerance(enum.Flag):
    """One flag per tolerated server defect."""

    #: Lines ending in a bare LF instead of CRLF (seen from some small servers and proxies).
    BARE_LF = enum.auto()
    #: A continuation request that is a bare ``+`` with no space or text after it.
    BARE_CONTINUATION = enum.auto()
    #: A status response with no text after the response code, or no text at all
    #: (Gmail: ``* OK [HIGHESTMODSEQ 123]``).
    MISSING_RESP_TEXT = enum.auto()
    #: Trailing spaces at the end of a response line (Exchange, e.g. after STATUS).
    TRAILING_SPACE = enum.auto()
    #: ``]`` inside a flag in a FLAGS list (Gmail).
    BRACKET_IN_FLAG = enum.auto()
    #: NIL where BODYSTRUCTURE requires a string (Exchange).
    NIL_FOR_STRING = enum.auto()
    #: Negative numbers (``-1``) for body size or line counts (Dovecot, Exchange).
    NEGATIVE_NUMBER = enum.auto()
    #: Numbers written with a fraction or exponent, e.g. ``1.2E3`` for a size.
    NUMBER_NOTATION = enum.auto()
    #: Response codes whose arguments are missing or malformed (Exchange's COPYUID):
    #: the code is kept as raw data instead of failing the whole response.
    MALFORMED_RESP_CODE = enum.auto()
    #: Characters outside the atom grammar inside atoms (e.g. ``[`` in a keyword,
    #: non-ASCII bytes in a flag); the atom is taken up to the next delimiter.
    LAX_ATOM = enum.auto()
    #: A FETCH data item that cannot be read (e.g. a broken BODYSTRUCTURE) is returned as
    #: :class:`~imapclient.response_types.Unparsed` instead of failing the response, as
    #: long as it is a well-formed value; the other items and the connection stay usable.
    UNPARSED_FETCH_ITEM = enum.auto()
    #: ``* QUOTA root`` with no resource list (Courier): read as a root without limits.
    MISSING_QUOTA_LIST = enum.auto()

    # Client-side tolerances: how the command layer copes with a vendor's behaviour.

    #: ``FETCH RFC822`` answered with a ``BODY[]`` item instead (iCloud): the body is
    #: returned under ``b'RFC822'`` as asked.
    RFC822_AS_BODY = enum.auto()
    #: SELECT refused until the client has identified itself with ID (NetEase 163/126:
    #: "Unsafe Login"): when the server offers ID, send it once and retry the SELECT.
    ID_BEFORE_SELECT = enum.auto()


DEFAULT_TOLERANCES = (
    Tolerance.BARE_LF
    | Tolerance.BARE_CONTINUATION
    | Tolerance.MISSING_RESP_TEXT
    | Tolerance.TRAILING_SPACE
    | Tolerance.BRACKET_IN_FLAG
    | Tolerance.NIL_FOR_STRING
    | Tolerance.NEGATIVE_NUMBER
    | Tolerance.NUMBER_NOTATION
    | Tolerance.MALFORMED_RESP_CODE
    | Tolerance.LAX_ATOM
    | Tolerance.UNPARSED_FETCH_ITEM
    | Tolerance.MISSING_QUOTA_LIST
    | Tolerance.RFC822_AS_BODY
    | Tolerance.ID_BEFORE_SELECT
)

#: The tolerances the command layer applies (the others are the parser's).
CLIENT_TOLERANCES = Tolerance.RFC822_AS_BODY | Tolerance.ID_BEFORE_SELECT
STRICT = Tolerance(0)
