"""Transcript tests for :func:`imapclient.protocol.parser.parse_response`: RFC 9051
(IMAP4rev2) and the RFC 3501 (IMAP4rev1) responses it still has to accept.

Each case is one complete response as the framer delivers it (final CRLF removed, literal
data inline) and the object the parser must produce. Cases are grouped by the RFC section
that defines the response; where the RFC shows an example response, that example is used.
Extensions live in test_parser_extensions.py, server defects in test_tolerances.py.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parse_checks import assert_rejected_or_unparsed

from imapclient.exceptions import LimitExceededError, ProtocolError
from imapclient.protocol.limits import Limits
from imapclient.protocol.parser import Parser, parse_response
from imapclient.protocol.responses import (
    AppendUid,
    ContinuationRequest,
    CopyUid,
    ESearchResponse,
    MailboxList,
    MailboxStatus,
    ResponseCode,
    StatusResponse,
    UntaggedResponse,
)
from imapclient.protocol.tolerances import DEFAULT_TOLERANCES as _DEFAULT_TOLERANCES
from imapclient.protocol.tolerances import STRICT
from imapclient.protocol.tolerances import Tolerance as _Tolerance
from imapclient.response_types import Address, BodyData, Envelope, SearchIds, SequenceSet

# --- comparison -----------------------------------------------------------------------


def canon(value: Any) -> Any:
    """A comparable form that keeps what == would lose: the exact type of containers
    (tuple vs list vs BodyData), SearchIds.modseq, and a datetime's UTC offset."""
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
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # NamedTuple
        return (type(value).__name__, tuple(canon(v) for v in value))
    if isinstance(value, dict):
        return ("dict", {k: canon(v) for k, v in value.items()})
    if isinstance(value, list):
        return ("list", [canon(v) for v in value])
    if isinstance(value, tuple):
        return tuple(canon(v) for v in value)
    if isinstance(value, bool):
        return ("bool", value)
    return value


def check(raw: bytes, expected: Any, **kwargs: Any) -> None:
    assert canon(parse_response(raw, **kwargs)) == canon(expected)


# --- builders for expected values -----------------------------------------------------


def ok(text: bytes, code: ResponseCode | None = None, tag: bytes | None = None):
    return StatusResponse(tag, b"OK", code, text)


def status(tag: bytes | None, word: bytes, code: ResponseCode | None, text: bytes):
    return StatusResponse(tag, word, code, text)


def code(name: bytes, value: Any = None, raw: bytes = b"") -> ResponseCode:
    return ResponseCode(name, value, raw)


def data(name: bytes, value: Any, number: int | None = None) -> UntaggedResponse:
    return UntaggedResponse(name, number, value)


def fetch(number: int, items: dict[bytes, Any]) -> UntaggedResponse:
    return UntaggedResponse(b"FETCH", number, items)


def tz(hours: int, minutes: int = 0) -> timezone:
    sign = -1 if hours < 0 else 1
    return timezone(sign * timedelta(hours=abs(hours), minutes=minutes))


def seq(text: str) -> SequenceSet:
    ranges = []
    for part in text.split(","):
        a, _, b = part.partition(":")
        ranges.append((int(a), int(b or a)))
    return SequenceSet(ranges)


def lit(content: bytes) -> bytes:
    """A synchronising literal holding ``content``, as it appears in a framed response."""
    return b"{%d}\r\n" % len(content) + content


def body(*fields: Any) -> BodyData:
    return BodyData(fields)


def multipart(parts: list[BodyData], *rest: Any) -> BodyData:
    return BodyData((parts, *rest))


# --- RFC 9051 section 7.1: status responses -------------------------------------------

GREETINGS = [
    pytest.param(
        b"* OK IMAP4rev2 server ready", ok(b"IMAP4rev2 server ready"), id="7.1.1-greeting-ok"
    ),
    pytest.param(
        b"* OK [CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI LOGINDISABLED] Server ready",
        ok(
            b"Server ready",
            code(
                b"CAPABILITY",
                (b"IMAP4REV2", b"STARTTLS", b"AUTH=GSSAPI", b"LOGINDISABLED"),
                b"IMAP4rev2 STARTTLS AUTH=GSSAPI LOGINDISABLED",
            ),
        ),
        id="7.1.1-greeting-ok-with-capability",
    ),
    pytest.param(
        b"* PREAUTH IMAP4rev2 server logged in as Smith",
        status(None, b"PREAUTH", None, b"IMAP4rev2 server logged in as Smith"),
        id="7.1.4-greeting-preauth",
    ),
    pytest.param(
        b"* PREAUTH [CAPABILITY IMAP4rev2] Logged in",
        status(None, b"PREAUTH", code(b"CAPABILITY", (b"IMAP4REV2",), b"IMAP4rev2"), b"Logged in"),
        id="7.1.4-greeting-preauth-with-code",
    ),
    pytest.param(
        b"* BYE Autologout; idle for too long",
        status(None, b"BYE", None, b"Autologout; idle for too long"),
        id="7.1.5-bye",
    ),
    pytest.param(
        b"* BYE [UNAVAILABLE] Server shutting down",
        status(None, b"BYE", code(b"UNAVAILABLE"), b"Server shutting down"),
        id="7.1.5-bye-greeting-with-code",
    ),
]

TAGGED_AND_UNTAGGED_STATUS = [
    pytest.param(
        b"a001 OK LOGIN completed", ok(b"LOGIN completed", tag=b"a001"), id="7.1.1-tagged-ok"
    ),
    pytest.param(
        b"* NO Disk is 98% full, please delete unnecessary data",
        status(None, b"NO", None, b"Disk is 98% full, please delete unnecessary data"),
        id="7.1.2-untagged-no-warning",
    ),
    pytest.param(
        b"A222 NO COPY failed: disk is full",
        status(b"A222", b"NO", None, b"COPY failed: disk is full"),
        id="7.1.2-tagged-no",
    ),
    pytest.param(
        b"* BAD Command line too long",
        status(None, b"BAD", None, b"Command line too long"),
        id="7.1.3-untagged-bad",
    ),
    pytest.param(
        b'A443 BAD No such command as "BLURDYBLOOP"',
        status(b"A443", b"BAD", None, b'No such command as "BLURDYBLOOP"'),
        id="7.1.3-tagged-bad",
    ),
    pytest.param(
        b"a1 ok lower-case status word",
        ok(b"lower-case status word", tag=b"a1"),
        id="status-word-case-insensitive",
    ),
    pytest.param(b"* OK ", ok(b""), id="9051-empty-text-after-sp"),
    pytest.param(b"* OK [ALERT] ", ok(b"", code(b"ALERT")), id="9051-code-and-empty-text-after-sp"),
    pytest.param(
        b"tag.with]bracket OK done",
        ok(b"done", tag=b"tag.with]bracket"),
        id="tag-may-contain-resp-specials",
    ),
    pytest.param(
        b'* OK text with [brackets] and "quotes" and {braces}',
        ok(b'text with [brackets] and "quotes" and {braces}'),
        id="text-is-taken-verbatim",
    ),
]

