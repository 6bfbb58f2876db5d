"""Tests of the sans-IO session (src/imapclient/protocol/session.py), driven by byte
transcripts: what the server sends goes to receive_data(), what the client would write
comes out of data_to_send(). No sockets."""

from __future__ import annotations

import io

import pytest

from imapclient.exceptions import (
    ConnectionClosedError,
    IllegalStateError,
    IMAPClientAbortError,
    LimitExceededError,
    ProtocolError,
)
from imapclient.protocol.encoder import (
    ArgList,
    Atom,
    Command,
    Literal,
    LiteralMode,
    encode_command,
)
from imapclient.protocol.limits import Limits
from imapclient.protocol.responses import (
    ContinuationRequest,
    StatusResponse,
    UntaggedResponse,
)
from imapclient.protocol.session import ConnectionState, PendingCommand, Session

GREETING = b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Server ready\r\n"


def greeted(greeting: bytes = GREETING) -> Session:
    s = Session()
    s.receive_data(greeting)
    return s


def send(s: Session, name: bytes, *args: object, **kw: object) -> PendingCommand:
    return s.send(Command(name, list(args)), **kw)  # type: ignore[arg-type]


def selected() -> Session:
    s = greeted(b"* PREAUTH [CAPABILITY IMAP4rev1] logged in\r\n")
    p = send(s, b"SELECT", b"INBOX")
    s.data_to_send()
    s.receive_data(b"* 3 EXISTS\r\nA1 OK [READ-WRITE] done\r\n")
    assert p.result is not None and s.state is ConnectionState.SELECTED
    return s


# --- greeting -------------------------------------------------------------------------


def test_greeting_ok() -> None:
    s = Session()
    assert s.state is ConnectionState.GREETING
    s.receive_data(b"* OK hello\r\n")
    assert s.state is ConnectionState.NOT_AUTHENTICATED
    assert s.greeting is not None and s.greeting.text == b"hello"
    assert s.capabilities is None
    assert not s.closed


def test_greeting_preauth() -> None:
    s = greeted(b"* PREAUTH welcome back\r\n")
    assert s.state is ConnectionState.AUTHENTICATED


def test_greeting_bye() -> None:
    s = greeted(b"* BYE too busy\r\n")
    assert s.state is ConnectionState.LOGOUT
    assert s.closed
    assert s.bye is not None and s.bye.text == b"too busy"
    with pytest.raises(ConnectionClosedError):
        send(s, b"NOOP")
    s.receive_data(b"")  # the server then closes: normal


def test_capabilities_from_greeting_code() -> None:
    s = greeted(b"* OK [CAPABILITY IMAP4rev1 LITERAL+ auth=plain] ready\r\n")
    assert s.capabilities == (b"IMAP4REV1", b"LITERAL+", b"AUTH=PLAIN")
    assert s.literal_mode is LiteralMode.LITERAL_PLUS


def test_greeting_split_across_chunks() -> None:
    s = Session()
    for byte in GREETING:
        s.receive_data(bytes([byte]))
    assert s.state is ConnectionState.NOT_AUTHENTICATED
    assert s.capabilities == (b"IMAP4REV1", b"AUTH=PLAIN")


@pytest.mark.parametrize(
    "first",
    [
        b"* 1 EXISTS\r\n",
        b"* CAPABILITY IMAP4rev1\r\n",
        b"+ go ahead\r\n",
        b"A1 OK done\r\n",
        b"* NO go away\r\n",
        b"* BAD what\r\n",
    ],
)
def test_non_greeting_first_line_is_a_protocol_error(first: bytes) -> None:
    s = Session()
    with pytest.raises(ProtocolError):
        s.receive_data(first)
    assert s.closed
    with pytest.raises(ProtocolError):
        s.receive_data(b"* OK hello\r\n")


# --- tags, sending, results -------------------------------------------------------------


def test_tags_unique_and_increasing() -> None:
    s = greeted()
    cmds = [send(s, b"NOOP") for _ in range(12)]
    tags = [c.tag for c in cmds]
    assert len(set(tags)) == 12
    numbers = [int(t[1:]) for t in tags]
    assert numbers == sorted(numbers)
    assert all(t.startswith(b"A") for t in tags)


def test_data_to_send_is_exactly_the_encoded_command() -> None:
    s = greeted()
    cmd = Command(b"SELECT", [b"Sent Items"])
    p = s.send(cmd)
    out = s.data_to_send()
    assert out == b"".join(encode_command(p.tag, cmd, LiteralMode.SYNC))
    assert out == p.tag + b' SELECT "Sent Items"\r\n'
    assert s.data_to_send() == b""


def test_pipelined_commands_are_sent_together() -> None:
    s = greeted()
    a = send(s, b"NOOP")
    b = send(s, b"CAPABILITY")
    assert s.data_to_send() == a.tag + b" NOOP\r\n" + b.tag + b" CAPABILITY\r\n"


def test_tagged_ok_completes_the_command() -> None:
    s = greeted()
    p = send(s, b"NOOP")
    assert not p.done
    with pytest.raises(IllegalStateError):
        p.outcome()
    s.data_to_send()
    s.receive_data(p.tag + b" OK [UIDNEXT 5] NOOP completed\r\n")
    assert p.done
    assert p.result is not None
    assert p.result.status == b"OK"
    assert p.result.tag == p.tag
    assert p.result.text == b"NOOP completed"
    assert p.result.code is not None and p.result.code.value == 5
    assert p.outcome() is p.result
    assert s.pending == []


@pytest.mark.parametrize("status", [b"NO", b"BAD"])
def test_no_and_bad_complete_the_command(status: bytes) -> None:
    s = greeted()
    p = send(s, b"SELECT", b"Nope")
    s.data_to_send()
    s.receive_data(p.tag + b" " + status + b" [NONEXISTENT] no such mailbox\r\n")
    assert p.result is not None
    assert p.result.status == status
    assert p.result.code is not None and p.result.code.name == b"NONEXISTENT"
    assert p.error is None
    assert not s.closed


