"""Transcript tests for :func:`imapclient.protocol.parser.parse_response`: responses
defined by IMAP extensions, grouped by RFC (and Gmail's X-GM-* items).

Each case is one complete framed response and the object the parser must produce. The
RFC's own example responses are used where the RFC gives them.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import pytest
from parse_checks import assert_rejected_or_unparsed

from imapclient.exceptions import ProtocolError
from imapclient.protocol.parser import parse_response
from imapclient.protocol.responses import (
    ESearchResponse,
    MailboxList,
    MailboxStatus,
    ResponseCode,
    StatusResponse,
    UntaggedResponse,
    Vanished,
)
from imapclient.protocol.tolerances import STRICT
from imapclient.response_types import BodyData, Namespace, SearchIds, SequenceSet

# --- comparison (same rules as test_parser_rfc9051.py) ---------------------------------


def canon(value: Any) -> Any:
    """A comparable form that keeps the exact container types, SearchIds.modseq and a
    datetime's UTC offset, which plain == would ignore."""
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
    if isinstance(value, bool):
        return ("bool", value)
    return value


def check(raw: bytes, expected: Any, **kwargs: Any) -> None:
    assert canon(parse_response(raw, **kwargs)) == canon(expected)


def data(name: bytes, value: Any, number: int | None = None) -> UntaggedResponse:
    return UntaggedResponse(name, number, value)


def fetch(number: int, items: dict[bytes, Any]) -> UntaggedResponse:
    return UntaggedResponse(b"FETCH", number, items)


def ok(text: bytes, code: ResponseCode | None = None, tag: bytes | None = None):
    return StatusResponse(tag, b"OK", code, text)


def seq(text: str) -> SequenceSet:
    ranges = []
    for part in text.split(","):
        a, _, b = part.partition(":")
        ranges.append((int(a), int(b or a)))
    return SequenceSet(ranges)


def lit(content: bytes) -> bytes:
    return b"{%d}\r\n" % len(content) + content


# --- RFC 2342 NAMESPACE ---------------------------------------------------------------

RFC2342_NAMESPACE = [
    pytest.param(
        b'* NAMESPACE (("" "/")) NIL NIL',
        data(b"NAMESPACE", Namespace(((b"", b"/"),), None, None)),
        id="2342-5-personal-only",
    ),
    pytest.param(
        b"* NAMESPACE NIL NIL NIL",
        data(b"NAMESPACE", Namespace(None, None, None)),
        id="2342-all-nil",
    ),
    pytest.param(
        b'* NAMESPACE NIL NIL (("" "."))',
        data(b"NAMESPACE", Namespace(None, None, ((b"", b"."),))),
        id="2342-5-shared-only",
    ),
    pytest.param(
        b'* NAMESPACE (("" "/")) NIL (("Public Folders/" "/"))',
        data(b"NAMESPACE", Namespace(((b"", b"/"),), None, ((b"Public Folders/", b"/"),))),
        id="2342-5-personal-and-shared",
    ),
    pytest.param(
        b'* NAMESPACE (("" "/")) (("~" "/")) (("#shared/" "/")("#public/" "/")'
        b'("#ftp/" "/")("#news." "."))',
        data(
            b"NAMESPACE",
            Namespace(
                ((b"", b"/"),),
                ((b"~", b"/"),),
                ((b"#shared/", b"/"), (b"#public/", b"/"), (b"#ftp/", b"/"), (b"#news.", b".")),
            ),
        ),
        id="2342-5-multiple-shared",
    ),
    pytest.param(
        b'* NAMESPACE (("INBOX." ".")) NIL NIL',
        data(b"NAMESPACE", Namespace(((b"INBOX.", b"."),), None, None)),
        id="2342-5-inbox-prefix",
    ),
    pytest.param(
        b'* NAMESPACE (("" "/")("#mh/" "/" "X-PARAM" ("FLAG1" "FLAG2"))) NIL NIL',
        data(b"NAMESPACE", Namespace(((b"", b"/"), (b"#mh/", b"/")), None, None)),
        id="2342-5-extension-data-ignored",
    ),
    pytest.param(
        b'* NAMESPACE (("" NIL)) NIL ((' + lit(b"Shared Stuff/") + b' "/"))',
        data(b"NAMESPACE", Namespace(((b"", None),), None, ((b"Shared Stuff/", b"/"),))),
        id="2342-nil-delimiter-literal-prefix",
    ),
]

# --- RFC 2971 ID ----------------------------------------------------------------------