RESPONSE_CODES = [
    pytest.param(
        b"* OK [ALERT] System shutdown in 10 minutes",
        ok(b"System shutdown in 10 minutes", code(b"ALERT")),
        id="7.1-alert",
    ),
    pytest.param(
        b"* NO [ALREADYEXISTS] Mailbox already exists",
        status(None, b"NO", code(b"ALREADYEXISTS"), b"Mailbox already exists"),
        id="7.1-alreadyexists",
    ),
    pytest.param(
        b"A003 OK [APPENDUID 38505 3955] APPEND completed",
        ok(
            b"APPEND completed",
            code(b"APPENDUID", AppendUid(38505, seq("3955")), b"38505 3955"),
            b"A003",
        ),
        id="7.1-appenduid",
    ),
    pytest.param(
        b"A004 OK [APPENDUID 38505 3955:3957] MULTIAPPEND completed",
        ok(
            b"MULTIAPPEND completed",
            code(b"APPENDUID", AppendUid(38505, seq("3955:3957")), b"38505 3955:3957"),
            b"A004",
        ),
        id="4315-appenduid-uid-set",
    ),
    pytest.param(
        b"b NO [AUTHENTICATIONFAILED] Authentication failed",
        status(b"b", b"NO", code(b"AUTHENTICATIONFAILED"), b"Authentication failed"),
        id="7.1-authenticationfailed",
    ),
    pytest.param(
        b"c NO [AUTHORIZATIONFAILED] No such authorization-ID",
        status(b"c", b"NO", code(b"AUTHORIZATIONFAILED"), b"No such authorization-ID"),
        id="7.1-authorizationfailed",
    ),
    pytest.param(
        b"a NO [BADCHARSET] Unsupported charset",
        status(b"a", b"NO", code(b"BADCHARSET"), b"Unsupported charset"),
        id="7.1-badcharset-bare",
    ),
    pytest.param(
        b'a NO [BADCHARSET (UTF-8 "US-ASCII" {10}\r\nISO-8859-1)] Try one of these',
        status(
            b"a",
            b"NO",
            code(
                b"BADCHARSET",
                (b"UTF-8", b"US-ASCII", b"ISO-8859-1"),
                b'(UTF-8 "US-ASCII" {10}\r\nISO-8859-1)',
            ),
            b"Try one of these",
        ),
        id="7.1-badcharset-list-atom-quoted-literal",
    ),
    pytest.param(
        b"m NO [CANNOT] Adjacent slashes are not supported",
        status(b"m", b"NO", code(b"CANNOT"), b"Adjacent slashes are not supported"),
        id="7.1-cannot",
    ),
    pytest.param(
        b"a002 OK [CAPABILITY IMAP4rev2 AUTH=PLAIN] Logged in",
        ok(
            b"Logged in",
            code(b"CAPABILITY", (b"IMAP4REV2", b"AUTH=PLAIN"), b"IMAP4rev2 AUTH=PLAIN"),
            b"a002",
        ),
        id="7.1-capability",
    ),
    pytest.param(
        b"l NO [CLIENTBUG] Done, but you sent an odd command",
        status(b"l", b"NO", code(b"CLIENTBUG"), b"Done, but you sent an odd command"),
        id="7.1-clientbug",
    ),
    pytest.param(
        b"* OK [CLOSED] Previous mailbox is now closed",
        ok(b"Previous mailbox is now closed", code(b"CLOSED")),
        id="7.1-closed",
    ),
    pytest.param(
        b"f NO [CONTACTADMIN] You need to contact the administrator",
        status(b"f", b"NO", code(b"CONTACTADMIN"), b"You need to contact the administrator"),
        id="7.1-contactadmin",
    ),
    pytest.param(
        b"A004 OK [COPYUID 38505 304,319:320 3956:3958] Done",
        ok(
            b"Done",
            code(
                b"COPYUID",
                CopyUid(38505, seq("304,319:320"), seq("3956:3958")),
                b"38505 304,319:320 3956:3958",
            ),
            b"A004",
        ),
        id="7.1-copyuid",
    ),
    pytest.param(
        b"* OK [COPYUID 432432 42:69 1202:1229] Moved",
        ok(
            b"Moved",
            code(
                b"COPYUID",
                CopyUid(432432, seq("42:69"), seq("1202:1229")),
                b"432432 42:69 1202:1229",
            ),
        ),
        id="7.1-copyuid-untagged-from-move",
    ),
    pytest.param(
        b"j NO [CORRUPTION] Cannot open mailbox",
        status(b"j", b"NO", code(b"CORRUPTION"), b"Cannot open mailbox"),
        id="7.1-corruption",
    ),
    pytest.param(
        b"d NO [EXPIRED] That password is no longer valid",
        status(b"d", b"NO", code(b"EXPIRED"), b"That password is no longer valid"),
        id="7.1-expired",
    ),
    pytest.param(
        b"i OK [EXPUNGEISSUED] Search completed",
        ok(b"Search completed", code(b"EXPUNGEISSUED"), b"i"),
        id="7.1-expungeissued",
    ),
    pytest.param(
        b"a NO [HASCHILDREN] Mailbox has children",
        status(b"a", b"NO", code(b"HASCHILDREN"), b"Mailbox has children"),
        id="7.1-haschildren",
    ),
    pytest.param(
        b"h NO [INUSE] Mailbox in use",
        status(b"h", b"NO", code(b"INUSE"), b"Mailbox in use"),
        id="7.1-inuse",
    ),
    pytest.param(
        b"n NO [LIMIT] At most 32 flags in one mailbox supported",
        status(b"n", b"NO", code(b"LIMIT"), b"At most 32 flags in one mailbox supported"),
        id="7.1-limit",
    ),
    pytest.param(
        b"q NO [NONEXISTENT] No such mailbox",
        status(b"q", b"NO", code(b"NONEXISTENT"), b"No such mailbox"),
        id="7.1-nonexistent",
    ),
    pytest.param(
        b"g NO [NOPERM] Access denied",
        status(b"g", b"NO", code(b"NOPERM"), b"Access denied"),
        id="7.1-noperm",
    ),
    pytest.param(
        b"o NO [OVERQUOTA] Sorry",
        status(b"o", b"NO", code(b"OVERQUOTA"), b"Sorry"),
        id="7.1-overquota",
    ),
    pytest.param(
        b"* OK [PARSE] Unable to parse the Date header",
        ok(b"Unable to parse the Date header", code(b"PARSE")),
        id="7.1-parse",
    ),
    pytest.param(
        b"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited",
        ok(
            b"Limited",
            code(b"PERMANENTFLAGS", (b"\\Deleted", b"\\Seen", b"\\*"), b"(\\Deleted \\Seen \\*)"),
        ),
        id="7.1-permanentflags",
    ),
    pytest.param(
        b"* OK [PERMANENTFLAGS ()] No permanent flags permitted",
        ok(b"No permanent flags permitted", code(b"PERMANENTFLAGS", (), b"()")),
        id="7.1-permanentflags-empty",
    ),
    pytest.param(
        b"e NO [PRIVACYREQUIRED] Connection offers no privacy",
        status(b"e", b"NO", code(b"PRIVACYREQUIRED"), b"Connection offers no privacy"),
        id="7.1-privacyrequired",
    ),
    pytest.param(
        b"A932 OK [READ-ONLY] EXAMINE completed",
        ok(b"EXAMINE completed", code(b"READ-ONLY"), b"A932"),
        id="7.1-read-only",
    ),
    pytest.param(
        b"A142 OK [READ-WRITE] SELECT completed",
        ok(b"SELECT completed", code(b"READ-WRITE"), b"A142"),
        id="7.1-read-write",
    ),
    pytest.param(
        b"k NO [SERVERBUG] Internal error",
        status(b"k", b"NO", code(b"SERVERBUG"), b"Internal error"),
        id="7.1-serverbug",
    ),
    pytest.param(
        b"A003 NO [TRYCREATE] Mailbox doesn't exist: foo",
        status(b"A003", b"NO", code(b"TRYCREATE"), b"Mailbox doesn't exist: foo"),
        id="7.1-trycreate",
    ),
    pytest.param(
        b"* OK [UIDNEXT 4392] Predicted next UID",
        ok(b"Predicted next UID", code(b"UIDNEXT", 4392, b"4392")),
        id="7.1-uidnext",
    ),
    pytest.param(
        b"* NO [UIDNOTSTICKY] Non-persistent UIDs",
        status(None, b"NO", code(b"UIDNOTSTICKY"), b"Non-persistent UIDs"),
        id="7.1-uidnotsticky",
    ),
    pytest.param(
        b"* OK [UIDVALIDITY 3857529045] UIDs valid",
        ok(b"UIDs valid", code(b"UIDVALIDITY", 3857529045, b"3857529045")),
        id="7.1-uidvalidity",
    ),
    pytest.param(
        b"a NO [UNAVAILABLE] User's backend down for maintenance",
        status(b"a", b"NO", code(b"UNAVAILABLE"), b"User's backend down for maintenance"),
        id="7.1-unavailable",
    ),
    pytest.param(
        b"a NO [UNKNOWN-CTE] Can't decode the part's encoding",
        status(b"a", b"NO", code(b"UNKNOWN-CTE"), b"Can't decode the part's encoding"),
        id="7.1-unknown-cte",
    ),
    pytest.param(
        b"* OK [UNSEEN 12] Message 12 is first unseen",
        ok(b"Message 12 is first unseen", code(b"UNSEEN", 12, b"12")),
        id="3501-7.1-unseen",
    ),
    pytest.param(
        b"* ok [uidnext 5] lower case",
        ok(b"lower case", code(b"UIDNEXT", 5, b"5")),
        id="code-name-case-insensitive",
    ),
    pytest.param(
        b"* OK [X-VENDOR-THING some (raw) args 1:2] hello",
        ok(b"hello", code(b"X-VENDOR-THING", b"some (raw) args 1:2", b"some (raw) args 1:2")),
        id="unknown-code-kept-raw",
    ),
    pytest.param(
        b"* NO [X-NOARG] hello",
        status(None, b"NO", code(b"X-NOARG"), b"hello"),
        id="unknown-code-without-argument",
    ),
]