def test_responses_complete_out_of_order() -> None:
    s = greeted()
    a = send(s, b"CREATE", b"a")
    b = send(s, b"CREATE", b"b")
    assert s.data_to_send().count(b"CREATE") == 2  # both in flight
    s.receive_data(b.tag + b" OK b\r\n")
    assert b.done and not a.done
    s.receive_data(a.tag + b" OK a\r\n")
    assert a.done


def test_queued_command_is_not_in_flight_until_sent() -> None:
    s = greeted()
    p = send(s, b"NOOP")
    # The server answers a tag the client has not sent yet: a protocol violation.
    with pytest.raises(ProtocolError):
        s.receive_data(p.tag + b" OK early\r\n")


def test_send_refuses_nul_without_sending_anything() -> None:
    s = greeted()
    with pytest.raises(ValueError):
        send(s, b"SELECT", b"a\x00b")
    assert s.data_to_send() == b""
    assert s.pending == []
    p = send(s, b"NOOP")
    assert s.data_to_send() == p.tag + b" NOOP\r\n"


# --- untagged routing -------------------------------------------------------------------


def test_search_data_goes_to_search_and_exists_is_unsolicited() -> None:
    s = selected()
    p = send(s, b"SEARCH", Atom(b"ALL"))
    s.data_to_send()
    s.receive_data(b"* SEARCH 2 3 5\r\n* 7 EXISTS\r\n" + p.tag + b" OK done\r\n")
    assert [r.name for r in p.untagged if isinstance(r, UntaggedResponse)] == [b"SEARCH"]
    assert list(p.untagged[0].data) == [2, 3, 5]  # type: ignore[union-attr]
    assert len(s.unsolicited) == 1
    exists = s.unsolicited[0]
    assert isinstance(exists, UntaggedResponse)
    assert exists.name == b"EXISTS" and exists.number == 7


def test_two_commands_in_flight_each_get_their_own_responses() -> None:
    s = selected()
    search = send(s, b"UID SEARCH", Atom(b"UNSEEN"))
    lst = send(s, b"LIST", b"", b"*")
    s.data_to_send()
    s.receive_data(
        b'* LIST (\\HasNoChildren) "/" INBOX\r\n'
        b"* SEARCH 10 11\r\n"
        b'* LIST () "/" "Sent Items"\r\n'
        b"* 1 FETCH (FLAGS (\\Seen))\r\n"
        + lst.tag
        + b" OK list done\r\n"
        + search.tag
        + b" OK search done\r\n"
    )
    assert [r.name for r in search.untagged] == [b"SEARCH"]  # type: ignore[union-attr]
    assert [r.data.name for r in lst.untagged] == [b"INBOX", b"Sent Items"]  # type: ignore[union-attr]
    assert [r.name for r in s.unsolicited] == [b"FETCH"]  # type: ignore[union-attr]


def test_untagged_capability_updates_capabilities() -> None:
    s = greeted()
    p = send(s, b"CAPABILITY")
    s.data_to_send()
    s.receive_data(b"* CAPABILITY IMAP4rev1 IDLE LITERAL+ STARTTLS\r\n")
    assert s.capabilities == (b"IMAP4REV1", b"IDLE", b"LITERAL+", b"STARTTLS")
    s.receive_data(p.tag + b" OK done\r\n")
    assert len(p.untagged) == 1
    assert s.literal_mode is LiteralMode.LITERAL_PLUS


def test_unsolicited_capability_also_updates() -> None:
    s = greeted()
    s.receive_data(b"* CAPABILITY IMAP4rev1 ENABLE\r\n")
    assert s.capabilities == (b"IMAP4REV1", b"ENABLE")
    assert len(s.unsolicited) == 1


def test_claims_override() -> None:
    s = selected()
    p = s.send(Command(b"XFOO"), claims=[b"XFOO"])
    s.data_to_send()
    s.receive_data(b"* XFOO bar\r\n* 4 EXISTS\r\n" + p.tag + b" OK\r\n")
    assert [r.name for r in p.untagged] == [b"XFOO"]  # type: ignore[union-attr]
    assert [r.name for r in s.unsolicited] == [b"EXISTS"]  # type: ignore[union-attr]


# --- synchronising literals ----------------------------------------------------------


def test_sync_literal_waits_for_continuation() -> None:
    s = greeted()
    assert s.literal_mode is LiteralMode.SYNC
    p = send(s, b"APPEND", b"INBOX", Literal(b"hello"))
    assert s.data_to_send() == p.tag + b" APPEND INBOX {5}\r\n"
    assert s.data_to_send() == b""
    assert s.data_to_send() == b""
    s.receive_data(b"+ Ready for literal data\r\n")
    assert s.data_to_send() == b"hello\r\n"
    s.receive_data(p.tag + b" OK [APPENDUID 1 2] done\r\n")
    assert p.result is not None and p.result.status == b"OK"


def test_untagged_data_while_waiting_for_continuation() -> None:
    s = selected()
    p = send(s, b"APPEND", b"INBOX", Literal(b"hello"))
    s.data_to_send()
    s.receive_data(b"* 9 EXISTS\r\n")
    assert s.data_to_send() == b""
    s.receive_data(b"+ go\r\n")
    assert s.data_to_send() == b"hello\r\n"
    assert not p.done


def test_two_sync_literals_need_two_continuations() -> None:
    s = greeted()
    p = send(s, b"X", Literal(b"ab"), Literal(b"cd"))
    assert s.data_to_send() == p.tag + b" X {2}\r\n"
    s.receive_data(b"+ one\r\n")
    assert s.data_to_send() == b"ab {2}\r\n"
    assert s.data_to_send() == b""
    s.receive_data(b"+ two\r\n")
    assert s.data_to_send() == b"cd\r\n"


