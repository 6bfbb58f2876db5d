"""Vendor behaviour the client copes with, each from a transcript of that vendor, through
the real IMAPClient against the scripted server. Parser-level tolerances have their own
transcripts in tests/protocol/test_tolerances.py; these are the client-level ones and the
vendors' full sessions."""

from __future__ import annotations

import re

import pytest
from fakeserver import FakeServer, Script

from imapclient import IMAPClient
from imapclient.exceptions import CommandError
from imapclient.protocol.tolerances import CLIENT_TOLERANCES, DEFAULT_TOLERANCES, Tolerance


def logged_in(caps: bytes) -> Script:
    return (
        Script()
        .greeting(caps=caps)
        .expect(re.compile(rb"LOGIN .+"))
        .reply(b"OK [CAPABILITY " + caps + b"] logged in")
    )


def connect(server: FakeServer, **kwargs) -> IMAPClient:
    client = IMAPClient(server.host, server.port, ssl=False, timeout=5, **kwargs)
    client.login("user", "secret")
    return client


ICLOUD_CAPS = b"IMAP4rev1 IDLE UIDPLUS QUOTA XLIST CHILDREN ID UNSELECT"


def icloud_fetch_rfc822() -> Script:
    # iCloud answers FETCH RFC822 with a BODY[] item (seen in the wild, reported by users).
    message = b"Subject: hi\r\n\r\nhello\r\n"
    return (
        logged_in(ICLOUD_CAPS)
        .expect(b"SELECT INBOX")
        .send(b"* 1 EXISTS\r\n")
        .reply(b"OK [READ-WRITE] SELECT completed")
        .expect(b"UID FETCH 7 (RFC822)")
        .send(b"* 1 FETCH (UID 7 BODY[] {%d}\r\n%s)\r\n" % (len(message), message))
        .reply(b"OK FETCH completed")
        .logout()
    )


def test_icloud_rfc822_comes_back_under_the_key_asked_for() -> None:
    with FakeServer(icloud_fetch_rfc822()) as server:
        client = connect(server)
        client.select_folder("INBOX")
        data = client.fetch(7, ["RFC822"])[7]
        client.logout()
    assert data[b"RFC822"] == b"Subject: hi\r\n\r\nhello\r\n"
    assert b"BODY[]" not in data


def test_without_the_tolerance_the_server_answer_is_kept_as_sent() -> None:
    with FakeServer(icloud_fetch_rfc822()) as server:
        client = connect(server, tolerances=DEFAULT_TOLERANCES & ~Tolerance.RFC822_AS_BODY)
        client.select_folder("INBOX")
        data = client.fetch(7, ["RFC822"])[7]
        client.logout()
    assert b"RFC822" not in data and data[b"BODY[]"].startswith(b"Subject: hi")


NETEASE_CAPS = b"IMAP4rev1 ID XLIST IDLE UIDPLUS SASL-IR AUTH=XOAUTH2"


def netease_select(identified: bool) -> Script:
    script = (
        logged_in(NETEASE_CAPS)
        .expect(b"SELECT INBOX")
        .reply(b"NO SELECT Unsafe Login. Please contact kefu@188.com for help")
    )
    if not identified:
        return script.logout()
    return (
        script.expect(re.compile(rb'ID \("name" "imapclient" "version" "[0-9.]+"\)'))
        .send(b'* ID ("name" "Coremail Imap" "vendor" "Coremail")\r\n')
        .reply(b"OK ID completed")
        .expect(b"SELECT INBOX")
        .send(b"* 3 EXISTS\r\n* 0 RECENT\r\n")
        .reply(b"OK [READ-WRITE] SELECT completed")
        .logout()
    )


def test_netease_select_succeeds_after_identifying_with_id() -> None:
    with FakeServer(netease_select(identified=True)) as server:
        client = connect(server)
        info = client.select_folder("INBOX")
        client.logout()
    assert info[b"EXISTS"] == 3


def test_netease_select_without_the_tolerance_is_the_servers_refusal() -> None:
    with FakeServer(netease_select(identified=False)) as server:
        client = connect(server, tolerances=DEFAULT_TOLERANCES & ~Tolerance.ID_BEFORE_SELECT)
        with pytest.raises(CommandError, match="Unsafe Login"):
            client.select_folder("INBOX")
        client.logout()


GMAIL_CAPS = (
    b"IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS CONDSTORE"
)


def test_gmail_select_with_highestmodseq_and_no_text_and_brackets_in_flags() -> None:
    script = (
        logged_in(GMAIL_CAPS)
        .expect(b"SELECT INBOX")
        .send(
            b"* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen $NotPhishing $Phishing"
            b" OIB-Seen-[Gmail]/Important)\r\n"
            b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen \\*)]"
            b" Flags permitted.\r\n"
            b"* OK [UIDVALIDITY 3] UIDs valid.\r\n* 12 EXISTS\r\n* 0 RECENT\r\n"
            b"* OK [UIDNEXT 1421] Predicted next UID.\r\n* OK [HIGHESTMODSEQ 2198407]\r\n"
        )
        .reply(b"OK [READ-WRITE] INBOX selected. (Success)")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        info = client.select_folder("INBOX")
        client.logout()
    assert info[b"HIGHESTMODSEQ"] == 2198407
    assert b"OIB-Seen-[Gmail]/Important" in info[b"FLAGS"]
    assert info[b"UIDNEXT"] == 1421


EXCHANGE_CAPS = b"IMAP4 IMAP4rev1 AUTH=PLAIN MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+"


def test_exchange_status_with_trailing_space_and_bodystructure_with_nil() -> None:
    script = (
        logged_in(EXCHANGE_CAPS)
        .expect(b"STATUS INBOX (MESSAGES UNSEEN)")
        .send(b"* STATUS INBOX (MESSAGES 4 UNSEEN 1) \r\n")
        .reply(b"OK STATUS completed.")
        .expect(b"SELECT INBOX")
        .send(b"* 4 EXISTS\r\n")
        .reply(b"OK [READ-WRITE] SELECT completed.")
        .expect(b"UID FETCH 3 (BODYSTRUCTURE)")
        .send(
            b'* 3 FETCH (UID 3 BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL'
            b' "quoted-printable" 14 -1 NIL NIL NIL NIL)(NIL NIL NIL NIL NIL "7bit" 0 NIL'
            b' NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL))\r\n'
        )
        .reply(b"OK FETCH completed.")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        status = client.folder_status("INBOX", ["MESSAGES", "UNSEEN"])
        client.select_folder("INBOX")
        body = client.fetch(3, ["BODYSTRUCTURE"])[3][b"BODYSTRUCTURE"]
        client.logout()
    assert dict(status) == {b"MESSAGES": 4, b"UNSEEN": 1}
    assert body.is_multipart and body[0][0][7] == -1 and body[0][1][0] is None


def test_client_tolerances_are_all_covered_here() -> None:
    covered = {Tolerance.RFC822_AS_BODY, Tolerance.ID_BEFORE_SELECT}
    assert {flag for flag in Tolerance if flag & CLIENT_TOLERANCES} == covered