CONTINUATIONS = [
    pytest.param(
        b"+ Ready for additional command text",
        ContinuationRequest(b"Ready for additional command text"),
        id="7.6-continuation-text",
    ),
    pytest.param(
        b"+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=",
        ContinuationRequest(
            b"YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ="
        ),
        id="7.6-continuation-base64",
    ),
    pytest.param(b"+ ", ContinuationRequest(b""), id="7.6-continuation-empty-base64"),
    pytest.param(b"+ idling", ContinuationRequest(b"idling"), id="7.6-continuation-idle"),
]

# --- RFC 9051 sections 7.2-7.5: data responses ----------------------------------------

SERVER_AND_MAILBOX_STATUS = [
    pytest.param(
        b"* CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI XPIG-LATIN",
        data(b"CAPABILITY", (b"IMAP4REV2", b"STARTTLS", b"AUTH=GSSAPI", b"XPIG-LATIN")),
        id="7.2.2-capability",
    ),
    pytest.param(
        b"* CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE",
        data(b"CAPABILITY", (b"IMAP4REV1", b"IMAP4REV2", b"LITERAL+", b"ID", b"ENABLE")),
        id="7.2.2-capability-both-revisions",
    ),
    pytest.param(b"* ENABLED", data(b"ENABLED", ()), id="7.2.1-enabled-nothing"),
    pytest.param(
        b"* ENABLED IMAP4rev2 UTF8=ACCEPT",
        data(b"ENABLED", (b"IMAP4REV2", b"UTF8=ACCEPT")),
        id="7.2.1-enabled",
    ),
    # 7.3.1 LIST
    pytest.param(
        b'* LIST (\\Noselect) "/" ""',
        data(b"LIST", MailboxList((b"\\Noselect",), b"/", b"", {})),
        id="7.3.1-list-hierarchy-delimiter",
    ),
    pytest.param(
        b'* LIST (\\Noselect) "." #news.',
        data(b"LIST", MailboxList((b"\\Noselect",), b".", b"#news.", {})),
        id="7.3.1-list-news-root",
    ),
    pytest.param(
        b'* LIST () "/" ~/Mail/meetings',
        data(b"LIST", MailboxList((), b"/", b"~/Mail/meetings", {})),
        id="7.3.1-list-atom-name",
    ),
    pytest.param(
        b'* LIST (\\Marked \\NoInferiors) "/" "inbox"',
        data(b"LIST", MailboxList((b"\\Marked", b"\\NoInferiors"), b"/", b"inbox", {})),
        id="7.3.1-list-inbox-quoted",
    ),
    pytest.param(
        b"* LIST () NIL INBOX",
        data(b"LIST", MailboxList((), None, b"INBOX", {})),
        id="7.3.1-list-nil-delimiter",
    ),
    pytest.param(
        b'* LIST (\\HasNoChildren) "." "INBOX.Sent Items"',
        data(b"LIST", MailboxList((b"\\HasNoChildren",), b".", b"INBOX.Sent Items", {})),
        id="7.3.1-list-quoted-name-with-space",
    ),
    pytest.param(
        b'* LIST (\\HasNoChildren) "/" {11}\r\nFoo "Bar"\\x',
        data(b"LIST", MailboxList((b"\\HasNoChildren",), b"/", b'Foo "Bar"\\x', {})),
        id="7.3.1-list-literal-name",
    ),
    pytest.param(
        b'* LIST () "/" "a \\"quoted\\" \\\\ name"',
        data(b"LIST", MailboxList((), b"/", b'a "quoted" \\ name', {})),
        id="7.3.1-list-quoted-escapes",
    ),
    pytest.param(
        b'* LIST () "\\\\" Foo',
        data(b"LIST", MailboxList((), b"\\", b"Foo", {})),
        id="7.3.1-list-backslash-delimiter",
    ),
    pytest.param(
        b'* LIST () "/" NIL',
        data(b"LIST", MailboxList((), b"/", b"NIL", {})),
        id="7.3.1-list-mailbox-named-nil",
    ),
    pytest.param(
        b'* LIST () "/" "Caf\xc3\xa9"',
        data(b"LIST", MailboxList((), b"/", b"Caf\xc3\xa9", {})),
        id="7.3.1-list-utf8-quoted-name",
    ),
    pytest.param(
        b'* LIST (\\HasNoChildren \\Drafts) "/" Drafts',
        data(b"LIST", MailboxList((b"\\HasNoChildren", b"\\Drafts"), b"/", b"Drafts", {})),
        id="7.3.1-list-special-use",
    ),
    pytest.param(
        b'* LSUB () "." #news.comp.mail.misc',
        data(b"LSUB", MailboxList((), b".", b"#news.comp.mail.misc", {})),
        id="3501-7.2.3-lsub",
    ),
    pytest.param(
        b'* LSUB (\\NoSelect) "." #news.comp.mail',
        data(b"LSUB", MailboxList((b"\\NoSelect",), b".", b"#news.comp.mail", {})),
        id="3501-7.2.3-lsub-noselect",
    ),
    # 7.3.3 STATUS
    pytest.param(
        b"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)",
        data(b"STATUS", MailboxStatus(b"blurdybloop", {b"MESSAGES": 231, b"UIDNEXT": 44292})),
        id="7.3.3-status",
    ),
    pytest.param(
        b'* STATUS "Sent Items" (MESSAGES 2 UIDNEXT 3 UIDVALIDITY 1 UNSEEN 0 DELETED 1 SIZE 9999)',
        data(
            b"STATUS",
            MailboxStatus(
                b"Sent Items",
                {
                    b"MESSAGES": 2,
                    b"UIDNEXT": 3,
                    b"UIDVALIDITY": 1,
                    b"UNSEEN": 0,
                    b"DELETED": 1,
                    b"SIZE": 9999,
                },
            ),
        ),
        id="7.3.3-status-all-items",
    ),
    pytest.param(
        b"* STATUS {5}\r\nA (B) ()",
        data(b"STATUS", MailboxStatus(b"A (B)", {})),
        id="7.3.3-status-literal-name-no-items",
    ),
    pytest.param(
        b"* STATUS INBOX (messages 1 recent 0)",
        data(b"STATUS", MailboxStatus(b"INBOX", {b"MESSAGES": 1, b"RECENT": 0})),
        id="3501-7.2.4-status-lower-case-recent",
    ),
    # 7.3.4 ESEARCH
    pytest.param(
        b'* ESEARCH (TAG "A282") MIN 2 COUNT 3',
        data(b"ESEARCH", ESearchResponse(b"A282", False, {b"MIN": 2, b"COUNT": 3})),
        id="7.3.4-esearch-min-count",
    ),
    pytest.param(
        b'* ESEARCH (TAG "A283") ALL 2,10:11',
        data(b"ESEARCH", ESearchResponse(b"A283", False, {b"ALL": seq("2,10:11")})),
        id="7.3.4-esearch-all",
    ),
    pytest.param(
        b'* ESEARCH (TAG "A285") UID MIN 7 MAX 3800',
        data(b"ESEARCH", ESearchResponse(b"A285", True, {b"MIN": 7, b"MAX": 3800})),
        id="7.3.4-esearch-uid-min-max",
    ),
    pytest.param(
        b'* ESEARCH (TAG "A286") COUNT 15',
        data(b"ESEARCH", ESearchResponse(b"A286", False, {b"COUNT": 15})),
        id="7.3.4-esearch-count",
    ),
    pytest.param(
        b'* ESEARCH (TAG "a1")',
        data(b"ESEARCH", ESearchResponse(b"a1", False, {})),
        id="7.3.4-esearch-nothing-found",
    ),
    pytest.param(
        b"* ESEARCH UID COUNT 17 ALL 4:18,21,28",
        data(b"ESEARCH", ESearchResponse(None, True, {b"COUNT": 17, b"ALL": seq("4:18,21,28")})),
        id="7.3.4-esearch-without-correlator",
    ),
    pytest.param(
        b"* ESEARCH",
        data(b"ESEARCH", ESearchResponse(None, False, {})),
        id="7.3.4-esearch-bare",
    ),
    pytest.param(
        b'* ESEARCH (TAG "big") UID ALL 1:4294967295',
        data(b"ESEARCH", ESearchResponse(b"big", True, {b"ALL": SequenceSet([(1, 4294967295)])})),
        id="7.3.4-esearch-huge-range-stays-a-range",
    ),
    pytest.param(
        b'* ESEARCH (tag "x") uid all 3:1',
        data(b"ESEARCH", ESearchResponse(b"x", True, {b"ALL": seq("1:3")})),
        id="7.3.4-esearch-lower-case-reversed-range",
    ),
    # 7.3.5 FLAGS
    pytest.param(
        b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
        data(b"FLAGS", (b"\\Answered", b"\\Flagged", b"\\Deleted", b"\\Seen", b"\\Draft")),
        id="7.3.5-flags",
    ),
    pytest.param(b"* FLAGS ()", data(b"FLAGS", ()), id="7.3.5-flags-empty"),
    pytest.param(
        b"* FLAGS (\\Seen $Forwarded $MDNSent NonJunk [x)",
        data(b"FLAGS", (b"\\Seen", b"$Forwarded", b"$MDNSent", b"NonJunk", b"[x")),
        id="7.3.5-flags-keywords",
    ),
    # 3501 SEARCH (still sent by IMAP4rev1 servers)
    pytest.param(b"* SEARCH", data(b"SEARCH", SearchIds()), id="3501-7.2.5-search-empty"),
    pytest.param(b"* SEARCH 2 3 6", data(b"SEARCH", SearchIds([2, 3, 6])), id="3501-7.2.5-search"),
    pytest.param(
        b"* SEARCH 4294967295", data(b"SEARCH", SearchIds([4294967295])), id="search-max-uid"
    ),
    # 7.4 mailbox size, 7.5 message status
    pytest.param(b"* 172 EXISTS", data(b"EXISTS", None, 172), id="7.4.1-exists"),
    pytest.param(b"* 0 EXISTS", data(b"EXISTS", None, 0), id="7.4.1-exists-zero"),
    pytest.param(b"* 1 RECENT", data(b"RECENT", None, 1), id="3501-7.3.2-recent"),
    pytest.param(b"* 44 EXPUNGE", data(b"EXPUNGE", None, 44), id="7.5.1-expunge"),
    pytest.param(b"* 3 exists", data(b"EXISTS", None, 3), id="7.4.1-exists-lower-case"),
]