RFC2971_ID = [
    pytest.param(
        b'* ID ("name" "Cyrus" "version" "1.5" "os" "sunos" "os-version" "5.5" '
        b'"support-url" "mailto:cyrus-bugs+@andrew.cmu.edu")',
        data(
            b"ID",
            {
                b"name": b"Cyrus",
                b"version": b"1.5",
                b"os": b"sunos",
                b"os-version": b"5.5",
                b"support-url": b"mailto:cyrus-bugs+@andrew.cmu.edu",
            },
        ),
        id="2971-3.3-id-list",
    ),
    pytest.param(b"* ID NIL", data(b"ID", None), id="2971-3.3-id-nil"),
    pytest.param(b"* ID ()", data(b"ID", {}), id="2971-id-empty-list"),
    pytest.param(
        b'* ID ("name" "Dovecot" "vendor" NIL "date" ' + lit(b"2024-01-01") + b")",
        data(b"ID", {b"name": b"Dovecot", b"vendor": None, b"date": b"2024-01-01"}),
        id="2971-id-nil-value-and-literal",
    ),
]

# --- RFC 4314 ACL ---------------------------------------------------------------------

RFC4314_ACL = [
    pytest.param(
        b"* ACL INBOX Fred rwipsldexta",
        data(b"ACL", (b"INBOX", ((b"Fred", b"rwipsldexta"),))),
        id="4314-acl",
    ),
    pytest.param(
        b'* ACL "Shared Folder" Fred rwipslxetad -Chris lrs "Team A" ' + lit(b"lr"),
        data(
            b"ACL",
            (
                b"Shared Folder",
                ((b"Fred", b"rwipslxetad"), (b"-Chris", b"lrs"), (b"Team A", b"lr")),
            ),
        ),
        id="4314-acl-several-identifiers",
    ),
    pytest.param(b"* ACL INBOX", data(b"ACL", (b"INBOX", ())), id="4314-acl-empty"),
    pytest.param(
        b"* LISTRIGHTS ~/Mail/saved smith la r swicdkxte",
        data(b"LISTRIGHTS", (b"~/Mail/saved", b"smith", b"la", (b"r", b"swicdkxte"))),
        id="4314-listrights",
    ),
    pytest.param(
        b'* LISTRIGHTS archive.imap anyone "" l r s w i p k x t e c d a 0 1 2 3 4 5 6 7 8 9',
        data(
            b"LISTRIGHTS",
            (
                b"archive.imap",
                b"anyone",
                b"",
                tuple(b"l r s w i p k x t e c d a 0 1 2 3 4 5 6 7 8 9".split()),
            ),
        ),
        id="4314-listrights-no-required-rights",
    ),
    pytest.param(
        b"* MYRIGHTS INBOX rwiptsldaex",
        data(b"MYRIGHTS", (b"INBOX", b"rwiptsldaex")),
        id="4314-myrights",
    ),
]

# --- RFC 4731 ESEARCH (and RFC 7377, RFC 9394 additions to it) ------------------------

RFC4731_ESEARCH = [
    pytest.param(
        b'* ESEARCH (TAG "A282") MIN 2 COUNT 3',
        data(b"ESEARCH", ESearchResponse(b"A282", False, {b"MIN": 2, b"COUNT": 3})),
        id="4731-min-count",
    ),
    pytest.param(
        b'* ESEARCH (TAG "A283") ALL 2,10:11',
        data(b"ESEARCH", ESearchResponse(b"A283", False, {b"ALL": seq("2,10:11")})),
        id="4731-all",
    ),
    pytest.param(
        b'* ESEARCH (TAG "A284") MIN 4',
        data(b"ESEARCH", ESearchResponse(b"A284", False, {b"MIN": 4})),
        id="4731-min",
    ),
    pytest.param(
        b'* ESEARCH (TAG "A285") UID MIN 7 MAX 3800',
        data(b"ESEARCH", ESearchResponse(b"A285", True, {b"MIN": 7, b"MAX": 3800})),
        id="4731-uid-min-max",
    ),
    pytest.param(
        b'* ESEARCH (TAG "A286") ALL 1:3,5,7,9,11',
        data(b"ESEARCH", ESearchResponse(b"A286", False, {b"ALL": seq("1:3,5,7,9,11")})),
        id="4731-all-list",
    ),
    pytest.param(
        b'* ESEARCH (TAG "A287") UID COUNT 0',
        data(b"ESEARCH", ESearchResponse(b"A287", True, {b"COUNT": 0})),
        id="4731-count-zero",
    ),
    pytest.param(
        b'* ESEARCH (TAG "A288") UID ALL 1:4294967295 COUNT 4294967295 MIN 1 MAX 4294967295',
        data(
            b"ESEARCH",
            ESearchResponse(
                b"A288",
                True,
                {
                    b"ALL": SequenceSet([(1, 4294967295)]),
                    b"COUNT": 4294967295,
                    b"MIN": 1,
                    b"MAX": 4294967295,
                },
            ),
        ),
        id="4731-huge-range-stays-a-sequence-set",
    ),
    pytest.param(
        b'* ESEARCH (TAG "A289") X-VENDOR (a 1)',
        data(b"ESEARCH", ESearchResponse(b"A289", False, {b"X-VENDOR": (b"a", 1)})),
        id="4731-unknown-return-data-kept-raw",
    ),
    pytest.param(
        b'* ESEARCH (TAG "A01") UID PARTIAL (-1:-100 200:250,252:300)',
        data(
            b"ESEARCH",
            ESearchResponse(b"A01", True, {b"PARTIAL": ((-1, -100), seq("200:250,252:300"))}),
        ),
        id="9394-partial",
    ),
    pytest.param(
        b'* ESEARCH (TAG "A02") PARTIAL (1:10 NIL)',
        data(b"ESEARCH", ESearchResponse(b"A02", False, {b"PARTIAL": ((1, 10), None)})),
        id="9394-partial-nothing-found",
    ),
]