def test_no_instead_of_continuation_completes_and_literal_is_never_sent() -> None:
    s = greeted()
    p = send(s, b"APPEND", b"INBOX", Literal(b"secret message"))
    s.data_to_send()
    s.receive_data(p.tag + b" NO [OVERQUOTA] too big\r\n")
    assert p.result is not None and p.result.status == b"NO"
    assert s.data_to_send() == b""
    # A later continuation request is now unexpected.
    with pytest.raises(ProtocolError):
        s.receive_data(b"+ go\r\n")


def test_command_queued_behind_a_literal_waits() -> None:
    s = greeted()
    a = send(s, b"APPEND", b"INBOX", Literal(b"hello"))
    b = send(s, b"NOOP")
    assert s.data_to_send() == a.tag + b" APPEND INBOX {5}\r\n"
    assert s.data_to_send() == b""
    s.receive_data(b"+ ok\r\n")
    assert s.data_to_send() == b"hello\r\n" + b.tag + b" NOOP\r\n"


def test_command_queued_behind_a_rejected_literal_is_sent_after_the_no() -> None:
    s = greeted()
    a = send(s, b"APPEND", b"INBOX", Literal(b"hello"))
    b = send(s, b"NOOP")
    s.data_to_send()
    s.receive_data(a.tag + b" NO no\r\n")
    assert s.data_to_send() == b.tag + b" NOOP\r\n"


def test_literal_plus_sends_everything_at_once() -> None:
    s = greeted(b"* OK [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n")
    big = b"x" * 10000
    a = send(s, b"APPEND", b"INBOX", Literal(big))
    b = send(s, b"NOOP")
    assert s.data_to_send() == (
        a.tag + b" APPEND INBOX {10000+}\r\n" + big + b"\r\n" + b.tag + b" NOOP\r\n"
    )


def test_literal_minus_from_capabilities() -> None:
    s = greeted(b"* OK [CAPABILITY IMAP4rev1 LITERAL-] hi\r\n")
    assert s.literal_mode is LiteralMode.LITERAL_MINUS
    small = send(s, b"APPEND", b"INBOX", Literal(b"x" * 4096))
    assert s.data_to_send().endswith(b"x" * 4096 + b"\r\n")
    s.receive_data(small.tag + b" OK\r\n")
    big = send(s, b"APPEND", b"INBOX", Literal(b"y" * 4097))
    assert s.data_to_send() == big.tag + b" APPEND INBOX {4097}\r\n"


def test_imap4rev2_implies_literal_minus() -> None:
    s = greeted(b"* OK [CAPABILITY IMAP4rev2] hi\r\n")
    assert s.literal_mode is LiteralMode.LITERAL_MINUS


# --- AUTHENTICATE -------------------------------------------------------------------------


def test_authenticate_with_continuations() -> None:
    s = greeted()
    challenges: list[bytes] = []
    answers = iter([b"dXNlcg==", b"cGFzcw=="])

    def respond(challenge: bytes) -> bytes | None:
        challenges.append(challenge)
        return next(answers)

    p = s.send(Command(b"AUTHENTICATE", [Atom(b"LOGIN")], sensitive=True), on_continuation=respond)
    later = send(s, b"CAPABILITY")
    assert s.data_to_send() == p.tag + b" AUTHENTICATE LOGIN\r\n"
    s.receive_data(b"+ VXNlcm5hbWU6\r\n")
    assert challenges == [b"VXNlcm5hbWU6"]
    assert s.data_to_send() == b"dXNlcg==\r\n"
    s.receive_data(b"+ UGFzc3dvcmQ6\r\n")
    assert challenges == [b"VXNlcm5hbWU6", b"UGFzc3dvcmQ6"]
    assert s.data_to_send() == b"cGFzcw==\r\n"
    assert s.data_to_send() == b""  # CAPABILITY still waits
    s.receive_data(p.tag + b" OK [CAPABILITY IMAP4rev1 IDLE] welcome\r\n")
    assert p.result is not None and p.result.status == b"OK"
    assert s.state is ConnectionState.AUTHENTICATED
    assert s.capabilities == (b"IMAP4REV1", b"IDLE")
    assert s.data_to_send() == later.tag + b" CAPABILITY\r\n"
    log = list(s.sent_log)
    assert log[0] == p.tag + b" AUTHENTICATE **REDACTED**"
    assert log[1:3] == [b"**REDACTED**", b"**REDACTED**"]
    assert not any(b"dXNlcg" in entry or b"cGFzcw" in entry for entry in log)


def test_authenticate_cancel_sends_star() -> None:
    s = greeted()
    p = s.send(
        Command(b"AUTHENTICATE", [Atom(b"PLAIN")], sensitive=True),
        on_continuation=lambda challenge: None,
    )
    s.data_to_send()
    s.receive_data(b"+ \r\n")
    assert s.data_to_send() == b"*\r\n"
    s.receive_data(p.tag + b" BAD cancelled\r\n")
    assert p.result is not None and p.result.status == b"BAD"
    assert s.state is ConnectionState.NOT_AUTHENTICATED


def test_authenticate_waits_for_commands_in_flight_and_blocks_later_ones() -> None:
    s = greeted()
    noop = send(s, b"NOOP")
    auth = s.send(
        Command(b"AUTHENTICATE", [Atom(b"PLAIN")], sensitive=True),
        on_continuation=lambda challenge: b"AGEAYg==",
    )
    after = send(s, b"NOOP")
    assert s.data_to_send() == noop.tag + b" NOOP\r\n"
    s.receive_data(noop.tag + b" OK\r\n")
    assert s.data_to_send() == auth.tag + b" AUTHENTICATE PLAIN\r\n"
    assert s.data_to_send() == b""
    s.receive_data(b"+ \r\n")
    assert s.data_to_send() == b"AGEAYg==\r\n"
    s.receive_data(auth.tag + b" OK done\r\n")
    assert s.data_to_send() == after.tag + b" NOOP\r\n"


def test_authenticate_ok_without_capability_makes_capabilities_stale() -> None:
    s = greeted()
    p = s.send(
        Command(b"AUTHENTICATE", [Atom(b"PLAIN")], sensitive=True),
        on_continuation=lambda challenge: b"AGEAYg==",
    )
    s.data_to_send()
    s.receive_data(b"+ \r\n" + p.tag + b" OK done\r\n")
    assert s.capabilities is None


