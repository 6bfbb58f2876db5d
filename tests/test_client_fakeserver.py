"""IMAPClient against the scripted server, for what Dovecot does not offer: OAuth
mechanisms (XOAUTH2, OAUTHBEARER, legacy XOAUTH), Gmail's extensions, and the MOVE
fallback of servers without MOVE. Every test checks the exact bytes the client sent."""

from __future__ import annotations

import base64
import re

import pytest
from fakeserver import FakeServer, Script

from imapclient import CapabilityError, IMAPClient, LoginError
from imapclient.exceptions import ConnectionClosedError
from imapclient.response_types import SearchIds

GMAIL_CAPS = b"IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS"


def b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def connect(server: FakeServer) -> IMAPClient:
    return IMAPClient(server.host, server.port, ssl=False, timeout=5)


# -- OAuth ------------------------------------------------------------------------------

XOAUTH2 = b"user=alice@example.com\x01auth=Bearer ya29.token\x01\x01"


def test_xoauth2_with_sasl_ir() -> None:
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 SASL-IR AUTH=XOAUTH2")
        .expect(b"AUTHENTICATE XOAUTH2 " + b64(XOAUTH2))
        .reply(b"OK [CAPABILITY IMAP4rev1 X-GM-EXT-1] alice@example.com authenticated (Success)")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        text = client.oauth2_login("alice@example.com", "ya29.token")
        assert text.endswith(b"authenticated (Success)")
        assert client.capabilities() == (b"IMAP4REV1", b"X-GM-EXT-1")
        client.logout()
    assert b"ya29" not in server.received.replace(b64(XOAUTH2), b"")


def test_xoauth2_without_sasl_ir_waits_for_the_continuation() -> None:
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 AUTH=XOAUTH2")
        .expect(b"AUTHENTICATE XOAUTH2")
        .send(b"+ \r\n")
        .expect_line(b64(XOAUTH2))
        .reply(b"OK done")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.oauth2_login("alice@example.com", "ya29.token")
        client.logout()


def test_xoauth2_vendor_for_yahoo() -> None:
    expected = b"user=bob@yahoo.com\x01auth=Bearer tok\x01vendor=myapp\x01\x01"
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 SASL-IR AUTH=XOAUTH2")
        .expect(b"AUTHENTICATE XOAUTH2 " + b64(expected))
        .reply(b"OK welcome")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.oauth2_login("bob@yahoo.com", "tok", vendor="myapp")
        client.logout()