def test_7377_multisearch_correlator_then_uid():
    # RFC 7377 section 2 extends the search correlator with MAILBOX and UIDVALIDITY:
    #   * ESEARCH (TAG "tag1" MAILBOX "folder1" UIDVALIDITY 1) UID ALL 3001:3004,3788
    # The parser already reads the extended correlator; the UID marker after it must
    # still be recognised.
    response = parse_response(
        b'* ESEARCH (TAG "tag1" MAILBOX "folder1" UIDVALIDITY 1) UID ALL 3001:3004,3788'
    )
    assert response.name == b"ESEARCH"
    assert response.data.tag == b"tag1"
    assert response.data.uid is True
    assert response.data.items[b"ALL"] == seq("3001:3004,3788")


# --- RFC 5161 ENABLE ------------------------------------------------------------------

RFC5161_ENABLE = [
    pytest.param(b"* ENABLED X-GOOD-IDEA", data(b"ENABLED", (b"X-GOOD-IDEA",)), id="5161-enabled"),
    pytest.param(
        b"* ENABLED CONDSTORE QRESYNC",
        data(b"ENABLED", (b"CONDSTORE", b"QRESYNC")),
        id="5161-enabled-two",
    ),
    pytest.param(b"* ENABLED", data(b"ENABLED", ()), id="5161-enabled-nothing"),
]

# --- RFC 5256 SORT and THREAD ---------------------------------------------------------

_REFERENCES_THREAD = (
    b"* THREAD (166)(167)(168)(169)(172)(170)(171)(173)(174 (175)(176)(178)(181)(180))"
    b"(179)(177 (183)(182)(188)(184)(185)(186)(187)(189))(190)(191)(192)(193)(194 195)"
    b"(196 (197)(198))(199)(200 202)(201)(203)(204)(205)(206 207)(208)"
)
_REFERENCES_EXPECTED = (
    (166,),
    (167,),
    (168,),
    (169,),
    (172,),
    (170,),
    (171,),
    (173,),
    (174, (175,), (176,), (178,), (181,), (180,)),
    (179,),
    (177, (183,), (182,), (188,), (184,), (185,), (186,), (187,), (189,)),
    (190,),
    (191,),
    (192,),
    (193,),
    (194, 195),
    (196, (197,), (198,)),
    (199,),
    (200, 202),
    (201,),
    (203,),
    (204,),
    (205,),
    (206, 207),
    (208,),
)

RFC5256_SORT_THREAD = [
    pytest.param(b"* SORT 2 84 882", data(b"SORT", SearchIds([2, 84, 882])), id="5256-sort"),
    pytest.param(
        b"* SORT 5 3 4 1 2", data(b"SORT", SearchIds([5, 3, 4, 1, 2])), id="5256-sort-order-kept"
    ),
    pytest.param(b"* SORT", data(b"SORT", SearchIds()), id="5256-sort-empty"),
    pytest.param(
        b"* THREAD (2)(3 6 (4 23)(44 7 96))",
        data(b"THREAD", ((2,), (3, 6, (4, 23), (44, 7, 96)))),
        id="5256-thread",
    ),
    pytest.param(
        b"* THREAD ((3)(5))",
        data(b"THREAD", (((3,), (5,)),)),
        id="5256-thread-missing-parent",
    ),
    pytest.param(
        _REFERENCES_THREAD, data(b"THREAD", _REFERENCES_EXPECTED), id="5256-thread-references"
    ),
    pytest.param(b"* THREAD", data(b"THREAD", ()), id="5256-thread-empty"),
]

# --- RFC 5258 LIST-EXTENDED (and RFC 6154 SPECIAL-USE, RFC 9051 OLDNAME) ---------------

