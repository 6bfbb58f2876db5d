"""Safety cases 6-13, 16 and 18 of issue 6: what a hostile or broken server sends, through
the real IMAPClient against the scripted server (and the sans-IO Session where several
commands must be in flight at once).

6. ``{9999999999}``: LimitExceededError at the configured limit, nothing allocated;
7. a line without CRLF: LimitExceededError at the line limit, memory bounded;
8. EOF inside a literal: ConnectionClosedError, no partial result, connection dead;
9. a short literal, then silence: IMAPTimeoutError after about the read timeout;
10. BYE during FETCH: every pending command fails, the connection is dead;
11. a tagged response for a tag never sent: ProtocolError;
12. ``1:4294967295`` is kept as a SequenceSet, never expanded (SEARCH: ProtocolError);
13. lists nested 10,000 deep: LimitExceededError, never RecursionError;
16. no ``+`` for a synchronising literal: the literal is not sent; the timeout fires;
18. one malformed FETCH item: a typed error or an unparsed item; the connection lives on.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from fakeserver import FakeServer, Script
from safety_support import (
    Blob,
    MiB,
    assert_dead,
    connect,
    login_and_select,
    peak_memory,
    selected,
)

from imapclient import SequenceSet, response_types
from imapclient.exceptions import (
    ConnectionClosedError,
    IMAPClientAbortError,
    IMAPTimeoutError,
    LimitExceededError,
    ProtocolError,
)
from imapclient.protocol.encoder import ArgList, Atom, Command
from imapclient.protocol.limits import DEFAULT_LIMITS, Limits
from imapclient.protocol.parser import Parser
from imapclient.protocol.responses import CopyUid, ESearchResponse, UntaggedResponse, Vanished
from imapclient.protocol.session import Session

SMALL = 10 * MiB  # "no large allocation"


def _noop_answer(data: bytes, caps: bytes = b"IMAP4rev1") -> Script:
    """Greeting, then NOOP answered with ``data`` and silence."""
    return Script().greeting(caps=caps).expect(b"NOOP").send(data).stall()


# -- 6. a huge literal announcement ----------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "size", "limit"),
    [
        (DEFAULT_LIMITS, 9_999_999_999, "max_literal_size"),
        (DEFAULT_LIMITS, 10**30, "max_literal_size"),  # more digits than any limit
        (Limits(max_literal_size=1000), 1001, "max_literal_size"),
        (Limits(max_literal_size=10_000, max_response_size=1100), 1090, "max_response_size"),
    ],
    ids=["default", "30-digits", "configured", "response-size"],
)
def test_huge_literal_announcement_fails_at_once_without_allocating(
    limits: Limits, size: int, limit: str
) -> None:
    # The server announces the literal and then sends nothing: only a check on the
    # announcement itself can raise before the read timeout.
    script = _noop_answer(b"* 1 FETCH (BODY[] {%d}\r\n" % size)
    with FakeServer(script) as server:
        client = connect(server, limits=limits)
        with peak_memory() as peak, pytest.raises(LimitExceededError) as error:
            client.noop()
        assert error.value.limit == limit
        if size < 10**20:
            assert error.value.value is not None and error.value.value >= size
        assert peak.bytes < SMALL
        assert_dead(client)
    assert server.received == b"A1 NOOP\r\n"


def test_literal_of_exactly_the_configured_limit_is_accepted() -> None:
    body = b"x" * 1000
    script = (
        Script()
        .greeting()
        .expect(b"NOOP")
        .send(b"* 1 FETCH (BODY[] {1000}\r\n" + body + b")\r\n")
        .reply(b"OK done")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server, limits=Limits(max_literal_size=1000))
        assert client.noop() == (b"done", [(1, b"FETCH", (b"BODY[]", body))])
        client.logout()


# -- 7. a line that never ends ---------------------------------------------------------------


def test_endless_line_fails_at_a_configured_line_limit() -> None:
    limit = 64 * 1024
    script = _noop_answer(b"* OK " + b"x" * MiB)  # no CRLF, ever
    with FakeServer(script) as server:
        client = connect(server, limits=Limits(max_line_length=limit))
        with peak_memory() as peak, pytest.raises(LimitExceededError) as error:
            client.noop()
        assert error.value.limit == "max_line_length"
        assert error.value.value is not None and error.value.value > limit
        assert peak.bytes < SMALL
        assert_dead(client)


def test_fifty_megabyte_line_fails_at_the_default_line_limit_before_the_server_is_done() -> None:
    chunk = Blob(b"x" * MiB)
    chunks = 50
    script = Script().greeting().expect(b"NOOP").send(b"* OK ")
    for _ in range(chunks):
        script.send(chunk)
    script.stall()
    first_chunk_step = 4  # greeting, expect, "* OK ", then the chunks
    with FakeServer(script, check=False) as server:
        client = connect(server, timeout=5)
        with peak_memory() as peak, pytest.raises(LimitExceededError) as error:
            client.noop()
        assert error.value.limit == "max_line_length"
        assert DEFAULT_LIMITS.max_line_length < error.value.value < 50 * MiB  # type: ignore[operator]
        # Bounded: the line limit plus buffer growth, not the 50 MB the server wanted.
        assert peak.bytes < 2 * DEFAULT_LIMITS.max_line_length
        assert_dead(client)
        server.wait_done(timeout=5)
    # The client gave up while the server was still sending: its send failed at a chunk
    # before the last one.
    steps = [
        int(m.group(1))
        for e in server.errors
        if (m := re.search(r"step (\d+) send\(<1048576 bytes>\)", str(e)))
    ]
    assert steps, server.errors
    assert first_chunk_step <= min(steps) < first_chunk_step + chunks - 1


# -- 8. EOF in the middle of a literal ------------------------------------------------------


def test_eof_inside_a_literal_is_an_abort_and_no_partial_message_is_returned() -> None:
    script = (
        selected()
        .expect(b"UID FETCH 1 (BODY[])")
        .send(b"* 1 FETCH (UID 1 BODY[] {100}\r\n" + b"x" * 40)
        .close()
    )
    with FakeServer(script) as server:
        client = connect(server)
        login_and_select(client)
        result: Any = None
        with pytest.raises(ConnectionClosedError, match="literal") as error:
            result = client.fetch([1], ["BODY[]"])
        assert isinstance(error.value, IMAPClientAbortError)
        assert result is None
        assert client.drain_unsolicited() == []
        assert_dead(client)
    assert not re.search(rb"NOOP|CAPABILITY", server.received)
    assert server.received.endswith(b"UID FETCH 1 (BODY[])\r\n")


# -- 9. a literal shorter than announced, then silence --------------------------------------


def test_short_literal_then_silence_times_out_after_about_the_read_timeout() -> None:
    timeout = 0.5
    script = (
        selected()
        .expect(b"UID FETCH 1 (BODY[])")
        .send(b"* 1 FETCH (UID 1 BODY[] {10}\r\nabc")
        .stall()
    )
    with FakeServer(script) as server:
        client = connect(server, timeout=timeout)
        login_and_select(client)
        start = time.monotonic()
        with pytest.raises(IMAPTimeoutError) as error:
            client.fetch([1], ["BODY[]"])
        elapsed = time.monotonic() - start
        assert isinstance(error.value, TimeoutError)
        assert isinstance(error.value, IMAPClientAbortError)
        assert timeout * 0.9 <= elapsed < timeout + 1.5
        assert_dead(client)
    assert server.received.endswith(b"UID FETCH 1 (BODY[])\r\n")


# -- 10. BYE in the middle of a FETCH -------------------------------------------------------


def test_bye_during_fetch_fails_the_fetch_and_kills_the_connection() -> None:
    script = (
        selected()
        .expect(b"UID FETCH 1:* (FLAGS)")
        .send(b"* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n* BYE server shutting down\r\n")
        .stall()  # the connection stays open: only the BYE can end the FETCH
    )
    with FakeServer(script) as server:
        client = connect(server)
        login_and_select(client)
        result: Any = None
        with pytest.raises(ConnectionClosedError, match="BYE server shutting down"):
            result = client.fetch("1:*", ["FLAGS"])
        assert result is None
        assert_dead(client)
    assert server.received.endswith(b"UID FETCH 1:* (FLAGS)\r\n")


def test_bye_fails_every_command_in_flight_and_queued_in_the_session() -> None:
    session = Session()
    session.receive_data(b"* OK [CAPABILITY IMAP4rev1] hello\r\n")
    fetch = session.send(Command(b"UID FETCH", (Atom(b"1:*"), ArgList([Atom(b"FLAGS")]))))
    listing = session.send(Command(b"LIST", (b"", b"*")))
    namespace = session.send(Command(b"NAMESPACE"))
    # Commands whose untagged answers cannot be confused may be in flight together.
    assert session.data_to_send() == (
        b'A1 UID FETCH 1:* (FLAGS)\r\nA2 LIST "" "*"\r\nA3 NAMESPACE\r\n'
    )
    queued = session.send(Command(b"CHECK"))  # must wait for the FETCH: not yet sent
    assert session.data_to_send() == b""
    assert len(session.pending) == 4
    session.receive_data(b"* 1 FETCH (UID 1 FLAGS ())\r\n* BYE going down\r\n")
    for pending in (fetch, listing, namespace, queued):
        assert pending.done
        assert isinstance(pending.error, ConnectionClosedError)
        with pytest.raises(ConnectionClosedError, match="BYE going down"):
            pending.outcome()
    assert session.closed and session.pending == []
    with pytest.raises(ConnectionClosedError):
        session.send(Command(b"NOOP"))
    with pytest.raises(ConnectionClosedError):
        session.receive_data(b"A1 OK too late\r\n")
    assert session.data_to_send() == b""


# -- 11. a tag that was never sent ----------------------------------------------------------


@pytest.mark.parametrize("tag", [b"ZZZ9", b"A99", b"A1"], ids=["foreign", "future", "used"])
def test_tagged_response_for_a_tag_never_sent_is_a_protocol_error(tag: bytes) -> None:
    # A1 is the LOGIN, already completed when the NOOP (A2) is answered with it.
    script = (
        Script()
        .greeting()
        .login_ok()
        .expect(b"NOOP")
        .send(tag + b" OK forged completion\r\n")
        .stall()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.login("alice", "password")
        with pytest.raises(ProtocolError, match="never sent"):
            client.noop()
        assert_dead(client)


def test_session_rejects_an_unknown_tag_and_fails_what_is_pending() -> None:
    session = Session()
    session.receive_data(b"* OK hello\r\n")
    noop = session.send(Command(b"NOOP"))
    session.data_to_send()
    with pytest.raises(ProtocolError):
        session.receive_data(b"B7 OK not yours\r\n")
    assert isinstance(noop.error, ProtocolError)
    assert session.closed


# -- 12. 1:4294967295 ---------------------------------------------------------------------

ALL_UIDS = SequenceSet([(1, 4294967295)])


def _assert_whole_range(value: object) -> None:
    assert isinstance(value, SequenceSet)
    assert value == ALL_UIDS and value.ranges == ((1, 4294967295),)
    assert str(value) == "1:4294967295"
    assert len(value) == 4294967295 and 4294967295 in value and 0 not in value


def test_search_with_a_range_is_a_protocol_error_not_an_expansion() -> None:
    script = (
        selected()
        .expect(b"UID SEARCH ALL")
        .send(b"* SEARCH 1:4294967295\r\n")
        .reply(b"OK SEARCH done")
        .stall()
    )
    with FakeServer(script) as server:
        client = connect(server)
        login_and_select(client)
        with peak_memory() as peak, pytest.raises(ProtocolError):
            client.search("ALL")
        assert peak.bytes < SMALL
        assert_dead(client)


def test_esearch_all_range_stays_a_sequence_set() -> None:
    session = Session()
    session.receive_data(b"* OK [CAPABILITY IMAP4rev1 ESEARCH] hello\r\n")
    search = session.send(
        Command(b"UID SEARCH", (Atom(b"RETURN"), ArgList([Atom(b"ALL")]), Atom(b"ALL")))
    )
    assert session.data_to_send() == b"A1 UID SEARCH RETURN (ALL) ALL\r\n"
    with peak_memory() as peak:
        session.receive_data(
            b'* ESEARCH (TAG "A1") UID ALL 1:4294967295\r\nA1 OK SEARCH completed\r\n'
        )
        (response,) = search.untagged
        assert isinstance(response, UntaggedResponse)
        data = response.data
        assert isinstance(data, ESearchResponse)
        assert data.tag == b"A1" and data.uid
        _assert_whole_range(data.items[b"ALL"])
    assert peak.bytes < SMALL


def test_copyuid_ranges_stay_sequence_sets() -> None:
    script = (
        selected(caps=b"IMAP4rev1 UIDPLUS")
        .expect(b"UID COPY 1:* Archive")
        .reply(b"OK [COPYUID 7 1:4294967295 1:4294967295] COPY completed")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        login_and_select(client)
        with peak_memory() as peak:
            text = client.copy("1:*", "Archive")
            assert text.code is not None
            copyuid = text.code.value
            assert isinstance(copyuid, CopyUid) and copyuid.uidvalidity == 7
            _assert_whole_range(copyuid.source)
            _assert_whole_range(copyuid.destination)
        assert peak.bytes < SMALL
        client.logout()


def test_vanished_range_stays_a_sequence_set() -> None:
    script = (
        selected(caps=b"IMAP4rev1 QRESYNC")
        .expect(b"NOOP")
        .send(b"* VANISHED 1:4294967295\r\n")
        .reply(b"OK NOOP completed")
        # Arriving during a command that does not claim it: kept for drain_unsolicited().
        .expect(b'LIST "" "*"')
        .send(b"* VANISHED (EARLIER) 1:4294967295\r\n")
        .reply(b"OK LIST completed")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        login_and_select(client)
        with peak_memory() as peak:
            _, responses = client.noop()
            assert [r[0] for r in responses] == [b"VANISHED"]
            vanished = responses[0][1]
            assert isinstance(vanished, Vanished) and not vanished.earlier
            _assert_whole_range(vanished.uids)
            assert client.list_folders() == []
            (unsolicited,) = client.drain_unsolicited()
            assert unsolicited[0] == b"VANISHED"
            assert isinstance(unsolicited[1], Vanished) and unsolicited[1].earlier
            _assert_whole_range(unsolicited[1].uids)
        assert peak.bytes < SMALL
        client.logout()


# -- 13. lists nested 10,000 deep ----------------------------------------------------------

DEPTH = 10_000
DEEP = b"(" * DEPTH + b")" * DEPTH


@pytest.mark.parametrize(
    "data",
    [
        b"* 1 FETCH (UID 1 X-CUSTOM-ITEM " + DEEP + b")\r\n",
        b"* 1 FETCH (UID 1 BODYSTRUCTURE " + DEEP + b")\r\n",
        b"* 1 FETCH (UID 1 ENVELOPE " + DEEP + b")\r\n",
        b"* 1 FETCH (UID 1 X-CUSTOM-ITEM " + b"(" * DEPTH + b"\r\n",  # never closed
    ],
    ids=["fetch-item", "bodystructure", "envelope", "unclosed"],
)
def test_deep_nesting_in_fetch_is_a_limit_error_never_recursion(data: bytes) -> None:
    with FakeServer(_noop_answer(data)) as server:
        client = connect(server)
        with pytest.raises(LimitExceededError) as error:
            client.noop()
        assert error.value.limit == "max_depth"
        assert_dead(client)


def test_deep_nesting_in_an_unknown_untagged_response_never_recurses() -> None:
    """Unknown responses are documented as kept raw (never parsed, so never deep); the
    issue also allows a LimitExceededError. Either way: no RecursionError, and if kept,
    kept exactly and the connection stays usable."""
    script = (
        Script()
        .greeting()
        .expect(b"NOOP")
        .send(b"* XNEST " + DEEP + b"\r\n* 2 XNEST " + DEEP + b"\r\n")
        .reply(b"OK NOOP completed")
        .expect(b"NOOP")
        .reply(b"OK second NOOP")
        .logout()
    )
    with FakeServer(script, check=False) as server:
        client = connect(server)
        try:
            _, responses = client.noop()
        except LimitExceededError as exc:
            assert exc.limit == "max_depth"
            assert_dead(client)
        else:
            assert responses == [(b"XNEST", DEEP), (2, b"XNEST", DEEP)]
            assert client.noop() == (b"second NOOP", [])
            client.logout()
            server.wait_done()
            server.assert_no_errors()


_DEEP_CONTEXTS = {
    "fetch-item": b"* 1 FETCH (X-ITEM " + DEEP + b")",
    "bodystructure": b"* 1 FETCH (BODYSTRUCTURE " + DEEP + b")",
    "body": b"* 1 FETCH (BODY " + DEEP + b")",
    "envelope": b"* 1 FETCH (ENVELOPE " + DEEP + b")",
    "thread": b"* THREAD " + DEEP,
    "namespace": b"* NAMESPACE " + DEEP + b" NIL NIL",
    "id": b"* ID " + DEEP,
    "list-extended": b'* LIST () "/" INBOX ' + DEEP,
    "esearch": b'* ESEARCH (TAG "A1") XRETURN ' + DEEP,
    "unknown": b"* XNEST " + DEEP,
    "response-code": b"* OK [XCODE " + DEEP + b"] text",
}


@pytest.mark.parametrize("max_depth", [DEFAULT_LIMITS.max_depth, 10**6], ids=["default", "huge"])
@pytest.mark.parametrize("context", list(_DEEP_CONTEXTS))
def test_parser_never_raises_recursion_error(context: str, max_depth: int) -> None:
    parser = Parser(Limits(max_depth=max_depth))
    try:
        parser.parse(_DEEP_CONTEXTS[context])
    except ProtocolError as exc:  # LimitExceededError, or malformed for that rule
        if max_depth == DEFAULT_LIMITS.max_depth and context not in ("unknown", "response-code"):
            assert isinstance(exc, LimitExceededError) and exc.limit == "max_depth"
    else:
        # Only raw-kept data may pass with the default limit.
        assert max_depth != DEFAULT_LIMITS.max_depth or context in ("unknown", "response-code")


# -- 16. no "+" for a synchronising literal -------------------------------------------------


def test_literal_is_not_sent_without_the_servers_go_ahead() -> None:
    script = Script().greeting().login_ok().expect(b"CREATE {9}").stall()
    with FakeServer(script) as server:
        client = connect(server, timeout=0.5)
        client.login("alice", "password")
        start = time.monotonic()
        with pytest.raises(IMAPTimeoutError):
            client.create_folder(b"new\r\nline")
        assert time.monotonic() - start < 2.0
        assert_dead(client)
    assert server.received.endswith(b"A2 CREATE {9}\r\n")
    assert b"new\r\nline" not in server.received


def test_literal_password_is_not_sent_without_the_servers_go_ahead() -> None:
    password = "pass\r\nword-never-sent"
    script = Script().greeting().expect(b"LOGIN alice {21}").stall()
    with FakeServer(script) as server:
        client = connect(server, timeout=0.5)
        with pytest.raises(IMAPTimeoutError):
            client.login("alice", password)
        assert_dead(client)
    assert server.received == b"A1 LOGIN alice {21}\r\n"


def test_refused_literal_is_never_sent_and_the_connection_goes_on() -> None:
    # The server answers the announcement with NO instead of "+": the literal is dropped.
    script = (
        Script()
        .greeting()
        .login_ok()
        .expect(b"CREATE {9}")
        .reply(b"NO [CANNOT] no literals today")
        .expect(b"NOOP")
        .reply(b"OK still here")
        .logout()
    )
    with FakeServer(script) as server:
        client = connect(server)
        client.login("alice", "password")
        with pytest.raises(client.Error, match="CANNOT"):
            client.create_folder(b"new\r\nline")
        assert client.noop() == (b"still here", [])
        client.logout()
    assert b"new\r\nline" not in server.received


# -- 18. one malformed FETCH item among good ones -------------------------------------------

BAD_BODYSTRUCTURE = b'("text" "plain" NIL NIL NIL "7bit" not-a-number)'


def test_malformed_fetch_item_is_reported_and_the_connection_stays_usable() -> None:
    script = (
        selected()
        .expect(b"UID FETCH 1 (FLAGS BODYSTRUCTURE RFC822.SIZE)")
        .send(
            b"* 1 FETCH (UID 1 FLAGS (\\Seen) BODYSTRUCTURE "
            + BAD_BODYSTRUCTURE
            + b" RFC822.SIZE 42)\r\n"
        )
        .reply(b"OK FETCH completed")
        .expect(b"NOOP")
        .send(b"* 4 EXISTS\r\n")
        .reply(b"OK NOOP completed")
        .logout()
    )
    unparsed = getattr(response_types, "Unparsed", None)
    with FakeServer(script, check=unparsed is not None) as server:
        client = connect(server)
        login_and_select(client)
        if unparsed is not None:
            result = client.fetch([1], ["FLAGS", "BODYSTRUCTURE", "RFC822.SIZE"])
            item = result[1][b"BODYSTRUCTURE"]
            assert isinstance(item, unparsed)
            raw = getattr(item, "raw", item)
            assert bytes(raw) == BAD_BODYSTRUCTURE
            assert result[1][b"FLAGS"] == (b"\\Seen",)
            assert result[1][b"RFC822.SIZE"] == 42
        else:
            with pytest.raises(ProtocolError):
                client.fetch([1], ["FLAGS", "BODYSTRUCTURE", "RFC822.SIZE"])
        # In any case the same connection must carry on.
        assert client.noop() == (b"NOOP completed", [(4, b"EXISTS")])
        client.logout()