# --- RFC 9051 section 7.5.2: FETCH ----------------------------------------------------

_TERRY = Address(b"Terry Gray", None, b"gray", b"cac.washington.edu")
_RFC_ENVELOPE = Envelope(
    datetime(1996, 7, 17, 2, 23, 25, tzinfo=tz(-7)),
    b"IMAP4rev2 WG mtg summary and minutes",
    (_TERRY,),
    (_TERRY,),
    (_TERRY,),
    (Address(None, None, b"imap", b"cac.washington.edu"),),
    (
        Address(None, None, b"minutes", b"CNRI.Reston.VA.US"),
        Address(b"John Klensin", None, b"KLENSIN", b"MIT.EDU"),
    ),
    None,
    None,
    b"<B27397-0100000@cac.washington.edu>",
)

FETCH = [
    pytest.param(
        b'* 12 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" '
        b'RFC822.SIZE 4286 ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" '
        b'"IMAP4rev2 WG mtg summary and minutes" '
        b'(("Terry Gray" NIL "gray" "cac.washington.edu")) '
        b'(("Terry Gray" NIL "gray" "cac.washington.edu")) '
        b'(("Terry Gray" NIL "gray" "cac.washington.edu")) '
        b'((NIL NIL "imap" "cac.washington.edu")) '
        b'((NIL NIL "minutes" "CNRI.Reston.VA.US")'
        b'("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL '
        b'"<B27397-0100000@cac.washington.edu>") '
        b'BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))',
        fetch(
            12,
            {
                b"FLAGS": (b"\\Seen",),
                b"INTERNALDATE": datetime(1996, 7, 17, 2, 44, 25, tzinfo=tz(-7)),
                b"RFC822.SIZE": 4286,
                b"ENVELOPE": _RFC_ENVELOPE,
                b"BODY": body(
                    b"TEXT", b"PLAIN", (b"CHARSET", b"US-ASCII"), None, None, b"7BIT", 3028, 92
                ),
            },
        ),
        id="7.5.2-fetch-rfc-example",
    ),
    pytest.param(
        b"* 2 FETCH (FLAGS (\\Deleted \\Seen))",
        fetch(2, {b"FLAGS": (b"\\Deleted", b"\\Seen")}),
        id="7.5.2-flags",
    ),
    pytest.param(b"* 2 FETCH (FLAGS ())", fetch(2, {b"FLAGS": ()}), id="7.5.2-flags-empty"),
    pytest.param(
        b"* 23 FETCH (FLAGS (\\Seen) UID 4827313)",
        fetch(23, {b"FLAGS": (b"\\Seen",), b"UID": 4827313}),
        id="7.5.2-uid",
    ),
    pytest.param(
        b'* 1 FETCH (INTERNALDATE " 7-Feb-1994 21:52:25 +0100")',
        fetch(1, {b"INTERNALDATE": datetime(1994, 2, 7, 21, 52, 25, tzinfo=tz(1))}),
        id="7.5.2-internaldate-space-padded-day",
    ),
    pytest.param(
        b'* 1 FETCH (INTERNALDATE "01-Jan-2024 00:00:00 +0530")',
        fetch(1, {b"INTERNALDATE": datetime(2024, 1, 1, tzinfo=tz(5, 30))}),
        id="7.5.2-internaldate-half-hour-zone",
    ),
    pytest.param(
        b"* 1 FETCH (RFC822.SIZE 0)", fetch(1, {b"RFC822.SIZE": 0}), id="7.5.2-rfc822-size"
    ),
    pytest.param(
        b"* 1 FETCH (RFC822 " + lit(b"Subject: x\r\n\r\nbody\r\n{3}\r\n") + b")",
        fetch(1, {b"RFC822": b"Subject: x\r\n\r\nbody\r\n{3}\r\n"}),
        id="3501-7.4.2-rfc822-literal",
    ),
    pytest.param(
        b"* 1 FETCH (RFC822.HEADER {12}\r\nSubject: x\r\n UID 3)",
        fetch(1, {b"RFC822.HEADER": b"Subject: x\r\n", b"UID": 3}),
        id="3501-7.4.2-rfc822-header",
    ),
    pytest.param(
        b'* 1 FETCH (RFC822.TEXT "hello")',
        fetch(1, {b"RFC822.TEXT": b"hello"}),
        id="3501-7.4.2-rfc822-text-quoted",
    ),
    pytest.param(
        b"* 1 FETCH (RFC822.TEXT NIL)", fetch(1, {b"RFC822.TEXT": None}), id="rfc822-text-nil"
    ),
    pytest.param(
        b"* 12 FETCH (BODY[HEADER] " + lit(b"Date: Wed, 17 Jul 1996 02:23:25\r\n\r\n") + b")",
        fetch(12, {b"BODY[HEADER]": b"Date: Wed, 17 Jul 1996 02:23:25\r\n\r\n"}),
        id="7.5.2-body-header",
    ),
    pytest.param(
        b"* 1 FETCH (BODY[] {5}\r\nhello)", fetch(1, {b"BODY[]": b"hello"}), id="7.5.2-body-all"
    ),
    pytest.param(
        b"* 1 FETCH (BODY[]<0> {5}\r\nhello)",
        fetch(1, {b"BODY[]<0>": b"hello"}),
        id="7.5.2-body-origin-zero",
    ),
    pytest.param(
        b'* 1 FETCH (BODY[1.2]<512> "part")',
        fetch(1, {b"BODY[1.2]<512>": b"part"}),
        id="7.5.2-body-section-origin",
    ),
    pytest.param(
        b"* 1 FETCH (BODY[HEADER.FIELDS (FROM SUBJECT)] "
        + lit(b"From: a@b\r\nSubject: c\r\n")
        + b")",
        fetch(1, {b"BODY[HEADER.FIELDS (FROM SUBJECT)]": b"From: a@b\r\nSubject: c\r\n"}),
        id="7.5.2-body-header-fields",
    ),
    pytest.param(
        b'* 1 FETCH (body[header.fields.not (x-a x-b)] "")',
        fetch(1, {b"BODY[HEADER.FIELDS.NOT (X-A X-B)]": b""}),
        id="7.5.2-body-header-fields-not-lower-case",
    ),
    pytest.param(
        b"* 1 FETCH (BODY[1.MIME] {0}\r\n BODY[TEXT] NIL)",
        fetch(1, {b"BODY[1.MIME]": b"", b"BODY[TEXT]": None}),
        id="7.5.2-body-mime-empty-literal-and-nil",
    ),
    pytest.param(
        b"* 1 FETCH (BINARY[1] ~{6}\r\n\x00\x01\r\n\xfe\xff)",
        fetch(1, {b"BINARY[1]": b"\x00\x01\r\n\xfe\xff"}),
        id="7.5.2-binary-literal8",
    ),
    pytest.param(
        b"* 1 FETCH (BINARY[1.2] {3}\r\nabc)",
        fetch(1, {b"BINARY[1.2]": b"abc"}),
        id="7.5.2-binary-plain-literal",
    ),
    pytest.param(b"* 1 FETCH (BINARY[] NIL)", fetch(1, {b"BINARY[]": None}), id="7.5.2-binary-nil"),
    pytest.param(
        b"* 172 FETCH (BINARY.SIZE[3] 4182)",
        fetch(172, {b"BINARY.SIZE[3]": 4182}),
        id="7.5.2-binary-size",
    ),
    pytest.param(
        b'* 5 FETCH (X-VENDOR (a "b" 1 NIL (c)) UID 9)',
        fetch(5, {b"X-VENDOR": (b"a", b"b", 1, None, (b"c",)), b"UID": 9}),
        id="unknown-item-kept-raw",
    ),
    pytest.param(b"* 5 FETCH ()", fetch(5, {}), id="fetch-no-items"),
    pytest.param(
        b"* 12 fetch (flags (\\Seen) uid 5)",
        fetch(12, {b"FLAGS": (b"\\Seen",), b"UID": 5}),
        id="fetch-lower-case",
    ),
]