RFC5258_LIST_EXTENDED = [
    pytest.param(
        b'* LIST (\\Marked \\NoInferiors \\Subscribed) "/" "inbox"',
        data(
            b"LIST",
            MailboxList((b"\\Marked", b"\\NoInferiors", b"\\Subscribed"), b"/", b"inbox", {}),
        ),
        id="5258-5-subscribed-flag",
    ),
    pytest.param(
        b'* LIST (\\Subscribed \\NonExistent) "/" "Fruit/Peach"',
        data(b"LIST", MailboxList((b"\\Subscribed", b"\\NonExistent"), b"/", b"Fruit/Peach", {})),
        id="5258-5-nonexistent",
    ),
    pytest.param(
        b'* LIST () "/" "Tofu" ("CHILDINFO" ("SUBSCRIBED"))',
        data(b"LIST", MailboxList((), b"/", b"Tofu", {b"CHILDINFO": (b"SUBSCRIBED",)})),
        id="5258-5-childinfo",
    ),
    pytest.param(
        b'* LIST (\\NonExistent) "/" "Vegetable" ("CHILDINFO" ("SUBSCRIBED"))',
        data(
            b"LIST",
            MailboxList((b"\\NonExistent",), b"/", b"Vegetable", {b"CHILDINFO": (b"SUBSCRIBED",)}),
        ),
        id="5258-5-childinfo-nonexistent",
    ),
    pytest.param(
        b'* LIST () "/" "Foo" ("childinfo" ("SUBSCRIBED") "X-VENDOR" (1 "two"))',
        data(
            b"LIST",
            MailboxList(
                (), b"/", b"Foo", {b"CHILDINFO": (b"SUBSCRIBED",), b"X-VENDOR": (1, b"two")}
            ),
        ),
        id="5258-childinfo-lower-case-and-unknown-item",
    ),
    pytest.param(
        b'* LIST () "/" "NewMailbox" ("OLDNAME" ("OldMailbox"))',
        data(b"LIST", MailboxList((), b"/", b"NewMailbox", {b"OLDNAME": (b"OldMailbox",)})),
        id="9051-oldname",
    ),
    pytest.param(
        b'* LIST () "." ' + lit(b"New Name") + b' ("OLDNAME" (' + lit(b"Old Name") + b"))",
        data(b"LIST", MailboxList((), b".", b"New Name", {b"OLDNAME": (b"Old Name",)})),
        id="9051-oldname-literals",
    ),
    pytest.param(
        b'* LIST (\\HasNoChildren \\Sent) "/" "[Gmail]/Sent Mail"',
        data(b"LIST", MailboxList((b"\\HasNoChildren", b"\\Sent"), b"/", b"[Gmail]/Sent Mail", {})),
        id="6154-special-use",
    ),
    pytest.param(
        b'* XLIST (\\HasNoChildren \\Inbox) "/" "Inbox"',
        data(b"XLIST", MailboxList((b"\\HasNoChildren", b"\\Inbox"), b"/", b"Inbox", {})),
        id="gmail-xlist-inbox",
    ),
    pytest.param(
        b'* XLIST (\\HasNoChildren \\AllMail) "/" "[Gmail]/All Mail"',
        data(
            b"XLIST", MailboxList((b"\\HasNoChildren", b"\\AllMail"), b"/", b"[Gmail]/All Mail", {})
        ),
        id="gmail-xlist-all-mail",
    ),
]

# --- RFC 5464 METADATA ----------------------------------------------------------------

RFC5464_METADATA = [
    pytest.param(
        b'* METADATA "" (/shared/comment "Shared comment")',
        data(b"METADATA", (b"", {b"/shared/comment": b"Shared comment"})),
        id="5464-server-entry",
    ),
    pytest.param(
        b'* METADATA INBOX (/shared/comment "Shared comment" /private/comment "My own comment")',
        data(
            b"METADATA",
            (
                b"INBOX",
                {b"/shared/comment": b"Shared comment", b"/private/comment": b"My own comment"},
            ),
        ),
        id="5464-two-entries",
    ),
    pytest.param(
        b"* METADATA INBOX (/shared/comment NIL)",
        data(b"METADATA", (b"INBOX", {b"/shared/comment": None})),
        id="5464-nil-value",
    ),
    pytest.param(
        b"* METADATA INBOX (/private/comment " + lit(b"Line 1\r\nLine 2 (with) {3}") + b")",
        data(b"METADATA", (b"INBOX", {b"/private/comment": b"Line 1\r\nLine 2 (with) {3}"})),
        id="5464-literal-value",
    ),
    pytest.param(
        b'* METADATA "My Box" (/shared/vendor/x "")',
        data(b"METADATA", (b"My Box", {b"/shared/vendor/x": b""})),
        id="5464-empty-value-quoted-mailbox",
    ),
    pytest.param(
        b"* METADATA INBOX /shared/comment /private/comment",
        data(b"METADATA", (b"INBOX", (b"/shared/comment", b"/private/comment"))),
        id="5464-unsolicited-entry-list",
    ),
    pytest.param(
        b'* METADATA "" /shared/comment',
        data(b"METADATA", (b"", (b"/shared/comment",))),
        id="5464-unsolicited-single-entry",
    ),
    pytest.param(
        b"a OK [METADATA LONGENTRIES 2199] GETMETADATA complete",
        ok(
            b"GETMETADATA complete",
            ResponseCode(b"METADATA", b"LONGENTRIES 2199", b"LONGENTRIES 2199"),
            b"a",
        ),
        id="5464-longentries-code",
    ),
    pytest.param(
        b"a NO [METADATA TOOMANY] Too many annotations",
        StatusResponse(
            b"a", b"NO", ResponseCode(b"METADATA", b"TOOMANY", b"TOOMANY"), b"Too many annotations"
        ),
        id="5464-toomany-code",
    ),
]

