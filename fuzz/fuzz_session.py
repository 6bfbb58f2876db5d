"""Fuzz target: the session state machine (src/imapclient/protocol/session.py).

Input layout: choices from the back of the input (``ConsumeIntInRange``), server bytes
from the front (``ConsumeBytes``):

* the greeting: one of :data:`GREETINGS`, or (the last choice) none, so that the
  greeting comes from the fuzzed stream too;
* a mask of which commands from :data:`COMMANDS` to queue, in that order: LOGIN with a
  password that needs a synchronising literal, SELECT, APPEND with a synchronising
  literal, AUTHENTICATE, IDLE, NOOP, two UID FETCHes with routes (so both may be in
  flight), STARTTLS, a FETCH by sequence numbers, CLOSE, LOGOUT. The AUTHENTICATE handler answers
  each challenge with the next of :data:`SASL_ANSWERS`, some of which are not one
  printable line;
* then up to 64 steps, each an action (0-5) and, for actions 0 and 1, a chunk length
  (0-48) and that many server bytes. Before every step the client writes everything
  ``data_to_send()`` returns. 0: feed the chunk; 1: ask the IDLE command to stop
  (``idle_done``, when IDLE has been sent and is not done) and feed the chunk; 2: finish
  a pending TLS handshake (``tls_established()``) if STARTTLS succeeded, else only write;
  3: the server closes the stream (``receive_data(b"")``) and the run ends; 4: withdraw
  one of the queued commands (a choice) with ``Session.cancel``; 5: the front end gives
  up on the connection (``Session.abort``).

Checks:

1. only :class:`IMAPClientAbortError` subclasses escape ``receive_data`` and
   ``data_to_send`` (never a parser or state-machine defect such as ``KeyError``);
2. once the session has an error (raised, after an untagged BYE, or after ``abort``),
   every command ever
   queued is done, each one without a tagged result has that error, nothing is pending,
   ``send`` raises, and no part of a queued command is written any more;
3. a command's bytes go out in order, and every part after the first (the data of a
   synchronising literal) goes out only after a continuation request ``+`` arrived since
   the part before it was written. The ``+`` are counted by an independent Framer and
   Parser fed the same bytes;
4. the AUTHENTICATE answers that are not one line of printable ASCII are never written
   (``*`` cancels instead);
5. nothing is written between the STARTTLS OK and ``tls_established()``;
6. ``cancel`` withdraws a command exactly when none of it was written and it is not done,
   and a withdrawn command has an error and is never written;
7. a command with a route predicate receives only responses its predicate accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import _common

with _common.instrumented():
    from imapclient.exceptions import ConnectionClosedError, IMAPClientAbortError, ProtocolError
    from imapclient.protocol.encoder import ArgList, Atom, Command, Literal
    from imapclient.protocol.framing import Framer
    from imapclient.protocol.limits import Limits
    from imapclient.protocol.parser import Parser
    from imapclient.protocol.responses import ContinuationRequest
    from imapclient.protocol.session import ConnectionState, MessageRange, Session

GREETINGS = (
    b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN IDLE] ready\r\n",
    b"* OK ready\r\n",
    b"* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE] ready\r\n",
    b"* PREAUTH [CAPABILITY IMAP4rev2] logged in\r\n",
)


def _uid_route(lo: int, hi: int) -> Callable[[Any], bool]:
    """A route predicate: FETCH responses whose UID is in lo..hi."""

    def route(response: Any) -> bool:
        data = getattr(response, "data", None)
        uid = data.get(b"UID") if isinstance(data, dict) else None
        return type(uid) is int and lo <= uid <= hi

    return route


#: Queued in this order when their bit of the mask is set, with their routes. Literal
#: data is unique (``<lit-N>``) so the check can find where it was written.
COMMANDS: tuple[tuple[Command, Callable[[Any], bool] | None], ...] = (
    (Command(b"LOGIN", (b"user", b"pa\r\nss<lit-0>"), sensitive=True), None),
    (Command(b"SELECT", (b"INBOX",)), None),
    (Command(b"APPEND", (b"INBOX", Literal(b"Subject: hi\r\n\r\nbody<lit-2>\r\n"))), None),
    (Command(b"AUTHENTICATE", (b"PLAIN",)), None),
    (Command(b"IDLE"), None),
    (Command(b"NOOP"), None),
    (Command(b"UID FETCH", (Atom(b"1:10"), Atom(b"FLAGS"))), _uid_route(1, 10)),
    # The command layer's own route for one range, which the session applies inline.
    (Command(b"UID FETCH", (Atom(b"20:30"), Atom(b"UID"))), MessageRange(True, 20, 30)),
    (Command(b"STARTTLS"), None),
    (Command(b"FETCH", (Atom(b"1:3"), ArgList((Atom(b"FLAGS"), Atom(b"UID"))))), None),
    (Command(b"CLOSE"), None),
    (Command(b"LOGOUT"), None),
)
ALL_COMMANDS = 2 ** len(COMMANDS) - 1
SASL_ANSWERS = (b"AGZvbwBiYXI=", b"bad\r\nA9 LOGOUT", b"", b"x\ny-injected", b"\xff\x00")

_PRINTABLE_LINE = re.compile(rb"[\x20-\x7e]*\Z")

LIMITS = Limits(
    max_line_length=256,
    max_literal_size=256,
    max_response_size=1024,
    max_depth=20,
    max_unsolicited=8,
)


class Tracked:
    """One queued command and where each of its parts appeared in the output."""

    def __init__(self, pending: Any) -> None:
        self.pending = pending
        self.parts: list[bytes] = list(pending.segments)
        self.written_at: list[int] = []  # output offset where each written part starts
        self.plus_when_written: list[int] = []
        self.cancelled = False


class Run:
    def __init__(self, fdp: Any) -> None:
        self.fdp = fdp
        self.session = Session(limits=LIMITS)
        self.oracle_framer = Framer(LIMITS)
        self.oracle_parser = Parser(LIMITS)
        self.oracle_ok = True
        self.plus_count = 0
        self.out = bytearray()
        self.tracked: list[Tracked] = []
        self.sasl_calls = 0
        self.idle: Any = None
        self.tls_ok_seen = False

    # -- the oracle: count continuation requests in what the server sent ------------

    def oracle_feed(self, data: bytes) -> None:
        if not self.oracle_ok:
            return
        try:
            self.oracle_framer.feed(data)
            while (raw := self.oracle_framer.next_response()) is not None:
                if isinstance(self.oracle_parser.parse(raw), ContinuationRequest):
                    self.plus_count += 1
        except ProtocolError:
            self.oracle_ok = False

    # -- driving the session --------------------------------------------------------

    def sasl(self, challenge: bytes) -> bytes | None:
        answer = SASL_ANSWERS[self.sasl_calls % len(SASL_ANSWERS)]
        self.sasl_calls += 1
        return answer

    def write(self) -> None:
        session = self.session
        before_tls = session.tls_pending
        try:
            data = session.data_to_send()
        except IMAPClientAbortError:
            return
        if before_tls:
            assert data == b"", ("written while STARTTLS awaits the handshake", data)
        if session.error is not None:
            for t in self.tracked:
                if t.pending.result is None:
                    for part in t.parts:
                        assert part not in data, ("a failed command was written", part)
        self.out += data
        self.note_parts()

    def note_parts(self) -> None:
        for t in self.tracked:
            k = len(t.written_at)
            if k == len(t.parts):
                continue
            part = t.parts[k]
            start = 0 if k == 0 else t.written_at[k - 1] + len(t.parts[k - 1])
            at = self.out.find(part, start)
            if at < 0:
                continue
            if k:
                assert at == start, ("bytes between a literal announcement and its data", t)
                assert self.plus_count > t.plus_when_written[k - 1], (
                    "literal data written before the server's continuation request",
                    t.pending.command.name,
                    bytes(self.out),
                )
            t.written_at.append(at)
            t.plus_when_written.append(self.plus_count)

    def receive(self, data: bytes) -> bool:
        """Feed ``data``; return False once the session has failed."""
        self.oracle_feed(data)
        try:
            self.session.receive_data(data)
        except IMAPClientAbortError:
            assert self.session.error is not None, "raised but the session has no error"
        self.check_failure()
        return self.session.error is None

    def check_failure(self) -> None:
        session = self.session
        if session.error is None:
            return
        assert not session.pending, session.pending
        for t in self.tracked:
            p = t.pending
            assert p.done, p
            if p.result is None:
                assert p.error is not None, p
        try:
            session.send(Command(b"NOOP"))
        except IMAPClientAbortError:
            pass
        else:
            raise AssertionError("send() accepted a command after the session failed")

    def queue(self, mask: int) -> None:
        for bit, (command, route) in enumerate(COMMANDS):
            if not mask & (1 << bit):
                continue
            if self.session.closed:
                return
            handler = self.sasl if command.name == b"AUTHENTICATE" else None
            pending = self.session.send(command, on_continuation=handler, route=route)
            self.tracked.append(Tracked(pending))
            if command.name == b"IDLE":
                self.idle = pending

    def cancel(self, which: int) -> None:
        if not self.tracked:
            return
        t = self.tracked[which % len(self.tracked)]
        p = t.pending
        unsent = not t.written_at and not p.done
        withdrawn = self.session.cancel(p)
        if self.session.error is None:
            assert withdrawn == unsent, (withdrawn, unsent, p)
        if withdrawn:
            assert p.done and p.error is not None, p
            t.cancelled = True

    def idle_done(self) -> None:
        idle = self.idle
        if idle is None or idle.done or not self.tracked:
            return
        t = next(t for t in self.tracked if t.pending is idle)
        if not t.written_at:
            return  # not sent yet: idle_done() would be a usage error
        self.session.idle_done(idle)


def test_one_input(data: bytes) -> None:
    fdp = _common.provider(data)
    run = Run(fdp)
    which = fdp.ConsumeIntInRange(0, len(GREETINGS))
    if which < len(GREETINGS):
        if not run.receive(GREETINGS[which]):
            return
        assert run.session.state in (
            ConnectionState.NOT_AUTHENTICATED,
            ConnectionState.AUTHENTICATED,
        )
    run.queue(fdp.ConsumeIntInRange(0, ALL_COMMANDS))
    for _ in range(64):
        if not fdp.remaining_bytes():
            break
        run.write()
        action = fdp.ConsumeIntInRange(0, 5)
        if action == 5:
            run.session.abort(ConnectionClosedError("read timeout"))
            run.check_failure()
            continue
        if action == 4:
            run.cancel(fdp.ConsumeIntInRange(0, len(COMMANDS) - 1))
            continue
        if action == 3:
            run.receive(b"")
            break
        if action == 2:
            if run.session.tls_pending:
                run.session.tls_established()
            continue
        chunk = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 48))
        if action == 1:
            run.idle_done()
        if not chunk:
            continue  # b"" would mean EOF
        if not run.receive(chunk):
            break
    run.write()
    for t in run.tracked:
        if t.cancelled:
            assert not t.written_at, ("a cancelled command was written", t.pending)
        route = t.pending.route
        if route is not None:
            assert all(route(r) for r in t.pending.untagged), ("misrouted", t.pending)
    sent = bytes(run.out)
    for i, answer in enumerate(SASL_ANSWERS):
        if i < run.sasl_calls and not _PRINTABLE_LINE.match(answer):
            assert answer not in sent, ("an unsafe SASL answer was written", answer, sent)


if __name__ == "__main__":
    _common.main("session", test_one_input)