ENVELOPES = [
    pytest.param(
        b"* 1 FETCH (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))",
        fetch(1, {b"ENVELOPE": Envelope(*([None] * 10))}),
        id="envelope-all-nil",
    ),
    pytest.param(
        b'* 1 FETCH (ENVELOPE ("Mon, 7 Feb 1994 21:52:25 -0800" {11}\r\nHello "you" '
        b'((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL '
        b'(("Fred" "@relay.example:" "fred" "example.org")) NIL NIL "<a@b>" {5}\r\n<c@d>))',
        fetch(
            1,
            {
                b"ENVELOPE": Envelope(
                    datetime(1994, 2, 7, 21, 52, 25, tzinfo=tz(-8)),
                    b'Hello "you"',
                    (
                        Address(None, None, b"undisclosed-recipients", None),
                        Address(None, None, None, None),
                    ),
                    None,
                    None,
                    (Address(b"Fred", b"@relay.example:", b"fred", b"example.org"),),
                    None,
                    None,
                    b"<a@b>",
                    b"<c@d>",
                )
            },
        ),
        id="envelope-group-route-and-literals",
    ),
    pytest.param(
        b'* 1 FETCH (ENVELOPE ("not a date" "" NIL NIL NIL NIL NIL NIL NIL NIL))',
        fetch(1, {b"ENVELOPE": Envelope(None, b"", *([None] * 8))}),
        id="envelope-unparseable-date-is-none",
    ),
    pytest.param(
        b'* 1 FETCH (ENVELOPE (NIL NIL (("A" NIL "a" "x.org") ("B" NIL "b" "x.org")) '
        b"NIL NIL NIL NIL NIL NIL NIL))",
        fetch(
            1,
            {
                b"ENVELOPE": Envelope(
                    None,
                    None,
                    (Address(b"A", None, b"a", b"x.org"), Address(b"B", None, b"b", b"x.org")),
                    *([None] * 7),
                )
            },
        ),
        id="envelope-addresses-separated-by-space",
    ),
]

_TEXT_PLAIN = body(b"TEXT", b"PLAIN", (b"CHARSET", b"US-ASCII"), None, None, b"7BIT", 1152, 23)
_CC_DIFF = body(
    b"TEXT",
    b"PLAIN",
    (b"CHARSET", b"US-ASCII", b"NAME", b"cc.diff"),
    b"<960723163407.20117h@cac.washington.edu>",
    b"Compiler diff",
    b"BASE64",
    4554,
    73,
)