# --- RFC 7162 CONDSTORE / QRESYNC -----------------------------------------------------

RFC7162_CONDSTORE_QRESYNC = [
    pytest.param(
        b"* OK [HIGHESTMODSEQ 715194045007] Highest",
        ok(b"Highest", ResponseCode(b"HIGHESTMODSEQ", 715194045007, b"715194045007")),
        id="7162-highestmodseq",
    ),
    pytest.param(
        b"* OK [NOMODSEQ] Sorry, this mailbox format doesn't support modsequences",
        ok(
            b"Sorry, this mailbox format doesn't support modsequences",
            ResponseCode(b"NOMODSEQ"),
        ),
        id="7162-nomodseq",
    ),
    pytest.param(
        b"d105 OK [MODIFIED 7,9] Conditional STORE failed",
        ok(b"Conditional STORE failed", ResponseCode(b"MODIFIED", seq("7,9"), b"7,9"), b"d105"),
        id="7162-modified",
    ),
    pytest.param(
        b"* OK [CLOSED] Previous mailbox closed",
        ok(b"Previous mailbox closed", ResponseCode(b"CLOSED")),
        id="7162-closed",
    ),
    pytest.param(
        b"* 4 FETCH (UID 8 MODSEQ (12121130956) FLAGS (\\Seen \\Answered))",
        fetch(4, {b"UID": 8, b"MODSEQ": 12121130956, b"FLAGS": (b"\\Seen", b"\\Answered")}),
        id="7162-fetch-modseq",
    ),
    pytest.param(
        b"* 1 FETCH (MODSEQ (9223372036854775807))",
        fetch(1, {b"MODSEQ": 9223372036854775807}),
        id="7162-modseq-63-bit",
    ),
    pytest.param(
        b"* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)",
        data(b"SEARCH", SearchIds([2, 5, 6, 7, 11, 12, 18, 19, 20, 23], modseq=917162500)),
        id="7162-search-modseq",
    ),
    pytest.param(
        b"* SORT 4 2 1 (MODSEQ 1236)",
        data(b"SORT", SearchIds([4, 2, 1], modseq=1236)),
        id="7162-sort-modseq",
    ),
    pytest.param(
        b'* ESEARCH (TAG "a") ALL 1:3,5 MODSEQ 1236',
        data(b"ESEARCH", ESearchResponse(b"a", False, {b"ALL": seq("1:3,5"), b"MODSEQ": 1236})),
        id="7162-esearch-modseq",
    ),
    pytest.param(
        b"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 HIGHESTMODSEQ 7011231777)",
        data(
            b"STATUS",
            MailboxStatus(
                b"blurdybloop",
                {b"MESSAGES": 231, b"UIDNEXT": 44292, b"HIGHESTMODSEQ": 7011231777},
            ),
        ),
        id="7162-status-highestmodseq",
    ),
    pytest.param(
        b"* VANISHED 405,407,410,425",
        data(b"VANISHED", Vanished(False, seq("405,407,410,425"))),
        id="7162-vanished",
    ),
    pytest.param(
        b"* VANISHED (EARLIER) 41,43:116,118,120:211,214:540",
        data(b"VANISHED", Vanished(True, seq("41,43:116,118,120:211,214:540"))),
        id="7162-vanished-earlier",
    ),
    pytest.param(
        b"* VANISHED (earlier) 1:4294967295",
        data(b"VANISHED", Vanished(True, SequenceSet([(1, 4294967295)]))),
        id="7162-vanished-earlier-lower-case-huge-range",
    ),
]

# --- RFC 8474 OBJECTID ----------------------------------------------------------------