# --- IDLE -----------------------------------------------------------------------------------


def test_idle_lifecycle() -> None:
    s = selected()
    idle = send(s, b"IDLE")
    assert s.data_to_send() == idle.tag + b" IDLE\r\n"
    assert not idle.idling
    s.receive_data(b"+ idling\r\n")
    assert idle.idling
    s.receive_data(b"* 4 EXISTS\r\n* 1 RECENT\r\n* 2 EXPUNGE\r\n")
    names = [r.name for r in idle.untagged]  # type: ignore[union-attr]
    assert names == [b"EXISTS", b"RECENT", b"EXPUNGE"]
    assert not s.unsolicited
    queued = send(s, b"NOOP")
    assert s.data_to_send() == b""
    s.idle_done(idle)
    assert s.data_to_send() == b"DONE\r\n"
    assert not idle.done
    assert s.data_to_send() == b""
    s.receive_data(idle.tag + b" OK IDLE terminated\r\n")
    assert idle.result is not None and idle.result.status == b"OK"
    assert s.data_to_send() == queued.tag + b" NOOP\r\n"
    assert b"DONE" in s.sent_log


def test_idle_waits_for_commands_in_flight() -> None:
    s = selected()
    noop = send(s, b"NOOP")
    idle = send(s, b"IDLE")
    assert s.data_to_send() == noop.tag + b" NOOP\r\n"
    s.receive_data(noop.tag + b" OK\r\n")
    assert s.data_to_send() == idle.tag + b" IDLE\r\n"


def test_idle_done_needs_active_idle() -> None:
    s = selected()
    idle = send(s, b"IDLE")
    with pytest.raises(IllegalStateError):
        s.idle_done(idle)  # not sent yet
    noop = send(s, b"NOOP")
    with pytest.raises(IllegalStateError):
        s.idle_done(noop)
    s.data_to_send()
    s.receive_data(b"+ idling\r\n")
    s.idle_done(idle)
    s.data_to_send()
    s.receive_data(idle.tag + b" OK\r\n")
    with pytest.raises(IllegalStateError):
        s.idle_done(idle)


def test_second_continuation_during_idle_is_a_protocol_error() -> None:
    s = selected()
    idle = send(s, b"IDLE")
    s.data_to_send()
    s.receive_data(b"+ idling\r\n")
    with pytest.raises(ProtocolError):
        s.receive_data(b"+ again\r\n")
    assert isinstance(idle.error, ProtocolError)


def test_idle_rejected() -> None:
    s = selected()
    idle = send(s, b"IDLE")
    after = send(s, b"NOOP")
    s.data_to_send()
    s.receive_data(idle.tag + b" BAD no idle here\r\n")
    assert idle.result is not None and idle.result.status == b"BAD"
    assert not idle.idling
    assert s.data_to_send() == after.tag + b" NOOP\r\n"


# --- BYE, EOF, protocol errors --------------------------------------------------------------


def test_bye_fails_every_pending_command() -> None:
    s = selected()
    a = send(s, b"NOOP")
    b = send(s, b"FETCH", Atom(b"1"), Atom(b"FLAGS"))
    s.data_to_send()
    c = send(s, b"CHECK")  # queued, not sent
    s.receive_data(b"* BYE server shutting down\r\n")
    for cmd in (a, b, c):
        assert isinstance(cmd.error, ConnectionClosedError)
        with pytest.raises(ConnectionClosedError):
            cmd.outcome()
    assert s.closed
    assert s.bye is not None and s.bye.text == b"server shutting down"
    assert "shutting down" in str(a.error)
    with pytest.raises(IMAPClientAbortError):
        send(s, b"NOOP")


def test_bye_without_pending_commands_closes() -> None:
    s = greeted()
    s.receive_data(b"* BYE autologout\r\n")
    assert s.closed
    assert s.state is ConnectionState.LOGOUT


def test_bye_during_logout_is_normal() -> None:
    s = selected()
    p = send(s, b"LOGOUT")
    assert s.data_to_send() == p.tag + b" LOGOUT\r\n"
    s.receive_data(b"* BYE IMAP4rev1 Server logging out\r\n")
    assert p.error is None
    assert not p.done
    s.receive_data(p.tag + b" OK LOGOUT completed\r\n")
    assert p.result is not None and p.result.status == b"OK"
    assert p.error is None
    assert [r.status for r in p.untagged] == [b"BYE"]  # type: ignore[union-attr]
    assert s.state is ConnectionState.LOGOUT
    assert s.closed
    s.receive_data(b"")  # EOF after LOGOUT completes: no error
    assert s.error is None


def test_bye_and_ok_in_one_chunk_then_eof() -> None:
    s = greeted()
    p = send(s, b"LOGOUT")
    s.data_to_send()
    s.receive_data(b"* BYE bye\r\n" + p.tag + b" OK bye\r\n")
    s.receive_data(b"")
    assert p.result is not None and p.result.status == b"OK"


def test_eof_with_pending_commands_fails_them_and_raises() -> None:
    s = selected()
    a = send(s, b"NOOP")
    s.data_to_send()
    b = send(s, b"CHECK")
    with pytest.raises(ConnectionClosedError):
        s.receive_data(b"")
    assert isinstance(a.error, ConnectionClosedError)
    assert isinstance(b.error, ConnectionClosedError)
    assert s.closed
    with pytest.raises(ConnectionClosedError):
        s.receive_data(b"* OK more\r\n")


def test_eof_in_the_middle_of_a_literal() -> None:
    s = selected()
    p = send(s, b"FETCH", Atom(b"1"), Atom(b"BODY[]"))
    s.data_to_send()
    s.receive_data(b"* 1 FETCH (BODY[] {100}\r\nonly a part")
    with pytest.raises(ConnectionClosedError, match="literal"):
        s.receive_data(b"")
    assert isinstance(p.error, ConnectionClosedError)
    assert "literal" in str(p.error)