BODYSTRUCTURES = [
    pytest.param(
        b'* 1 FETCH (BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))',
        fetch(
            1,
            {
                b"BODY": body(
                    b"TEXT", b"PLAIN", (b"CHARSET", b"US-ASCII"), None, None, b"7BIT", 3028, 92
                )
            },
        ),
        id="7.5.2-body-single-part",
    ),
    pytest.param(
        b'* 1 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" '
        b'1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") '
        b'"<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) '
        b'"MIXED"))',
        fetch(1, {b"BODYSTRUCTURE": multipart([_TEXT_PLAIN, _CC_DIFF], b"MIXED")}),
        id="7.5.2-bodystructure-multipart-rfc-example",
    ),
    pytest.param(
        b'* 1 FETCH (BODYSTRUCTURE ("APPLICATION" "PDF" ("NAME" "x.pdf") "<id@x>" "A file" '
        b'"BASE64" 1234 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("ATTACHMENT" ("FILENAME" "x.pdf")) '
        b'("EN" "DE") "http://x.example/x.pdf" (1 "extra" (NIL))))',
        fetch(
            1,
            {
                b"BODYSTRUCTURE": body(
                    b"APPLICATION",
                    b"PDF",
                    (b"NAME", b"x.pdf"),
                    b"<id@x>",
                    b"A file",
                    b"BASE64",
                    1234,
                    b"Q2hlY2sgSW50ZWdyaXR5IQ==",
                    (b"ATTACHMENT", (b"FILENAME", b"x.pdf")),
                    (b"EN", b"DE"),
                    b"http://x.example/x.pdf",
                    (1, b"extra", (None,)),
                )
            },
        ),
        id="7.5.2-bodystructure-basic-with-all-extension-data",
    ),
    pytest.param(
        b'* 1 FETCH (BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" '
        b'10 1 NIL ("inline" NIL) NIL NIL)(("text" "plain" NIL NIL NIL "7bit" 2 1)'
        b'("text" "html" NIL NIL NIL "7bit" 3 1) "alternative" ("boundary" "in") NIL NIL NIL) '
        b'"mixed" ("boundary" "out") ("inline" NIL) "en" "loc"))',
        fetch(
            1,
            {
                b"BODYSTRUCTURE": multipart(
                    [
                        body(
                            b"text",
                            b"plain",
                            (b"charset", b"utf-8"),
                            None,
                            None,
                            b"quoted-printable",
                            10,
                            1,
                            None,
                            (b"inline", None),
                            None,
                            None,
                        ),
                        multipart(
                            [
                                body(b"text", b"plain", None, None, None, b"7bit", 2, 1),
                                body(b"text", b"html", None, None, None, b"7bit", 3, 1),
                            ],
                            b"alternative",
                            (b"boundary", b"in"),
                            None,
                            None,
                            None,
                        ),
                    ],
                    b"mixed",
                    (b"boundary", b"out"),
                    (b"inline", None),
                    b"en",
                    b"loc",
                )
            },
        ),
        id="7.5.2-bodystructure-nested-multipart-with-extension-data",
    ),
    pytest.param(
        b'* 1 FETCH (BODYSTRUCTURE ("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 342 '
        b'("Mon, 7 Feb 1994 21:52:25 -0800" "Inner" NIL NIL NIL NIL NIL NIL NIL "<m@x>") '
        b'(("TEXT" "PLAIN" NIL NIL NIL "7BIT" 10 1)("TEXT" "HTML" NIL NIL NIL "7BIT" 20 1) '
        b'"ALTERNATIVE") 12 "md5" NIL NIL NIL))',
        fetch(
            1,
            {
                b"BODYSTRUCTURE": body(
                    b"MESSAGE",
                    b"RFC822",
                    None,
                    None,
                    None,
                    b"7BIT",
                    342,
                    (
                        b"Mon, 7 Feb 1994 21:52:25 -0800",
                        b"Inner",
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        b"<m@x>",
                    ),
                    multipart(
                        [
                            body(b"TEXT", b"PLAIN", None, None, None, b"7BIT", 10, 1),
                            body(b"TEXT", b"HTML", None, None, None, b"7BIT", 20, 1),
                        ],
                        b"ALTERNATIVE",
                    ),
                    12,
                    b"md5",
                    None,
                    None,
                    None,
                )
            },
        ),
        id="7.5.2-bodystructure-message-rfc822-nested",
    ),
    pytest.param(
        b'* 1 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" NIL NIL NIL "7BIT" 0 0)'
        b'("MESSAGE" "GLOBAL" NIL NIL NIL "8BIT" 50 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) '
        b'("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "8BIT" 4 1) 3) "REPORT"))',
        fetch(
            1,
            {
                b"BODYSTRUCTURE": multipart(
                    [
                        body(b"TEXT", b"PLAIN", None, None, None, b"7BIT", 0, 0),
                        body(
                            b"MESSAGE",
                            b"GLOBAL",
                            None,
                            None,
                            None,
                            b"8BIT",
                            50,
                            (None,) * 10,
                            body(
                                b"TEXT", b"PLAIN", (b"CHARSET", b"UTF-8"), None, None, b"8BIT", 4, 1
                            ),
                            3,
                        ),
                    ],
                    b"REPORT",
                )
            },
        ),
        id="7.5.2-bodystructure-message-global-in-multipart",
    ),
    pytest.param(
        b'* 1 FETCH (BODYSTRUCTURE ("TEXT" "PLAIN" ("NAME" {7}\r\na "b".c) NIL NIL "7BIT" 5 1))',
        fetch(
            1,
            {
                b"BODYSTRUCTURE": body(
                    b"TEXT", b"PLAIN", (b"NAME", b'a "b".c'), None, None, b"7BIT", 5, 1
                )
            },
        ),
        id="7.5.2-bodystructure-literal-parameter",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), GREETINGS)
def test_greetings(raw, expected):
    check(raw, expected)
    check(raw, expected, tolerances=STRICT)


@pytest.mark.parametrize(("raw", "expected"), TAGGED_AND_UNTAGGED_STATUS)
def test_status_responses(raw, expected):
    check(raw, expected)
    check(raw, expected, tolerances=STRICT)


@pytest.mark.parametrize(("raw", "expected"), RESPONSE_CODES)
def test_response_codes(raw, expected):
    check(raw, expected)
    check(raw, expected, tolerances=STRICT)


@pytest.mark.parametrize(("raw", "expected"), CONTINUATIONS)
def test_continuation_requests(raw, expected):
    check(raw, expected)
    check(raw, expected, tolerances=STRICT)


@pytest.mark.parametrize(("raw", "expected"), SERVER_AND_MAILBOX_STATUS)
def test_server_and_mailbox_data(raw, expected):
    check(raw, expected)
    check(raw, expected, tolerances=STRICT)


@pytest.mark.parametrize(("raw", "expected"), FETCH + ENVELOPES + BODYSTRUCTURES)
def test_fetch(raw, expected):
    check(raw, expected)
    check(raw, expected, tolerances=STRICT)


def test_unknown_untagged_response_kept_raw():
    check(b"* XAPPLEPUSHSERVICE aps-version 2", data(b"XAPPLEPUSHSERVICE", b"aps-version 2"))
    check(b"* XNOARGS", data(b"XNOARGS", b""))
    check(b"* 5 XNUMBERED (a b)", data(b"XNUMBERED", b"(a b)", 5))


def test_bodydata_is_multipart():
    response = parse_response(
        b'* 1 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" NIL NIL NIL "7BIT" 1 1) "MIXED"))'
    )
    structure = response.data[b"BODYSTRUCTURE"]
    assert isinstance(structure, BodyData)
    assert structure.is_multipart
    assert not structure[0][0].is_multipart


def test_internaldate_is_aware():
    response = parse_response(b'* 1 FETCH (INTERNALDATE "17-Jul-1996 02:44:25 -0700")')
    value = response.data[b"INTERNALDATE"]
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(hours=-7)


def test_esearch_huge_range_is_not_expanded():
    response = parse_response(b'* ESEARCH (TAG "t") UID ALL 1:4294967295')
    uids = response.data.items[b"ALL"]
    assert isinstance(uids, SequenceSet)
    assert uids.ranges == ((1, 4294967295),)
    assert len(uids) == 4294967295
    assert 4294967295 in uids and 0 not in uids


def test_literal_data_is_taken_verbatim():
    payload = b'x) "y" {3}\r\nNIL (\r\n'
    raw = b"* 1 FETCH (BODY[] {%d}\r\n" % len(payload) + payload + b" UID 2)"
    check(raw, fetch(1, {b"BODY[]": payload, b"UID": 2}))


# --- malformed responses --------------------------------------------------------------