RFC8474_OBJECTID = [
    pytest.param(
        b"* 1 FETCH (EMAILID (M6d99ac3275bb4e) THREADID (T64b478a75b7ea9))",
        fetch(1, {b"EMAILID": b"M6d99ac3275bb4e", b"THREADID": b"T64b478a75b7ea9"}),
        id="8474-emailid-threadid",
    ),
    pytest.param(
        b"* 2 FETCH (EMAILID (M5fdc09b49ea703) THREADID NIL)",
        fetch(2, {b"EMAILID": b"M5fdc09b49ea703", b"THREADID": None}),
        id="8474-threadid-nil",
    ),
    pytest.param(
        b"* OK [MAILBOXID (F2212ea87-6097-4256-9d51-71338625)] Ok",
        ok(
            b"Ok",
            ResponseCode(
                b"MAILBOXID",
                b"(F2212ea87-6097-4256-9d51-71338625)",
                b"(F2212ea87-6097-4256-9d51-71338625)",
            ),
        ),
        id="8474-mailboxid-code-kept-raw",
    ),
    pytest.param(
        b"* STATUS foo (MAILBOXID (F2212ea87-6097-4256-9d51-71338625))",
        data(
            b"STATUS",
            MailboxStatus(b"foo", {b"MAILBOXID": b"F2212ea87-6097-4256-9d51-71338625"}),
        ),
        id="8474-status-mailboxid",
    ),
]

# --- RFC 9208 QUOTA -------------------------------------------------------------------

RFC9208_QUOTA = [
    pytest.param(
        b'* QUOTAROOT INBOX ""',
        data(b"QUOTAROOT", (b"INBOX", (b"",))),
        id="9208-quotaroot",
    ),
    pytest.param(
        b'* QUOTA "" (STORAGE 10 512)',
        data(b"QUOTA", (b"", ((b"STORAGE", 10, 512),))),
        id="9208-quota",
    ),
    pytest.param(
        b"* QUOTAROOT comp.mail.mime",
        data(b"QUOTAROOT", (b"comp.mail.mime", ())),
        id="9208-quotaroot-no-roots",
    ),
    pytest.param(
        b'* QUOTA "!partition/sda4" (STORAGE 104 10923847)',
        data(b"QUOTA", (b"!partition/sda4", ((b"STORAGE", 104, 10923847),))),
        id="9208-quota-partition",
    ),
    pytest.param(
        b'* QUOTAROOT INBOX "#user/alice" "!partition/sda4"',
        data(b"QUOTAROOT", (b"INBOX", (b"#user/alice", b"!partition/sda4"))),
        id="9208-quotaroot-several",
    ),
    pytest.param(
        b'* QUOTA "#user/alice" (STORAGE 54 111 message 42 1000 MAILBOX 3 100)',
        data(
            b"QUOTA",
            (
                b"#user/alice",
                ((b"STORAGE", 54, 111), (b"MESSAGE", 42, 1000), (b"MAILBOX", 3, 100)),
            ),
        ),
        id="9208-quota-several-resources",
    ),
]

# --- RFC 3516 BINARY ------------------------------------------------------------------

_BINARY_PART = bytes(range(256))

RFC3516_BINARY = [
    pytest.param(
        b"* 172 FETCH (UID 123 BINARY[1.3] ~{256}\r\n" + _BINARY_PART + b")",
        fetch(172, {b"UID": 123, b"BINARY[1.3]": _BINARY_PART}),
        id="3516-binary-literal8",
    ),
    pytest.param(
        b"* 172 FETCH (UID 123 BINARY.SIZE[3] 4182)",
        fetch(172, {b"UID": 123, b"BINARY.SIZE[3]": 4182}),
        id="3516-binary-size",
    ),
    pytest.param(
        b"* 3 FETCH (BINARY[] ~{0}\r\n BINARY.SIZE[] 0)",
        fetch(3, {b"BINARY[]": b"", b"BINARY.SIZE[]": 0}),
        id="3516-empty-literal8",
    ),
]

# --- Gmail X-GM-* ---------------------------------------------------------------------

GMAIL = [
    pytest.param(
        b"* 1 FETCH (X-GM-MSGID 1278455344230334865)",
        fetch(1, {b"X-GM-MSGID": 1278455344230334865}),
        id="gmail-msgid",
    ),
    pytest.param(
        b"* 4 FETCH (X-GM-THRID 1266894439832287888 UID 4)",
        fetch(4, {b"X-GM-THRID": 1266894439832287888, b"UID": 4}),
        id="gmail-thrid",
    ),
    pytest.param(
        b'* 1 FETCH (X-GM-LABELS (\\Inbox \\Sent Important "Muy Importante"))',
        fetch(1, {b"X-GM-LABELS": (b"\\Inbox", b"\\Sent", b"Important", b"Muy Importante")}),
        id="gmail-labels-flag-like-atom-and-quoted",
    ),
    pytest.param(
        b'* 1 FETCH (X-GM-LABELS ("\\\\Important" "[Gmail]/Sent Mail" foo '
        + lit(b"multi word")
        + b"))",
        fetch(1, {b"X-GM-LABELS": (b"\\Important", b"[Gmail]/Sent Mail", b"foo", b"multi word")}),
        id="gmail-labels-quoted-backslash-and-literal",
    ),
    pytest.param(
        b"* 1 FETCH (X-GM-LABELS ())", fetch(1, {b"X-GM-LABELS": ()}), id="gmail-labels-empty"
    ),
    pytest.param(
        b"* 9 FETCH (X-GM-THRID 1 X-GM-MSGID 2 X-GM-LABELS (\\Starred) UID 9 FLAGS (\\Seen))",
        fetch(
            9,
            {
                b"X-GM-THRID": 1,
                b"X-GM-MSGID": 2,
                b"X-GM-LABELS": (b"\\Starred",),
                b"UID": 9,
                b"FLAGS": (b"\\Seen",),
            },
        ),
        id="gmail-all-items",
    ),
]