def test_eof_in_the_middle_of_a_line() -> None:
    s = selected()
    p = send(s, b"NOOP")
    s.data_to_send()
    s.receive_data(b"* 3 EXI")
    with pytest.raises(ConnectionClosedError):
        s.receive_data(b"")
    assert isinstance(p.error, ConnectionClosedError)


def test_eof_with_nothing_pending_marks_closed_without_raising() -> None:
    s = greeted()
    s.receive_data(b"")
    assert s.closed


def test_tagged_response_with_unknown_tag() -> None:
    s = greeted()
    a = send(s, b"NOOP")
    s.data_to_send()
    b = send(s, b"NOOP")
    with pytest.raises(ProtocolError) as info:
        s.receive_data(b"ZZ9 OK forged\r\n")
    assert isinstance(a.error, ProtocolError)
    assert isinstance(b.error, ProtocolError)
    assert s.closed
    with pytest.raises(ProtocolError) as again:
        s.receive_data(b"* OK anything\r\n")
    assert again.value is info.value
    with pytest.raises(ProtocolError):
        send(s, b"NOOP")


def test_tag_answered_twice() -> None:
    s = greeted()
    a = send(s, b"NOOP")
    s.data_to_send()
    with pytest.raises(ProtocolError):
        s.receive_data(a.tag + b" OK\r\n" + a.tag + b" OK\r\n")
    assert a.result is not None  # the first answer stands


def test_unexpected_continuation() -> None:
    s = greeted()
    with pytest.raises(ProtocolError):
        s.receive_data(b"+ what?\r\n")
    assert s.closed


def test_unexpected_continuation_with_a_command_in_flight() -> None:
    s = greeted()
    p = send(s, b"NOOP")
    s.data_to_send()
    with pytest.raises(ProtocolError):
        s.receive_data(b"+ what?\r\n")
    assert isinstance(p.error, ProtocolError)


def test_malformed_response_fails_pending() -> None:
    s = greeted()
    p = send(s, b"NOOP")
    s.data_to_send()
    with pytest.raises(ProtocolError):
        s.receive_data(b"* 1 FETCH (UID (x)\r\n")  # unbalanced: cannot be kept as Unparsed
    assert isinstance(p.error, ProtocolError)


@pytest.mark.parametrize(
    "hostile",
    [
        b"* 1 FETCH (UID 1e999)\r\n",
        b"* 1 FETCH (RFC822.SIZE 1E400)\r\n",
        b"* OK [UIDNEXT 9e999] x\r\n",
        b"* " + b"9" * 5000 + b" EXISTS\r\n",
        b"* SEARCH 1 " + b"2" * 5000 + b"\r\n",
        b"* 1 FETCH (X-THING " + b"7" * 5000 + b")\r\n",
        b"* VANISHED 1:" + b"3" * 5000 + b"\r\n",
    ],
    ids=[
        "uid-1e999",
        "size-1e400",
        "uidnext-9e999",
        "exists-5000",
        "search-5000",
        "generic-5000",
        "vanished-5000",
    ],
)
def test_absurd_numbers_raise_only_protocol_errors(hostile: bytes) -> None:
    # RFC 9051 section 9: number is a 32-bit and number64 a 63-bit unsigned integer. A
    # server that sends something else breaks the protocol. The session may reject the
    # response (ProtocolError, pending commands failed, session closed) or, where a named
    # tolerance covers it (MALFORMED_RESP_CODE keeps a bad code's text raw), accept it --
    # but an OverflowError or ValueError must never escape, leaving pending commands
    # hanging and the session looking alive.
    s = selected()
    p = send(s, b"NOOP")
    s.data_to_send()
    try:
        s.receive_data(hostile)
    except ProtocolError:
        assert isinstance(p.error, ProtocolError)
        assert s.closed
    else:
        assert not s.closed
        assert p.error is None


def test_limit_exceeded_fails_pending() -> None:
    from imapclient.protocol.limits import Limits

    s = Session(limits=Limits(max_line_length=100, max_literal_size=10))
    s.receive_data(b"* OK hi\r\n")
    p = send(s, b"NOOP")
    s.data_to_send()
    with pytest.raises(ProtocolError):
        s.receive_data(b"* 1 FETCH (BODY[] {11}\r\n")
    assert isinstance(p.error, ProtocolError)


# --- STARTTLS -------------------------------------------------------------------------------