MALFORMED = [
    pytest.param(b"", id="empty"),
    pytest.param(b"*", id="star-alone"),
    pytest.param(b"* ", id="star-space-nothing"),
    pytest.param(b"*OK hello", id="star-missing-sp"),
    pytest.param(b"+x", id="continuation-missing-sp"),
    pytest.param(b"a", id="tag-alone"),
    pytest.param(b"aOK done", id="tag-glued-to-status"),
    pytest.param(b"a  OK done", id="double-space-after-tag"),
    pytest.param(b"a(1 OK done", id="bad-tag-char-paren"),
    pytest.param(b"a{1 OK done", id="bad-tag-char-brace"),
    pytest.param(b"a%1 OK done", id="bad-tag-char-percent"),
    pytest.param(b'a"1 OK done', id="bad-tag-char-quote"),
    pytest.param(b"a+1 OK done", id="bad-tag-char-plus"),
    pytest.param(b"a\x011 OK done", id="bad-tag-char-ctl"),
    pytest.param(b"\xff1 OK done", id="bad-tag-char-8bit"),
    pytest.param(b"a001 PREAUTH hi", id="tagged-preauth"),
    pytest.param(b"a001 BYE hi", id="tagged-bye"),
    pytest.param(b"a001 MAYBE hi", id="tagged-unknown-status"),
    pytest.param(b"a OK[ALERT] x", id="code-glued-to-status"),
    pytest.param(b"* OK [ALERT]x", id="missing-sp-after-code"),
    pytest.param(b"* OK [", id="code-unterminated-empty"),
    pytest.param(b"* OK []", id="code-empty"),
    pytest.param(b"* OK [UIDNEXT 12", id="code-unterminated"),
    pytest.param(b"* OK [CAPABILITY IMAP4rev2", id="capability-code-unterminated"),
    pytest.param(b"* 3EXISTS", id="number-glued-to-keyword"),
    pytest.param(b"* 3  EXISTS", id="double-space-after-number"),
    pytest.param(b"* 3 EXISTS junk", id="exists-trailing-junk"),
    pytest.param(b"* 3 EXPUNGE 4", id="expunge-trailing-number"),
    pytest.param(b"* EXISTS", id="exists-without-number"),
    pytest.param(b"* RECENT", id="recent-without-number"),
    pytest.param(b"* EXPUNGE", id="expunge-without-number"),
    pytest.param(b"* FETCH (UID 1)", id="fetch-without-number"),
    pytest.param(b"* 1 FETCH", id="fetch-without-items"),
    pytest.param(b"* 1 FETCH UID 1", id="fetch-items-not-parenthesised"),
    pytest.param(b"* 1 FETCH (UID 1", id="fetch-unbalanced-open"),
    pytest.param(b"* 1 FETCH ((UID 1)", id="fetch-double-open"),
    pytest.param(b"* 1 FETCH (UID 1) junk", id="fetch-trailing-junk"),
    pytest.param(b"* 1 FETCH (UID 1)(FLAGS ())", id="fetch-two-item-lists"),
    pytest.param(b"* 1 FETCH (UID)", id="fetch-item-without-value"),
    pytest.param(b"* 1 FETCH (UID 1 )", id="fetch-space-before-close"),
    pytest.param(b"* 1 FETCH (UID x)", id="fetch-uid-not-number"),
    pytest.param(b"* 1 FETCH (RFC822.SIZE -)", id="fetch-size-dash"),
    pytest.param(b"* 1 FETCH (INTERNALDATE 5)", id="internaldate-not-string"),
    pytest.param(b"* 1 FETCH (RFC822.SIZE 1E999)", id="size-exponent-overflows"),
    pytest.param(b"* 1 FETCH (MODSEQ (9E2233720368547707))", id="modseq-exponent-overflows"),
    pytest.param(b"* 1 FETCH (FLAGS \\Seen)", id="fetch-flags-not-list"),
    pytest.param(b"* 1 FETCH (FLAGS (\\Seen)", id="fetch-flags-unbalanced"),
    pytest.param(b"* 1 FETCH (BODY[] {10}\r\nabc)", id="literal-larger-than-data"),
    pytest.param(b"* 1 FETCH (BODY[] {3}abc)", id="literal-without-crlf"),
    pytest.param(b"* 1 FETCH (BODY[] {-1}\r\n)", id="literal-negative-size"),
    pytest.param(b"* 1 FETCH (BODY[] {3}", id="literal-announced-at-end"),
    pytest.param(b'* 1 FETCH (BODY[] "abc)', id="unterminated-quote"),
    pytest.param(b'* 1 FETCH (BODY[] "a\\b")', id="quoted-bad-escape"),
    pytest.param(b'* 1 FETCH (BODY[] "a\rb")', id="quoted-with-cr"),
    pytest.param(b'* 1 FETCH (BODY[ "x")', id="section-unterminated"),
    pytest.param(b'* 1 FETCH (BODY[]<x> "a")', id="origin-not-number"),
    pytest.param(b'* 1 FETCH (BODY[]<0 "a")', id="origin-unterminated"),
    pytest.param(b"* 1 FETCH (ENVELOPE (NIL NIL NIL))", id="envelope-too-short"),
    pytest.param(
        b'* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL "b")) NIL NIL NIL NIL NIL NIL NIL))',
        id="address-too-short",
    ),
    pytest.param(
        b"* 1 FETCH (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))",
        id="envelope-too-long",
    ),
    pytest.param(b'* 1 FETCH (BODYSTRUCTURE ("TEXT" "PLAIN"))', id="body-too-short"),
    pytest.param(b"* 1 FETCH (BODYSTRUCTURE ())", id="body-empty"),
    pytest.param(b'* 1 FETCH (BODYSTRUCTURE "x")', id="body-not-list"),
    pytest.param(
        b'* 1 FETCH (BODYSTRUCTURE ("TEXT" "PLAIN" NIL NIL NIL "7BIT" "10" 1))',
        id="body-size-quoted",
    ),
    pytest.param(
        b'* 1 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" NIL NIL NIL "7BIT" 1 1)))',
        id="multipart-without-subtype",
    ),
    pytest.param(
        b'* 1 FETCH (BODYSTRUCTURE ("TEXT" "PLAIN" NIL NIL NIL "7BIT" 1 1)', id="body-unbalanced"
    ),
    pytest.param(b"* 1 FETCH (X-FOO (a (b)", id="unknown-item-unbalanced"),
    pytest.param(b"* 1 FETCH (X-FOO a))", id="extra-close-paren"),
    pytest.param(b"* FLAGS", id="flags-without-list"),
    pytest.param(b"* FLAGS (\\Seen", id="flags-unbalanced"),
    pytest.param(b"* FLAGS \\Seen", id="flags-not-list"),
    pytest.param(b"* FLAGS (\\Seen) x", id="flags-trailing-junk"),
    pytest.param(b"* LIST", id="list-empty"),
    pytest.param(b'* LIST (\\Noselect) "/"', id="list-without-name"),
    pytest.param(b"* LIST (\\Noselect) / foo", id="list-delimiter-unquoted"),
    pytest.param(b'* LIST (\\Noselect) "//" foo', id="list-delimiter-two-chars"),
    pytest.param(b'* LIST \\Noselect "/" foo', id="list-flags-not-list"),
    pytest.param(b'* LIST () "/" "unterminated', id="list-name-unterminated"),
    pytest.param(b'* LIST () "/" {3}\r\nab', id="list-name-literal-short"),
    pytest.param(b'* LIST () "/" ~{3}\r\nabc', id="list-name-literal8"),
    pytest.param(b'* LIST () "/" foo ("CHILDINFO")', id="list-extended-odd"),
    pytest.param(b"* STATUS", id="status-empty"),
    pytest.param(b"* STATUS INBOX", id="status-without-items"),
    pytest.param(b"* STATUS INBOX MESSAGES 1", id="status-items-not-list"),
    pytest.param(b"* STATUS INBOX (MESSAGES)", id="status-item-without-value"),
    pytest.param(b"* STATUS INBOX (MESSAGES x)", id="status-value-not-number"),
    pytest.param(b"* STATUS INBOX (MESSAGES 1", id="status-unbalanced"),
    pytest.param(b"* SEARCH a b", id="search-not-numbers"),
    pytest.param(b"* SEARCH 1,2", id="search-sequence-set"),
    pytest.param(b"* SEARCH 1  2", id="search-double-space"),
    pytest.param(b'* ESEARCH (TAG "a") COUNT', id="esearch-count-without-value"),
    pytest.param(b'* ESEARCH (TAG "a") ALL x', id="esearch-all-not-set"),
    pytest.param(b'* ESEARCH (FOO "a") COUNT 1', id="esearch-correlator-not-tag"),
    pytest.param(b'* ESEARCH (TAG "a" COUNT 1', id="esearch-correlator-unbalanced"),
    pytest.param(b'* ESEARCH (TAG "a") MIN 1 MAX', id="esearch-max-without-value"),
    pytest.param(b"* CAPABILITY\x00", id="capability-nul"),
    pytest.param(b"a OK\r\n", id="crlf-inside-response"),
]