UNKNOWN = [
    pytest.param(
        b'* 1 FETCH (X-UNKNOWN-ITEM "v" UID 3)',
        fetch(1, {b"X-UNKNOWN-ITEM": b"v", b"UID": 3}),
        id="unknown-fetch-item-string",
    ),
    pytest.param(
        b"* 1 FETCH (X-LIST (1 (2 NIL) " + lit(b"x y") + b"))",
        fetch(1, {b"X-LIST": (1, (2, None), b"x y")}),
        id="unknown-fetch-item-nested-list",
    ),
    pytest.param(
        b"* XAPPLEPUSHSERVICE aps-version 2 aps-topic com.apple.mail",
        data(b"XAPPLEPUSHSERVICE", b"aps-version 2 aps-topic com.apple.mail"),
        id="unknown-untagged-kept-raw",
    ),
    pytest.param(
        b"* 3 XNUMBERED foo",
        data(b"XNUMBERED", b"foo", 3),
        id="unknown-numbered-untagged-kept-raw",
    ),
]

ALL_CASES = (
    RFC2342_NAMESPACE
    + RFC2971_ID
    + RFC4314_ACL
    + RFC4731_ESEARCH
    + RFC5161_ENABLE
    + RFC5256_SORT_THREAD
    + RFC5258_LIST_EXTENDED
    + RFC5464_METADATA
    + RFC7162_CONDSTORE_QRESYNC
    + RFC8474_OBJECTID
    + RFC9208_QUOTA
    + RFC3516_BINARY
    + GMAIL
    + UNKNOWN
)


@pytest.mark.parametrize(("raw", "expected"), ALL_CASES)
def test_extension_response(raw, expected):
    check(raw, expected)


@pytest.mark.parametrize(("raw", "expected"), ALL_CASES)
def test_extension_response_strict(raw, expected):
    # None of these responses relies on a tolerated defect.
    check(raw, expected, tolerances=STRICT)


def test_search_modseq_is_kept():
    ids = parse_response(b"* SEARCH 2 5 (MODSEQ 917162500)").data
    assert ids == [2, 5]
    assert ids.modseq == 917162500
    assert parse_response(b"* SEARCH 2 5").data.modseq is None


def test_namespace_readable_by_name():
    ns = parse_response(b'* NAMESPACE (("" "/")) (("~" "/")) NIL').data
    assert ns.personal == ((b"", b"/"),)
    assert ns.other == ((b"~", b"/"),)
    assert ns.shared is None


# --- malformed extension responses ----------------------------------------------------