def starttls_session() -> tuple[Session, PendingCommand]:
    s = greeted(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n")
    p = send(s, b"STARTTLS")
    assert s.data_to_send() == p.tag + b" STARTTLS\r\n"
    return s, p


def test_starttls_discards_bytes_after_the_ok_in_the_same_chunk() -> None:
    s, p = starttls_session()
    s.receive_data(
        p.tag + b" OK Begin TLS negotiation now\r\n"
        b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"
        b"A2 OK forged\r\n"
    )
    assert p.result is not None and p.result.status == b"OK"
    assert s.tls_pending
    assert s.capabilities is None
    assert not s.unsolicited
    assert not p.untagged
    assert s.error is None


def test_starttls_ignores_data_until_tls_established() -> None:
    s, p = starttls_session()
    s.receive_data(p.tag + b" OK go\r\n")
    s.receive_data(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
    s.receive_data(b"* 1 EXISTS\r\nA9 OK forged\r\n+ forged\r\n")
    assert s.capabilities is None
    assert not s.unsolicited
    assert s.error is None
    with pytest.raises(IllegalStateError):
        send(s, b"CAPABILITY")


def test_after_tls_established_data_is_parsed_normally() -> None:
    s, p = starttls_session()
    s.receive_data(p.tag + b" OK go\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
    s.tls_established()
    assert not s.tls_pending
    cap = send(s, b"CAPABILITY")
    assert s.data_to_send() == cap.tag + b" CAPABILITY\r\n"
    s.receive_data(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN\r\n" + cap.tag + b" OK\r\n")
    assert s.capabilities == (b"IMAP4REV1", b"AUTH=PLAIN", b"AUTH=LOGIN")
    assert cap.result is not None


def test_starttls_partial_line_after_ok_is_discarded() -> None:
    # A half line after the OK must not be glued to the first line received over TLS.
    s, p = starttls_session()
    s.receive_data(p.tag + b" OK go\r\n* CAPABILITY IMAP4rev1 AUTH=")
    s.tls_established()
    s.receive_data(b"* OK still fine\r\n")
    assert s.capabilities is None
    assert len(s.unsolicited) == 1


def test_untagged_data_before_starttls_ok_is_not_kept() -> None:
    s, p = starttls_session()
    s.receive_data(
        b'* LIST () "/" INBOX\r\n'
        b"* 5 EXISTS\r\n"
        b"* 1 FETCH (BODY[] {12}\r\nforged\r\nmail)\r\n"
        b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + p.tag + b" OK go\r\n"
    )
    assert not s.unsolicited
    assert not p.untagged
    assert s.capabilities is None


def test_unsolicited_data_from_before_starttls_is_forgotten() -> None:
    s = greeted(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
    s.receive_data(b"* 3 EXISTS\r\n")
    assert len(s.unsolicited) == 1
    p = send(s, b"STARTTLS")
    s.data_to_send()
    s.receive_data(p.tag + b" OK go\r\n")
    assert not s.unsolicited


def test_capability_code_in_starttls_ok_is_not_trusted() -> None:
    s, p = starttls_session()
    s.receive_data(p.tag + b" OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] go\r\n")
    assert s.capabilities is None
    s.tls_established()
    assert s.capabilities is None


def test_starttls_rejected_keeps_plaintext_session() -> None:
    s, p = starttls_session()
    s.receive_data(p.tag + b" NO not now\r\n* 1 EXISTS\r\n")
    assert not s.tls_pending
    assert len(s.unsolicited) == 1
    assert s.capabilities is not None


def test_command_queued_behind_starttls_is_not_sent_in_plaintext() -> None:
    # RFC 9051 section 6.2.1: after the OK the client starts the TLS negotiation; no
    # command may go out in plaintext (nor into the handshake) before it completes.
    s = greeted(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
    p = send(s, b"STARTTLS")
    queued = send(s, b"CAPABILITY")
    assert s.data_to_send() == p.tag + b" STARTTLS\r\n"
    s.receive_data(p.tag + b" OK go\r\n")
    assert s.tls_pending
    assert s.data_to_send() == b""
    s.tls_established()
    assert s.data_to_send() == queued.tag + b" CAPABILITY\r\n"


def test_tls_established_without_starttls() -> None:
    s = greeted()
    with pytest.raises(IllegalStateError):
        s.tls_established()


# --- LOGIN and capabilities -----------------------------------------------------------------


def test_login_ok_with_capability_code_replaces_capabilities() -> None:
    s = greeted(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN LOGINDISABLED] ready\r\n")
    p = s.send(Command(b"LOGIN", [b"alice", b"s3cret"], sensitive=True))
    s.data_to_send()
    s.receive_data(p.tag + b" OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in\r\n")
    assert s.state is ConnectionState.AUTHENTICATED
    assert s.capabilities == (b"IMAP4REV1", b"IDLE", b"MOVE")


def test_login_ok_with_untagged_capability_replaces_capabilities() -> None:
    s = greeted()
    p = s.send(Command(b"LOGIN", [b"alice", b"s3cret"], sensitive=True))
    s.data_to_send()
    s.receive_data(b"* CAPABILITY IMAP4rev1 SORT\r\n" + p.tag + b" OK Logged in\r\n")
    assert s.capabilities == (b"IMAP4REV1", b"SORT")


def test_login_ok_without_capability_makes_capabilities_stale() -> None:
    s = greeted()
    assert s.capabilities is not None
    p = s.send(Command(b"LOGIN", [b"alice", b"s3cret"], sensitive=True))
    s.data_to_send()
    s.receive_data(p.tag + b" OK Logged in\r\n")
    assert s.state is ConnectionState.AUTHENTICATED
    assert s.capabilities is None


def test_login_no_keeps_state_and_capabilities() -> None:
    s = greeted()
    before = s.capabilities
    p = s.send(Command(b"LOGIN", [b"alice", b"wrong"], sensitive=True))
    s.data_to_send()
    s.receive_data(p.tag + b" NO [AUTHENTICATIONFAILED] nope\r\n")
    assert s.state is ConnectionState.NOT_AUTHENTICATED
    assert s.capabilities == before


def test_login_is_redacted_in_sent_log() -> None:
    s = greeted()
    p = s.send(Command(b"LOGIN", [b"alice", b"s3cret"], sensitive=True))
    out = s.data_to_send()
    assert b"s3cret" in out  # it is on the wire, of course
    assert list(s.sent_log) == [p.tag + b" LOGIN **REDACTED**"]


def test_login_with_sync_literal_password() -> None:
    s = greeted()
    pw = b"p\xc3\xa4ss"
    p = s.send(Command(b"LOGIN", [b"alice", pw], sensitive=True))
    assert s.data_to_send() == p.tag + b" LOGIN alice {5}\r\n"
    s.receive_data(b"+ go\r\n")
    assert s.data_to_send() == pw + b"\r\n"
    assert all(pw not in entry for entry in s.sent_log)


# --- states ---------------------------------------------------------------------------------


def test_select_close_states() -> None:
    s = selected()
    p = send(s, b"CLOSE")
    s.data_to_send()
    s.receive_data(p.tag + b" OK\r\n")
    assert s.state is ConnectionState.AUTHENTICATED
    p = send(s, b"EXAMINE", b"INBOX")
    s.data_to_send()
    s.receive_data(p.tag + b" OK\r\n")
    assert s.state is ConnectionState.SELECTED
    p = send(s, b"SELECT", b"missing")
    s.data_to_send()
    s.receive_data(p.tag + b" NO no\r\n")
    assert s.state is ConnectionState.AUTHENTICATED


def test_preauth_after_greeting_is_a_protocol_error() -> None:
    s = greeted()
    with pytest.raises(ProtocolError):
        s.receive_data(b"* PREAUTH again\r\n")


def test_response_types_in_unsolicited() -> None:
    s = selected()
    s.receive_data(b"* OK [ALERT] disk full\r\n* FLAGS (\\Seen \\Deleted)\r\n")
    ok, flags = list(s.unsolicited)
    assert isinstance(ok, StatusResponse) and ok.code is not None and ok.code.name == b"ALERT"
    assert isinstance(flags, UntaggedResponse) and flags.data == (b"\\Seen", b"\\Deleted")
    assert not isinstance(ok, ContinuationRequest)


def test_arglist_command_routing() -> None:
    s = selected()
    p = send(s, b"UID FETCH", Atom(b"1:*"), ArgList([Atom(b"FLAGS"), Atom(b"UID")]))
    assert s.data_to_send() == p.tag + b" UID FETCH 1:* (FLAGS UID)\r\n"
    s.receive_data(
        b"* 1 FETCH (FLAGS () UID 7)\r\n* VANISHED (EARLIER) 3:4\r\n" + p.tag + b" OK\r\n"
    )
    assert [r.name for r in p.untagged] == [b"FETCH", b"VANISHED"]  # type: ignore[union-attr]
    assert p.untagged[0].data == {b"FLAGS": (), b"UID": 7}  # type: ignore[union-attr]


# --- SASL-IR, IDLE timing, case of command names, continuation answers --------------------


def test_sasl_ir_initial_response_is_an_atom() -> None:
    # RFC 4959: the initial response is base64 or "=" and travels as an atom.
    s = greeted(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\n")
    calls: list[bytes] = []

    def respond(challenge: bytes) -> bytes | None:
        calls.append(challenge)
        return b""

    p = s.send(
        Command(b"AUTHENTICATE", [Atom(b"PLAIN"), b"AGFsaWNlAHMzY3JldA=="], sensitive=True),
        on_continuation=respond,
    )
    assert s.data_to_send() == p.tag + b" AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldA==\r\n"
    s.receive_data(p.tag + b" OK done\r\n")
    assert calls == []
    assert list(s.sent_log) == [p.tag + b" AUTHENTICATE **REDACTED**"]
    q = s.send(Command(b"AUTHENTICATE", [Atom(b"EXTERNAL"), b"="], sensitive=True))
    assert s.data_to_send() == q.tag + b" AUTHENTICATE EXTERNAL =\r\n"


def test_done_is_not_sent_before_the_idle_continuation() -> None:
    # RFC 2177 section 3: DONE is the client's answer to the server's "+"; if the server
    # refuses IDLE (NO/BAD) instead, a DONE already sent would be read as a new command.
    s = selected()
    idle = send(s, b"IDLE")
    s.data_to_send()
    try:
        s.idle_done(idle)  # before "+ idling": may refuse, or defer DONE
    except IllegalStateError:
        pass
    assert b"DONE" not in s.data_to_send()
    s.receive_data(idle.tag + b" NO IDLE not allowed now\r\n")
    assert idle.result is not None
    assert b"DONE" not in s.data_to_send()


@pytest.mark.parametrize("name", [b"logout", b"Logout"])
def test_bye_during_lowercase_logout_is_normal(name: bytes) -> None:
    # Command names are case-insensitive (RFC 9051 section 9); the session upper-cases
    # them for claims and states, so it must for LOGOUT's BYE too.
    s = selected()
    p = s.send(Command(name))
    s.data_to_send()
    s.receive_data(b"* BYE logging out\r\n" + p.tag + b" OK done\r\n")
    assert p.error is None
    assert p.result is not None and p.result.status == b"OK"


def test_lowercase_idle_is_exclusive_and_accepts_its_continuation() -> None:
    s = selected()
    idle = s.send(Command(b"idle"))
    other = send(s, b"NOOP")
    assert s.data_to_send() == idle.tag + b" idle\r\n"
    s.receive_data(b"+ idling\r\n")
    assert idle.idling
    assert other.tag not in s.data_to_send()


def test_continuation_answer_cannot_inject_a_line() -> None:
    # The answer to a SASL challenge is written raw; a CR or LF in it would end the line
    # early and smuggle a command (DESIGN.md: never let CR/LF into a line).
    s = greeted()
    s.send(
        Command(b"AUTHENTICATE", [Atom(b"X-EVIL")], sensitive=True),
        on_continuation=lambda challenge: b"YWJj\r\nA99 DELETE INBOX",
    )
    s.data_to_send()
    try:
        s.receive_data(b"+ \r\n")
    except (ValueError, IMAPClientAbortError):
        pass
    assert b"A99 DELETE" not in s.data_to_send()


def test_unread_unsolicited_responses_are_bounded() -> None:
    s = Session(limits=Limits(max_unsolicited=3))
    s.receive_data(b"* OK hi\r\n")
    s.receive_data(b"* 1 EXISTS\r\n* 2 EXISTS\r\n* 3 EXISTS\r\n")
    assert len(s.unsolicited) == 3
    with pytest.raises(LimitExceededError) as info:
        s.receive_data(b"* 4 EXISTS\r\n")
    assert info.value.limit == "max_unsolicited"
    assert s.closed


def test_draining_keeps_the_backlog_under_the_limit() -> None:
    s = Session(limits=Limits(max_unsolicited=2))
    s.receive_data(b"* OK hi\r\n")
    for n in range(10):
        s.receive_data(b"* %d EXISTS\r\n" % n)
        s.unsolicited.clear()  # what drain_unsolicited() does
    assert not s.closed


# --- pipelining policy (RFC 9051 section 5.5) ------------------------------------------


def _sent_tags(data: bytes) -> list[bytes]:
    return [line.split(b" ", 1)[0] for line in data.split(b"\r\n") if line]


def test_independent_commands_are_pipelined() -> None:
    s = greeted()
    tags = [send(s, b"CREATE", name).tag for name in (b"a", b"b", b"c")]
    assert _sent_tags(s.data_to_send()) == tags


def test_barrier_waits_for_everything_in_flight_and_holds_later_commands() -> None:
    s = greeted()
    a = send(s, b"CREATE", b"a")
    select = send(s, b"SELECT", b"INBOX")
    after = send(s, b"UID FETCH", Atom(b"1"), Atom(b"FLAGS"))
    assert _sent_tags(s.data_to_send()) == [a.tag]  # SELECT waits, and so does the FETCH
    s.receive_data(a.tag + b" OK done\r\n")
    assert _sent_tags(s.data_to_send()) == [select.tag]
    s.receive_data(select.tag + b" OK [READ-WRITE] selected\r\n")
    assert _sent_tags(s.data_to_send()) == [after.tag]


def test_sequence_number_commands_wait_for_commands_that_allow_expunge() -> None:
    s = greeted()
    noop = send(s, b"CREATE", b"x")  # EXPUNGE may be sent during it
    fetch = send(s, b"FETCH", Atom(b"1:3"), Atom(b"FLAGS"))
    assert _sent_tags(s.data_to_send()) == [noop.tag]
    s.receive_data(noop.tag + b" OK\r\n")
    assert _sent_tags(s.data_to_send()) == [fetch.tag]


def test_same_untagged_kind_is_serialised_without_routing() -> None:
    s = greeted()
    first = send(s, b"UID SEARCH", Atom(b"ALL"))
    second = send(s, b"UID SEARCH", Atom(b"SEEN"))
    assert _sent_tags(s.data_to_send()) == [first.tag]
    s.receive_data(b"* SEARCH 1 2 3\r\n" + first.tag + b" OK\r\n")
    assert _sent_tags(s.data_to_send()) == [second.tag]
    s.receive_data(b"* SEARCH 2\r\n" + second.tag + b" OK\r\n")
    assert [r.data for r in first.untagged] == [[1, 2, 3]]
    assert [r.data for r in second.untagged] == [[2]]


def _uid_route(uids: set[int]):
    return lambda r: r.data.get(b"UID") in uids


def test_routed_fetches_are_pipelined_and_each_gets_its_own_responses() -> None:
    s = greeted()
    a = s.send(Command(b"UID FETCH", [Atom(b"1:2"), Atom(b"FLAGS")]), route=_uid_route({1, 2}))
    b = s.send(Command(b"UID FETCH", [Atom(b"3:4"), Atom(b"FLAGS")]), route=_uid_route({3, 4}))
    assert _sent_tags(s.data_to_send()) == [a.tag, b.tag]
    # Responses interleaved, and one for a message neither asked about.
    s.receive_data(
        b"* 3 FETCH (UID 3 FLAGS ())\r\n* 1 FETCH (UID 1 FLAGS ())\r\n"
        b"* 9 FETCH (UID 9 FLAGS (\\Seen))\r\n* 4 FETCH (UID 4 FLAGS ())\r\n"
        b"* 2 FETCH (UID 2 FLAGS ())\r\n" + a.tag + b" OK\r\n" + b.tag + b" OK\r\n"
    )
    assert [r.data[b"UID"] for r in a.untagged] == [1, 2]
    assert [r.data[b"UID"] for r in b.untagged] == [3, 4]
    assert [r.data[b"UID"] for r in s.unsolicited] == [9]


def test_cancel_withdraws_only_unsent_commands() -> None:
    s = greeted()
    first = send(s, b"SELECT", b"INBOX")
    queued = send(s, b"UID FETCH", Atom(b"1"), Atom(b"FLAGS"))
    s.data_to_send()
    assert not s.cancel(first)  # on the wire: it must complete normally
    assert s.cancel(queued)
    assert queued.done and isinstance(queued.error, IllegalStateError)
    s.receive_data(first.tag + b" OK [READ-WRITE] done\r\n")
    assert s.data_to_send() == b""  # the withdrawn command is never sent


def test_bye_greeting_fails_commands_queued_before_it() -> None:
    s = Session()
    queued = s.send(Command(b"CAPABILITY"))
    s.receive_data(b"* BYE too many connections\r\n")
    assert isinstance(queued.error, ConnectionClosedError)
    assert "too many connections" in str(queued.error)
    assert s.closed


# --- streamed literals (LiteralSource) --------------------------------------------------


def test_a_streamed_literal_waits_for_the_continuation_and_comes_in_chunks() -> None:
    from imapclient.protocol.encoder import LiteralSource

    s = greeted()  # no LITERAL+: synchronising literals
    data = bytes(range(256)).replace(b"\x00", b"x") * 4096  # 1 MiB, no NUL
    source = LiteralSource(io.BytesIO(data), len(data))
    p = s.send(Command(b"APPEND", [b"INBOX", Literal(source)]))
    assert s.data_to_send() == p.tag + b" APPEND INBOX {%d}\r\n" % len(data)
    assert s.data_to_send() == b""  # nothing before the "+"
    s.receive_data(b"+ go ahead\r\n")
    chunks = []
    while chunk := s.data_to_send():
        chunks.append(chunk)
    assert b"".join(chunks) == data + b"\r\n"
    assert max(len(c) for c in chunks) <= LiteralSource.CHUNK + 2
    s.receive_data(p.tag + b" OK appended\r\n")
    assert p.result is not None and p.result.status == b"OK"


def test_a_source_shorter_than_announced_ends_the_connection() -> None:
    from imapclient.protocol.encoder import LiteralSource

    s = greeted(b"* OK [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n")
    p = s.send(Command(b"APPEND", [b"INBOX", Literal(LiteralSource(io.BytesIO(b"abc"), 10))]))
    with pytest.raises(IMAPClientAbortError, match="3 of 10"):
        s.data_to_send()
    assert isinstance(p.error, IMAPClientAbortError) and s.closed
