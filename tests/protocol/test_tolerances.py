"""One or more realistic transcripts for every :class:`Tolerance` flag.

Each transcript reproduces a defect real servers are known to send. With the default
tolerances it must parse to the right value; with ``STRICT`` (no tolerances) it must raise
:class:`ProtocolError`; and the flag it is registered under must be enough on its own (with
any flag the transcript declares it also ``needs``) to accept it, which proves that the
defect is really handled by that tolerance.

``REGISTRY`` maps every member of ``Tolerance`` to its transcripts; a test checks that no
member is missing, so a new tolerance cannot be added without a transcript here.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from unittest.mock import ANY

import pytest

from imapclient.exceptions import ProtocolError
from imapclient.protocol.framing import Framer
from imapclient.protocol.parser import Parser, parse_response
from imapclient.protocol.responses import (
    ContinuationRequest,
    MailboxList,
    MailboxStatus,
    ResponseCode,
    StatusResponse,
    UntaggedResponse,
)
from imapclient.protocol.tolerances import CLIENT_TOLERANCES, DEFAULT_TOLERANCES, STRICT, Tolerance
from imapclient.response_types import BodyData, SearchIds, SequenceSet, Unparsed


def canon(value: Any) -> Any:
    """A comparable form that keeps exact container types and SearchIds.modseq."""
    if isinstance(value, SearchIds):
        return ("SearchIds", [canon(v) for v in value], value.modseq)
    if isinstance(value, BodyData):
        return ("BodyData", tuple(canon(v) for v in value))
    if isinstance(value, SequenceSet):
        return ("SequenceSet", value.ranges)
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), value.utcoffset())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            tuple(canon(getattr(value, f.name)) for f in dataclasses.fields(value)),
        )
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__, tuple(canon(v) for v in value))
    if isinstance(value, dict):
        return ("dict", {k: canon(v) for k, v in value.items()})
    if isinstance(value, list):
        return ("list", [canon(v) for v in value])
    if isinstance(value, tuple):
        return tuple(canon(v) for v in value)
    return value


@dataclasses.dataclass(frozen=True)
class Defect:
    """A server defect: ``raw`` is one framed response (or, with ``wire``, the bytes as
    they arrive on the socket, to go through the Framer first)."""

    name: str
    raw: bytes
    expected: Any  # the parsed response, or a list of them when ``wire`` is set
    wire: bool = False
    needs: Tolerance = STRICT  # other flags this transcript also relies on


def fetch(number: int, items: dict[bytes, Any]) -> UntaggedResponse:
    return UntaggedResponse(b"FETCH", number, items)


def body(*fields: Any) -> BodyData:
    return BodyData(fields)


# --- the registry ---------------------------------------------------------------------

_GMAIL_FLAGS = (
    b"\\Answered",
    b"\\Flagged",
    b"\\Draft",
    b"\\Deleted",
    b"\\Seen",
    b"$NotPhishing",
    b"$Phishing",
    b"OIB-Seen-INBOX",
    b"OIB-Seen-[Gmail]/Important",
    b"OIB-Seen-[Gmail]/Trash",
)

REGISTRY: dict[Tolerance, list[Defect]] = {
    Tolerance.BARE_LF: [
        Defect(
            "select-answer-with-bare-lf",
            b"* 3 EXISTS\n* OK [UIDNEXT 4] Predicted next UID\na1 OK [READ-WRITE] Done\n",
            [
                UntaggedResponse(b"EXISTS", 3, None),
                StatusResponse(
                    None, b"OK", ResponseCode(b"UIDNEXT", 4, b"4"), b"Predicted next UID"
                ),
                StatusResponse(b"a1", b"OK", ResponseCode(b"READ-WRITE"), b"Done"),
            ],
            wire=True,
        ),
        Defect(
            "literal-announced-with-bare-lf",
            b"* 1 FETCH (BODY[] {7}\nHi\r\nyou UID 5)\n",
            [fetch(1, {b"BODY[]": b"Hi\r\nyou", b"UID": 5})],
            wire=True,
        ),
    ],
    Tolerance.BARE_CONTINUATION: [
        Defect("bare-plus", b"+", ContinuationRequest(b"")),
    ],
    Tolerance.MISSING_RESP_TEXT: [
        Defect(
            "gmail-highestmodseq-without-text",
            b"* OK [HIGHESTMODSEQ 9195383]",
            StatusResponse(None, b"OK", ResponseCode(b"HIGHESTMODSEQ", 9195383, b"9195383"), b""),
        ),
        Defect(
            "tagged-ok-without-text",
            b"a7 OK",
            StatusResponse(b"a7", b"OK", None, b""),
        ),
    ],
    Tolerance.TRAILING_SPACE: [
        Defect(
            "exchange-status-trailing-space",
            b'* STATUS "INBOX" (MESSAGES 3 UNSEEN 1) ',
            UntaggedResponse(
                b"STATUS", None, MailboxStatus(b"INBOX", {b"MESSAGES": 3, b"UNSEEN": 1})
            ),
        ),
        Defect(
            "search-trailing-space",
            b"* SEARCH 1 2 3 ",
            UntaggedResponse(b"SEARCH", None, SearchIds([1, 2, 3])),
        ),
        Defect(
            "list-trailing-space",
            b'* LIST (\\HasNoChildren) "/" INBOX ',
            UntaggedResponse(b"LIST", None, MailboxList((b"\\HasNoChildren",), b"/", b"INBOX", {})),
        ),
    ],
    Tolerance.BRACKET_IN_FLAG: [
        Defect(
            "gmail-flags-with-bracket",
            b"* FLAGS (" + b" ".join(_GMAIL_FLAGS) + b")",
            UntaggedResponse(b"FLAGS", None, _GMAIL_FLAGS),
        ),
        Defect(
            "gmail-permanentflags-with-bracket",
            b"* OK [PERMANENTFLAGS (" + b" ".join(_GMAIL_FLAGS) + b" \\*)] Flags permitted.",
            StatusResponse(
                None,
                b"OK",
                ResponseCode(
                    b"PERMANENTFLAGS",
                    (*_GMAIL_FLAGS, b"\\*"),
                    b"(" + b" ".join(_GMAIL_FLAGS) + b" \\*)",
                ),
                b"Flags permitted.",
            ),
        ),
        Defect(
            "gmail-fetch-flags-with-bracket",
            b"* 5 FETCH (UID 9 FLAGS (\\Seen OIB-Seen-[Gmail]/Important))",
            fetch(5, {b"UID": 9, b"FLAGS": (b"\\Seen", b"OIB-Seen-[Gmail]/Important")}),
        ),
    ],
    Tolerance.NIL_FOR_STRING: [
        Defect(
            "nil-body-encoding",
            b'* 80 FETCH (UID 111 BODYSTRUCTURE (("text" "plain" ("CHARSET" "UTF-8") NIL NIL '
            b'NIL 1694 51 NIL NIL NIL NIL)("text" "html" ("CHARSET" "UTF-8") NIL NIL '
            b'"quoted-printable" 5750 77 NIL NIL NIL NIL) "alternative"))',
            fetch(
                80,
                {
                    b"UID": 111,
                    b"BODYSTRUCTURE": BodyData(
                        (
                            [
                                body(
                                    b"text",
                                    b"plain",
                                    (b"CHARSET", b"UTF-8"),
                                    None,
                                    None,
                                    None,
                                    1694,
                                    51,
                                    None,
                                    None,
                                    None,
                                    None,
                                ),
                                body(
                                    b"text",
                                    b"html",
                                    (b"CHARSET", b"UTF-8"),
                                    None,
                                    None,
                                    b"quoted-printable",
                                    5750,
                                    77,
                                    None,
                                    None,
                                    None,
                                    None,
                                ),
                            ],
                            b"alternative",
                        )
                    ),
                },
            ),
        ),
        Defect(
            "nil-media-subtype",
            b'* 2 FETCH (BODYSTRUCTURE ("application" NIL NIL NIL NIL "base64" 4096))',
            fetch(
                2,
                {b"BODYSTRUCTURE": body(b"application", None, None, None, None, b"base64", 4096)},
            ),
        ),
    ],
    Tolerance.NEGATIVE_NUMBER: [
        Defect(
            "negative-line-count",
            b'* 3 FETCH (BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL '
            b'"7bit" 0 -1))',
            fetch(
                3,
                {
                    b"BODYSTRUCTURE": body(
                        b"text", b"plain", (b"charset", b"us-ascii"), None, None, b"7bit", 0, -1
                    )
                },
            ),
        ),
        Defect(
            "negative-size",
            b'* 4 FETCH (BODY ("application" "octet-stream" NIL NIL NIL "base64" -1))',
            fetch(
                4,
                {b"BODY": body(b"application", b"octet-stream", None, None, None, b"base64", -1)},
            ),
        ),
    ],
    Tolerance.NUMBER_NOTATION: [
        Defect(
            "size-in-exponent-form",
            b"* 6 FETCH (UID 6 RFC822.SIZE 1.2E3)",
            fetch(6, {b"UID": 6, b"RFC822.SIZE": 1200}),
        ),
        Defect(
            "size-with-fraction",
            b"* 7 FETCH (RFC822.SIZE 2048.0)",
            fetch(7, {b"RFC822.SIZE": 2048}),
        ),
        Defect(
            "bodystructure-size-in-exponent-form",
            b'* 8 FETCH (BODYSTRUCTURE ("text" "plain" NIL NIL NIL "7bit" 1.2E3 10))',
            fetch(
                8, {b"BODYSTRUCTURE": body(b"text", b"plain", None, None, None, b"7bit", 1200, 10)}
            ),
        ),
    ],
    Tolerance.MALFORMED_RESP_CODE: [
        Defect(
            "exchange-copyuid-missing-arguments",
            b"* OK [COPYUID 14  ]",
            StatusResponse(None, b"OK", ResponseCode(b"COPYUID", None, b"14  "), b""),
            needs=Tolerance.MISSING_RESP_TEXT,
        ),
        Defect(
            "copyuid-missing-arguments-tagged",
            b"B00000011 OK [COPYUID 14  ] MOVE completed.",
            StatusResponse(
                b"B00000011", b"OK", ResponseCode(b"COPYUID", None, b"14  "), b"MOVE completed."
            ),
        ),
        Defect(
            "appenduid-missing-uid",
            b"a3 OK [APPENDUID 38505] APPEND completed",
            StatusResponse(
                b"a3", b"OK", ResponseCode(b"APPENDUID", None, b"38505"), b"APPEND completed"
            ),
        ),
    ],
    Tolerance.LAX_ATOM: [
        Defect(
            "keyword-with-8bit-bytes",
            b"* 9 FETCH (FLAGS (\\Seen Erledigt\xc3\xa4))",
            fetch(9, {b"FLAGS": (b"\\Seen", b"Erledigt\xc3\xa4")}),
        ),
        Defect(
            "keyword-with-percent",
            b"* FLAGS (\\Answered \\Seen $Label%1 $label*2)",
            UntaggedResponse(b"FLAGS", None, (b"\\Answered", b"\\Seen", b"$Label%1", b"$label*2")),
        ),
        Defect(
            "unquoted-utf8-mailbox-name",
            b'* LIST (\\HasNoChildren) "/" Entw\xc3\xbcrfe',
            UntaggedResponse(
                b"LIST", None, MailboxList((b"\\HasNoChildren",), b"/", b"Entw\xc3\xbcrfe", {})
            ),
        ),
    ],
    Tolerance.MISSING_QUOTA_LIST: [
        Defect(
            "courier-quota-root-without-resources",
            b'* QUOTA "ROOT"',
            UntaggedResponse(b"QUOTA", None, (b"ROOT", ())),
        ),
    ],
    Tolerance.UNPARSED_FETCH_ITEM: [
        Defect(
            "truncated-bodystructure-among-good-items",
            b'* 4 FETCH (UID 17 BODYSTRUCTURE ("TEXT" "PLAIN" NIL) FLAGS (\\Seen))',
            fetch(
                4,
                {
                    b"UID": 17,
                    b"BODYSTRUCTURE": Unparsed(b'("TEXT" "PLAIN" NIL)', ANY),
                    b"FLAGS": (b"\\Seen",),
                },
            ),
        ),
    ],
}

CASES = [
    pytest.param(flag, defect, id=f"{flag.name}-{defect.name}")
    for flag, defects in REGISTRY.items()
    for defect in defects
]


def run(defect: Defect, tolerances: Tolerance) -> Any:
    """Frame (if the transcript is wire bytes) and parse under ``tolerances``."""
    parser = Parser(tolerances=tolerances)
    if not defect.wire:
        return parser.parse(defect.raw)
    framer = Framer(tolerances=tolerances)
    framer.feed(defect.raw)
    out = []
    while (response := framer.next_response()) is not None:
        out.append(parser.parse(response))
    framer.eof()
    return out


# --- tests ----------------------------------------------------------------------------


def test_every_tolerance_has_a_transcript():
    # The client-level ones are tested with vendor sessions in tests/test_vendor_quirks.py.
    missing = [
        flag.name for flag in Tolerance if not REGISTRY.get(flag) and not flag & CLIENT_TOLERANCES
    ]
    assert not missing, f"tolerances without a transcript: {missing}"


def test_registry_keys_are_single_flags():
    for flag in REGISTRY:
        assert flag in list(Tolerance)


def test_default_tolerances_include_every_flag():
    for flag in Tolerance:
        assert DEFAULT_TOLERANCES & flag


@pytest.mark.parametrize(("flag", "defect"), CASES)
def test_accepted_with_default_tolerances(flag, defect):
    assert canon(run(defect, DEFAULT_TOLERANCES)) == canon(defect.expected)


@pytest.mark.parametrize(("flag", "defect"), [c for c in CASES if not c.values[1].wire])
def test_parse_response_default_argument(flag, defect):
    assert canon(parse_response(defect.raw)) == canon(defect.expected)


@pytest.mark.parametrize(("flag", "defect"), CASES)
def test_rejected_when_strict(flag, defect):
    with pytest.raises(ProtocolError):
        if defect.wire:
            run(defect, STRICT)
        else:
            parse_response(defect.raw, tolerances=STRICT)


@pytest.mark.parametrize(("flag", "defect"), CASES)
def test_accepted_by_its_own_flag(flag, defect):
    assert canon(run(defect, flag | defect.needs)) == canon(defect.expected)


@pytest.mark.parametrize(("flag", "defect"), [c for c in CASES if c.values[1].needs])
def test_needed_flags_are_really_needed(flag, defect):
    with pytest.raises(ProtocolError):
        run(defect, flag)


def test_bare_lf_rejected_by_strict_framer():
    framer = Framer(tolerances=STRICT)
    framer.feed(b"* 3 EXISTS\n")
    with pytest.raises(ProtocolError):
        framer.next_response()