@pytest.mark.parametrize("raw", MALFORMED)
def test_malformed_raises_protocol_error(raw):
    with pytest.raises(ProtocolError):
        parse_response(raw, tolerances=STRICT)
    assert_rejected_or_unparsed(raw)


def test_malformed_list_is_long_enough():
    assert len(MALFORMED) >= 30


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"* 1 FETCH (X-FOO " + b"(" * 10_000, id="fetch-unknown-item"),
        pytest.param(b"* 1 FETCH (BODYSTRUCTURE " + b"(" * 10_000, id="bodystructure"),
        pytest.param(b"* 1 FETCH (X-FOO " + b"(" * 10_000 + b")" * 10_000 + b")", id="balanced"),
        pytest.param(b'* LIST () "/" foo ' + b"(" * 10_000, id="list-extended"),
    ],
)
def test_deep_nesting_hits_max_depth(raw):
    with pytest.raises(LimitExceededError) as info:
        parse_response(raw)
    assert info.value.limit == "max_depth"


def test_nesting_up_to_max_depth_is_accepted():
    limits = Limits(max_depth=10)
    # FETCH's own list is level 1; X-FOO's lists are levels 2..10.
    raw = b"* 1 FETCH (X-FOO " + b"(" * 9 + b")" * 9 + b")"
    expected: tuple = ()
    for _ in range(8):
        expected = (expected,)
    assert Parser(limits=limits).parse(raw).data == {b"X-FOO": expected}
    with pytest.raises(LimitExceededError):
        Parser(limits=limits).parse(b"* 1 FETCH (X-FOO " + b"(" * 10 + b")" * 10 + b")")


def test_generous_max_depth_never_turns_into_recursion_error():
    # max_depth is configurable; whatever it is set to, deep nesting must end in a
    # ProtocolError (LimitExceededError or otherwise), never a RecursionError.
    parser = Parser(limits=Limits(max_depth=100_000))
    with pytest.raises(ProtocolError):
        parser.parse(b"* 1 FETCH (X-FOO " + b"(" * 20_000)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"* OK [UIDNEXT] x", id="uidnext"),
        pytest.param(b"* OK [UIDVALIDITY] x", id="uidvalidity"),
        pytest.param(b"* OK [UNSEEN] x", id="unseen"),
        pytest.param(b"* OK [PERMANENTFLAGS] x", id="permanentflags"),
        pytest.param(b"a OK [APPENDUID] x", id="appenduid"),
        pytest.param(b"a OK [COPYUID] x", id="copyuid"),
        pytest.param(b"* OK [HIGHESTMODSEQ] x", id="highestmodseq"),
        pytest.param(b"a OK [MODIFIED] x", id="modified"),
    ],
)
def test_code_missing_its_argument_rejected_when_strict(raw):
    # RFC 9051 section 9 (resp-text-code): these codes take a mandatory argument.
    # Without the MALFORMED_RESP_CODE tolerance a missing argument is an error.
    with pytest.raises(ProtocolError):
        parse_response(raw, tolerances=STRICT)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"* OK [UIDNEXT abc] x", id="uidnext-not-number"),
        pytest.param(b"* OK [UIDNEXT 1 2] x", id="uidnext-two-numbers"),
        pytest.param(b"* OK [PERMANENTFLAGS (\\Seen] x", id="permanentflags-unbalanced"),
        pytest.param(b"a OK [APPENDUID 1] x", id="appenduid-one-arg"),
        pytest.param(b"a OK [COPYUID 1 a b] x", id="copyuid-not-sets"),
        pytest.param(b"a OK [BADCHARSET ()] x", id="badcharset-empty-list"),
    ],
)
def test_malformed_code_argument_rejected_when_strict(raw):
    with pytest.raises(ProtocolError):
        parse_response(raw, tolerances=STRICT)


# --- robustness -----------------------------------------------------------------------

_VALID = [
    p.values[0]
    for group in (
        GREETINGS,
        TAGGED_AND_UNTAGGED_STATUS,
        RESPONSE_CODES,
        CONTINUATIONS,
        SERVER_AND_MAILBOX_STATUS,
        FETCH,
        ENVELOPES,
        BODYSTRUCTURES,
    )
    for p in group
]
_INTERESTING = list(b' ()[]{}<>"\\*+~-.:,%0123456789eENIL\r\n\x00\xff')


def _parse_or_protocol_error(raw: bytes) -> None:
    for tolerances in (None, STRICT):
        try:
            if tolerances is None:
                parse_response(raw)
            else:
                parse_response(raw, tolerances=tolerances)
        except ProtocolError:
            pass


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_protocol_error(raw):
    _parse_or_protocol_error(raw)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(
    st.sampled_from(_VALID),
    st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 3), st.sampled_from(_INTERESTING)),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_responses_raise_only_protocol_error(raw, edits):
    data = bytearray(raw)
    for position, kind, byte in edits:
        i = position % (len(data) + 1)
        if kind == 0:
            del data[i : i + 1]
        elif kind == 1:
            data[i:i] = bytes([byte])
        elif kind == 2 and i < len(data):
            data[i] = byte
        else:
            data[i:i] = data[i : i + 8]
    _parse_or_protocol_error(bytes(data))


def test_response_code_with_overflowing_number_is_kept_raw() -> None:
    # MALFORMED_RESP_CODE (on by default) keeps a code whose argument cannot be read.
    response = parse_response(b"* OK [UIDNEXT 4e999] x")
    assert response.code == ResponseCode(b"UIDNEXT", None, b"4e999")
    with pytest.raises(ProtocolError):
        parse_response(b"* OK [UIDNEXT 4e999] x", tolerances=STRICT)


# --- out-of-line literals (Framer.next_frame) ---------------------------------------------

_BIG = bytes(range(256)) * 8


@pytest.mark.parametrize(
    "wire",
    [
        b"* 1 FETCH (UID 1 BODY[] {2048}\r\n" + _BIG + b" FLAGS (\\Seen))\r\n",
        b"* 1 FETCH (BODY[HEADER] {2048}\r\n" + _BIG + b" BODY[TEXT] {2048}\r\n" + _BIG + b")\r\n",
        b"* 4 FETCH (X-UNKNOWN ({2048}\r\n" + _BIG + b" 1))\r\n",  # generic value
        b"* 4 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 2 x))\r\n",
        b"* XVENDOR {2048}\r\n" + _BIG + b" tail\r\n",  # kept as raw text: data put back
        b"* 7 XNUMBERED {2048}\r\n" + _BIG + b"\r\n",
        b"* METADATA INBOX (/private/comment {2048}\r\n" + _BIG + b")\r\n",
    ],
    ids=["body", "two-bodies", "generic", "in-line", "unknown", "numbered", "metadata"],
)
def test_out_of_line_literals_parse_as_in_line_ones(wire: bytes) -> None:
    from imapclient.protocol.framing import Framer

    framer = Framer()
    framer.feed(wire)
    text, literals = framer.next_frame()
    framer = Framer()
    framer.feed(wire)
    joined = framer.next_response()
    assert joined == wire[:-2]
    tolerant = Parser(tolerances=_Tolerance.UNPARSED_FETCH_ITEM | _DEFAULT_TOLERANCES)
    try:
        expected = Parser().parse(joined)
    except ProtocolError:
        with pytest.raises(ProtocolError):
            Parser().parse(text, literals)
        expected = tolerant.parse(joined)  # the Unparsed raw text keeps the literal
        assert tolerant.parse(text, literals) == expected
        return
    assert Parser().parse(text, literals) == expected