MALFORMED = [
    pytest.param(b"* NAMESPACE", id="namespace-empty"),
    pytest.param(b'* NAMESPACE (("" "/"))', id="namespace-one-part"),
    pytest.param(b'* NAMESPACE (("" "/")) NIL', id="namespace-two-parts"),
    pytest.param(b"* NAMESPACE (x) NIL NIL", id="namespace-not-descriptions"),
    pytest.param(b'* NAMESPACE (("")) NIL NIL', id="namespace-description-too-short"),
    pytest.param(b'* NAMESPACE (("" "/") NIL NIL', id="namespace-unbalanced"),
    pytest.param(b'* NAMESPACE (("" "/")) NIL NIL x', id="namespace-trailing-junk"),
    pytest.param(b'* ID ("name")', id="id-odd"),
    pytest.param(b'* ID ("name" "x"', id="id-unbalanced"),
    pytest.param(b'* ID ("name" ("x"))', id="id-value-list"),
    pytest.param(b"* ACL", id="acl-empty"),
    pytest.param(b"* ACL INBOX fred", id="acl-identifier-without-rights"),
    pytest.param(b"* LISTRIGHTS INBOX", id="listrights-short"),
    pytest.param(b"* LISTRIGHTS INBOX fred", id="listrights-no-rights"),
    pytest.param(b"* MYRIGHTS INBOX", id="myrights-no-rights"),
    pytest.param(b"* MYRIGHTS", id="myrights-empty"),
    pytest.param(b"* THREAD (1 2", id="thread-unbalanced"),
    pytest.param(b"* THREAD (1)(2) junk", id="thread-trailing-junk"),
    pytest.param(b'* THREAD (a "b" NIL)', id="thread-members-not-numbers"),
    pytest.param(b"* THREAD ()", id="thread-empty-list"),
    pytest.param(b"* SORT a", id="sort-not-numbers"),
    pytest.param(b"* SEARCH 1 (MODSEQ x)", id="search-modseq-not-number"),
    pytest.param(b"* SEARCH 1 (MODSEQ 5", id="search-modseq-unbalanced"),
    pytest.param(b"* SEARCH 1 (MODSEQ 5) 6", id="search-number-after-modseq"),
    pytest.param(b'* ESEARCH (TAG "a") MODSEQ x', id="esearch-modseq-not-number"),
    pytest.param(b'* ESEARCH (TAG "a") PARTIAL (1:2)', id="esearch-partial-short"),
    pytest.param(b'* LIST () "/" foo ("CHILDINFO")', id="list-extended-item-without-value"),
    pytest.param(b'* LIST () "/" foo ("CHILDINFO" ("SUBSCRIBED")', id="list-extended-unbalanced"),
    pytest.param(b'* LIST () "/" foo (("X") 1)', id="list-extended-name-not-string"),
    pytest.param(b"* METADATA", id="metadata-empty"),
    pytest.param(b"* METADATA INBOX", id="metadata-mailbox-only"),
    pytest.param(b"* METADATA INBOX ()", id="metadata-empty-entry-values"),
    pytest.param(b"* METADATA INBOX (/a)", id="metadata-entry-without-value"),
    pytest.param(b'* METADATA INBOX (/a "x"', id="metadata-unbalanced"),
    pytest.param(b'* METADATA INBOX (/a "x" /b)', id="metadata-second-value-missing"),
    pytest.param(b"* QUOTA", id="quota-empty"),
    # '* QUOTA ""' without a list is Courier's: the MISSING_QUOTA_LIST tolerance (strict
    # rejection is checked with the tolerance's transcript in test_tolerances.py).
    pytest.param(b'* QUOTA "" (STORAGE 10)', id="quota-not-triple"),
    pytest.param(b'* QUOTA "" (STORAGE x 10)', id="quota-usage-not-number"),
    pytest.param(b'* QUOTA "" (10 10 10)', id="quota-resource-not-atom"),
    pytest.param(b"* QUOTAROOT", id="quotaroot-empty"),
    pytest.param(b"* VANISHED", id="vanished-empty"),
    pytest.param(b"* VANISHED (EARLIER)", id="vanished-earlier-without-uids"),
    pytest.param(b"* VANISHED (LATER) 1:2", id="vanished-unknown-modifier"),
    pytest.param(b"* VANISHED 1:", id="vanished-open-range"),
    pytest.param(b"* VANISHED a", id="vanished-not-set"),
    pytest.param(b"* 1 FETCH (MODSEQ 5)", id="modseq-not-parenthesised"),
    pytest.param(b"* 1 FETCH (MODSEQ (x))", id="modseq-not-number"),
    pytest.param(b"* 1 FETCH (EMAILID M1)", id="emailid-not-parenthesised"),
    pytest.param(b"* 1 FETCH (EMAILID (M1)", id="emailid-unbalanced"),
    pytest.param(b"* 1 FETCH (X-GM-MSGID abc)", id="gm-msgid-not-number"),
    pytest.param(b"* 1 FETCH (X-GM-LABELS foo)", id="gm-labels-not-list"),
    pytest.param(b"* 1 FETCH (X-GM-LABELS (foo)", id="gm-labels-unbalanced"),
    pytest.param(b"* 1 FETCH (BINARY.SIZE[1] x)", id="binary-size-not-number"),
    pytest.param(b"* 1 FETCH (BINARY[1] ~{5}\r\nabc)", id="literal8-short"),
]


@pytest.mark.parametrize("raw", MALFORMED)
def test_malformed_extension_response(raw):
    with pytest.raises(ProtocolError):
        parse_response(raw, tolerances=STRICT)
    assert_rejected_or_unparsed(raw)


def test_quoted_header_field_names_give_the_same_key() -> None:
    # Courier echoes HEADER.FIELDS with quoted names; the key is spelled one way.
    response = parse_response(b'* 1 FETCH (BODY[HEADER.FIELDS ("SUBJECT" "From")] {3}\r\nabc)')
    assert response.data == {b"BODY[HEADER.FIELDS (SUBJECT FROM)]": b"abc"}