def test_xoauth2_failure_is_a_login_error_carrying_the_servers_reason() -> None:
    error = b'{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}'
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 SASL-IR AUTH=XOAUTH2")
        .expect(b"AUTHENTICATE XOAUTH2 " + b64(XOAUTH2))
        .send(b"+ " + b64(error) + b"\r\n")
        .expect_line(b"")  # the client answers the error challenge with an empty line
        .reply(b"NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        with pytest.raises(LoginError) as info:
            client.oauth2_login("alice@example.com", "ya29.token")
        assert info.value.code == b"AUTHENTICATIONFAILED"
        assert "401" in str(info.value)
        assert "ya29" not in str(info.value)
        client.logout()


def test_oauthbearer() -> None:
    expected = b"n,a=alice@example.com,\x01auth=Bearer tok\x01\x01"
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 SASL-IR AUTH=OAUTHBEARER")
        .expect(b"AUTHENTICATE OAUTHBEARER " + b64(expected))
        .reply(b"OK welcome")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.oauthbearer_login("alice@example.com", "tok")
        client.logout()


def test_oauth2_login_with_oauthbearer_mech_and_error_challenge() -> None:
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 SASL-IR AUTH=OAUTHBEARER")
        .expect(re.compile(rb"AUTHENTICATE OAUTHBEARER \S+"))
        .send(b"+ " + b64(b'{"status":"invalid_token"}') + b"\r\n")
        .expect_line(b64(b"\x01"))  # RFC 7628: the client acknowledges with %x01
        .reply(b"NO SASL authentication failed")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        with pytest.raises(LoginError, match="invalid_token"):
            client.oauth2_login("alice@example.com", "tok", mech="OAUTHBEARER")
        client.logout()


def test_oauth_login_sends_a_signed_xoauth_request() -> None:
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1 SASL-IR AUTH=XOAUTH")
        .expect(re.compile(rb"AUTHENTICATE XOAUTH [A-Za-z0-9+/=]+"))
        .reply(b"OK welcome")
        .logout()
    )
    url = "https://mail.google.com/mail/b/alice@example.com/imap/"
    with FakeServer(script) as server:
        client = connect(server)
        client.oauth_login(url, "token", "token-secret", "key", "consumer-secret")
        client.logout()
    sent = re.search(rb"AUTHENTICATE XOAUTH (\S+)\r\n", server.received)
    assert sent is not None
    request = base64.b64decode(sent.group(1)).decode()
    assert request.startswith("GET " + url + " ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', request))
    assert params["oauth_token"] == "token"
    assert params["oauth_consumer_key"] == "key"
    assert params["oauth_signature_method"] == "HMAC-SHA1"
    assert params["oauth_signature"]


def test_missing_mechanism_is_a_capability_error_before_anything_is_sent() -> None:
    script = Script().greeting(caps=b"IMAP4rev1 AUTH=PLAIN").logout()
    with FakeServer(script) as server:
        client = connect(server)
        with pytest.raises(CapabilityError):
            client.oauth2_login("alice@example.com", "tok")
        client.logout()
    assert b"AUTHENTICATE" not in server.received


# -- Gmail ------------------------------------------------------------------------------


def gmail_session() -> Script:
    return (
        Script()
        .greeting(caps=GMAIL_CAPS)
        .expect(re.compile(rb"LOGIN .+"))
        .reply(b"OK [CAPABILITY " + GMAIL_CAPS + b"] alice authenticated (Success)")
        .expect(b"SELECT INBOX")
        .send(b"* 3 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen)\r\n")
        .reply(b"OK [READ-WRITE] INBOX selected. (Success)")
    )


def test_gmail_fetch_items_and_labels() -> None:
    script = (
        gmail_session()
        .expect(b"UID FETCH 7 (X-GM-MSGID X-GM-THRID X-GM-LABELS)")
        .send(
            b"* 1 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID 1278455344230334865 "
            b'X-GM-LABELS (\\Inbox \\Sent Important "Muy Importante" &AMk-t&AOk-) UID 7)\r\n'
        )
        .reply(b"OK Success")
        .expect(b"UID FETCH 7 (X-GM-LABELS)")
        .send(b'* 1 FETCH (X-GM-LABELS (\\Inbox "Muy Importante" &AMk-t&AOk-) UID 7)\r\n')
        .reply(b"OK Success")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.login("alice", "secret")
        client.select_folder("INBOX")
        data = client.fetch(7, ["X-GM-MSGID", "X-GM-THRID", "X-GM-LABELS"])[7]
        assert data[b"X-GM-MSGID"] == 1278455344230334865
        assert data[b"X-GM-THRID"] == 1278455344230334865
        assert data[b"X-GM-LABELS"] == (
            b"\\Inbox",
            b"\\Sent",
            b"Important",
            b"Muy Importante",
            b"&AMk-t&AOk-",
        )
        assert client.get_gmail_labels(7) == {7: ["\\Inbox", "Muy Importante", "Été"]}
        client.logout()


@pytest.mark.parametrize(
    ("method", "action"),
    [("add_gmail_labels", b"+"), ("remove_gmail_labels", b"-"), ("set_gmail_labels", b"")],
)
def test_gmail_label_changes(method: str, action: bytes) -> None:
    script = (
        gmail_session()
        .expect(
            b"UID STORE 7,9 " + action + b'X-GM-LABELS (\\Important "Work stuff" "&AMk-t&AOk-")'
        )
        .send(
            b'* 1 FETCH (X-GM-LABELS (\\Important "Work stuff" &AMk-t&AOk-) UID 7)\r\n'
            b"* 2 FETCH (X-GM-LABELS (\\Important) UID 9)\r\n"
        )
        .reply(b"OK Success")
        .expect(b"UID STORE 7 " + action + b'X-GM-LABELS.SILENT ("Work")')
        .reply(b"OK Success")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.login("alice", "secret")
        client.select_folder("INBOX")
        change = getattr(client, method)
        result = change([7, 9], ["\\Important", "Work stuff", "Été"])
        assert result == {7: ["\\Important", "Work stuff", "Été"], 9: ["\\Important"]}
        assert change(7, "Work", silent=True) is None
        client.logout()


def test_gmail_search_and_xlist() -> None:
    script = (
        gmail_session()
        .expect(b'UID SEARCH CHARSET UTF-8 X-GM-RAW "has:attachment in:unread"')
        .send(b"* SEARCH 4 7\r\n")
        .reply(b"OK SEARCH completed (Success)")
        .expect(b'XLIST "" "*"')
        .send(
            b'* XLIST (\\HasNoChildren \\Inbox) "/" "Inbox"\r\n'
            b'* XLIST (\\Noselect \\HasChildren) "/" "[Gmail]"\r\n'
            b'* XLIST (\\HasNoChildren \\AllMail) "/" "[Gmail]/All Mail"\r\n'
        )
        .reply(b"OK Success")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.login("alice", "secret")
        client.select_folder("INBOX")
        found = client.gmail_search("has:attachment in:unread")
        assert found == [4, 7] and isinstance(found, SearchIds)
        assert client.xlist_folders() == [
            ((b"\\HasNoChildren", b"\\Inbox"), b"/", "Inbox"),
            ((b"\\Noselect", b"\\HasChildren"), b"/", "[Gmail]"),
            ((b"\\HasNoChildren", b"\\AllMail"), b"/", "[Gmail]/All Mail"),
        ]
        client.logout()


# -- MOVE fallback -------------------------------------------------------------------------


def test_move_without_move_copies_flags_and_uid_expunges_only_those() -> None:
    script = (
        gmail_session()
        .expect(b"UID COPY 4:6 Archive")
        .reply(b"OK [COPYUID 99 4:6 101:103] Copied")
        .expect(b"UID STORE 4:6 +FLAGS.SILENT (\\Deleted)")
        .reply(b"OK Stored")
        .expect(b"UID EXPUNGE 4:6")
        .send(b"* 3 EXPUNGE\r\n* 3 EXPUNGE\r\n* 3 EXPUNGE\r\n")
        .reply(b"OK Expunged")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.login("alice", "secret")
        client.select_folder("INBOX")
        result = client.move("4:6", "Archive")
        assert result.code is not None and result.code.name == b"COPYUID"
        assert str(result.code.value.destination) == "101:103"
        assert client.drain_unsolicited() == [(3, b"EXPUNGE")] * 3
        client.logout()
    # Only the moved UIDs were expunged: no plain EXPUNGE was sent.
    assert re.search(rb"A\d+ EXPUNGE", server.received) is None


def test_move_without_move_or_uidplus_refuses_before_sending() -> None:
    script = (
        Script()
        .greeting(caps=b"IMAP4rev1")
        .login_ok()
        .expect(b"SELECT INBOX")
        .send(b"* 3 EXISTS\r\n")
        .reply(b"OK [READ-WRITE] selected")
        .capability(b"IMAP4rev1")  # move() asks: LOGIN's OK did not include them
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.login("alice", "secret")
        client.select_folder("INBOX")
        with pytest.raises(CapabilityError):
            client.move([1, 2], "Archive")
        client.logout()
    assert b"COPY" not in server.received and b"STORE" not in server.received


def test_connection_reset_is_a_typed_error_and_the_client_knows_it() -> None:
    import socket
    import struct
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        conn.settimeout(10)
        conn.sendall(b"* OK [CAPABILITY IMAP4rev1] ready\r\n")
        conn.recv(1024)  # the client's first command
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = IMAPClient("127.0.0.1", port, ssl=False, timeout=5)
    with pytest.raises(ConnectionClosedError):
        client.noop()
    with pytest.raises(ConnectionClosedError):  # dead, and known to be
        client.noop()
    thread.join(10)
