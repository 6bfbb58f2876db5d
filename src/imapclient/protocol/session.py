"""The IMAP connection state machine, without I/O.

A front end feeds what it reads to :meth:`Session.receive_data` and writes whatever
:meth:`Session.data_to_send` returns. Commands are queued with :meth:`Session.send`, which
returns a :class:`PendingCommand` that completes when its tagged response arrives.

The session assigns tags, sends literals only after the server's ``+`` (unless the server
accepts non-synchronising literals), routes untagged data to the command in flight that
asked for it and everything else to :attr:`Session.unsolicited`, fails every pending
command on BYE, EOF or a protocol violation, and implements the STARTTLS rule: once the
server's OK to STARTTLS arrives, every byte it sent after that OK is discarded, never
parsed, and every capability or untagged datum learnt before TLS is forgotten.
"""

from __future__ import annotations

import enum
import gc
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..exceptions import (
    ConnectionClosedError,
    IllegalStateError,
    IMAPClientAbortError,
    IMAPClientError,
    LimitExceededError,
    ProtocolError,
)
from ..response_types import Envelope
from .encoder import Command, LiteralMode, LiteralSource, Segment, encode_command, redacted
from .framing import Framer, LiteralRouter, Writable
from .limits import DEFAULT_LIMITS, Limits
from .parser import Parser
from .responses import ContinuationRequest, Response, StatusResponse, UntaggedResponse
from .tolerances import DEFAULT_TOLERANCES, Tolerance

__all__ = ["ALL_UNTAGGED", "ConnectionState", "MessageRange", "PendingCommand", "Session"]

#: A claim that takes every untagged response while the command is in flight.
ALL_UNTAGGED = frozenset({b"*"})
_GC_PAUSE_SIZE = 32 * 1024

# Untagged data a server may send about the selected mailbox at any time.
_MAILBOX_UPDATES = frozenset(
    {b"EXISTS", b"RECENT", b"EXPUNGE", b"FETCH", b"FLAGS", b"VANISHED", b"OK", b"NO", b"BAD"}
)

# Which untagged responses belong to which command (RFC 9051 section 6 and extensions).
_DEFAULT_CLAIMS: dict[bytes, frozenset[bytes]] = {
    b"CAPABILITY": frozenset({b"CAPABILITY"}),
    b"LOGIN": frozenset({b"CAPABILITY"}),
    b"AUTHENTICATE": frozenset({b"CAPABILITY"}),
    b"STARTTLS": ALL_UNTAGGED,
    b"SELECT": _MAILBOX_UPDATES,
    b"EXAMINE": _MAILBOX_UPDATES,
    b"NOOP": _MAILBOX_UPDATES,
    b"CHECK": _MAILBOX_UPDATES,
    b"IDLE": _MAILBOX_UPDATES,
    b"LIST": frozenset({b"LIST", b"STATUS"}),
    b"LSUB": frozenset({b"LSUB"}),
    b"XLIST": frozenset({b"XLIST"}),
    b"STATUS": frozenset({b"STATUS"}),
    b"SEARCH": frozenset({b"SEARCH", b"ESEARCH"}),
    b"UID SEARCH": frozenset({b"SEARCH", b"ESEARCH"}),
    b"SORT": frozenset({b"SORT", b"ESEARCH"}),
    b"UID SORT": frozenset({b"SORT", b"ESEARCH"}),
    b"THREAD": frozenset({b"THREAD"}),
    b"UID THREAD": frozenset({b"THREAD"}),
    b"FETCH": frozenset({b"FETCH"}),
    b"UID FETCH": frozenset({b"FETCH", b"VANISHED"}),
    b"STORE": frozenset({b"FETCH"}),
    b"UID STORE": frozenset({b"FETCH"}),
    b"EXPUNGE": frozenset({b"EXPUNGE", b"VANISHED"}),
    b"UID EXPUNGE": frozenset({b"EXPUNGE", b"VANISHED"}),
    b"MOVE": frozenset({b"EXPUNGE", b"VANISHED", b"OK"}),
    b"UID MOVE": frozenset({b"EXPUNGE", b"VANISHED", b"OK"}),
    b"NAMESPACE": frozenset({b"NAMESPACE"}),
    b"GETACL": frozenset({b"ACL"}),
    b"LISTRIGHTS": frozenset({b"LISTRIGHTS"}),
    b"MYRIGHTS": frozenset({b"MYRIGHTS"}),
    b"GETQUOTA": frozenset({b"QUOTA"}),
    b"GETQUOTAROOT": frozenset({b"QUOTAROOT", b"QUOTA"}),
    b"SETQUOTA": frozenset({b"QUOTA"}),
    b"GETMETADATA": frozenset({b"METADATA"}),
    b"ENABLE": frozenset({b"ENABLED"}),
    b"ID": frozenset({b"ID"}),
    b"LOGOUT": frozenset({b"BYE"}),
}

# A segment ending like this announces a synchronising literal: wait for "+" after it.
_SYNC_ANNOUNCEMENT = re.compile(rb"\{\d+\}\r\n\Z")

# What an answer to a continuation request may hold: one line, printable ASCII (base64).
_CONTINUATION_ANSWER = re.compile(rb"[\x20-\x7e]*\Z")

# Pipelining (RFC 9051 section 5.5). Commands are sent in the order queued; one that may
# not go yet holds back everything after it.
#
# Barriers change the state other commands depend on (authentication, the selected
# mailbox, TLS, IDLE): sent only when nothing is in flight, and nothing is sent while one is.
_BARRIER = frozenset(
    {
        b"AUTHENTICATE",
        b"IDLE",
        b"STARTTLS",
        b"LOGOUT",
        b"LOGIN",
        b"SELECT",
        b"EXAMINE",
        b"CLOSE",
        b"UNSELECT",
        b"ENABLE",
        b"COMPRESS",
    }
)
# Commands that use message sequence numbers may only be sent while every command in
# flight is one during which the server may not send EXPUNGE (section 5.5).
_USES_SEQUENCE_NUMBERS = frozenset(
    {b"FETCH", b"STORE", b"SEARCH", b"COPY", b"MOVE", b"SORT", b"THREAD"}
)
_NO_EXPUNGE_DURING = frozenset(
    {b"FETCH", b"STORE", b"SEARCH", b"UID FETCH", b"UID STORE", b"UID SEARCH"}
)


class ConnectionState(enum.Enum):
    """RFC 9051 section 3 connection states (plus GREETING before the server spoke)."""

    GREETING = "greeting"
    NOT_AUTHENTICATED = "not authenticated"
    AUTHENTICATED = "authenticated"
    SELECTED = "selected"
    LOGOUT = "logout"


ContinuationHandler = Callable[[bytes], bytes | None]
#: Decides whether an untagged response claimed by name belongs to this command (e.g. a
#: FETCH response whose UID is in the command's UID set).
RoutePredicate = Callable[[Response], bool]


class MessageRange:
    """A route accepting the FETCH responses about messages ``first`` to ``last`` (by
    UID with ``by_uid``, else by sequence number) and every other response. The session
    applies it inline to a listing's responses, without a call per response."""

    __slots__ = ("by_uid", "first", "last")

    def __init__(self, by_uid: bool, first: int, last: int) -> None:
        self.by_uid = by_uid
        self.first = first
        self.last = last

    def __call__(self, response: Response) -> bool:
        if type(response) is not UntaggedResponse or response.name != b"FETCH":
            return True
        msgid = dict.get(response.data, b"UID") if self.by_uid else response.number
        return type(msgid) is int and self.first <= msgid <= self.last

    def __repr__(self) -> str:
        return f"MessageRange(by_uid={self.by_uid}, first={self.first}, last={self.last})"


@dataclass(eq=False)
class PendingCommand:
    """A command sent (or queued) and not yet answered.

    ``untagged`` collects the untagged responses routed to it; ``result`` is the tagged
    response once it arrives; ``error`` is set instead if the connection failed first.
    """

    tag: bytes
    command: Command
    claims: frozenset[bytes] = field(repr=False)
    # The encoded bytes still to send hold the arguments verbatim: keep them out of reprs.
    segments: deque[Segment] = field(repr=False)
    on_continuation: ContinuationHandler | None = field(default=None, repr=False)
    route: RoutePredicate | None = field(default=None, repr=False)
    literal_sink: LiteralRouter | None = field(default=None, repr=False)
    local_times: bool = field(default=False, repr=False)
    untagged: list[Response] = field(default_factory=list)
    result: StatusResponse | None = None
    error: IMAPClientError | None = None
    idling: bool = False
    done_requested: bool = False
    awaiting_continuation: bool = False

    @property
    def name(self) -> bytes:
        """The command's name, upper-cased (IMAP keywords are case-insensitive)."""
        return self.command.name.upper()

    @property
    def done(self) -> bool:
        return self.result is not None or self.error is not None

    def outcome(self) -> StatusResponse:
        """The tagged response; raises the connection error if the command failed."""
        if self.error is not None:
            raise self.error
        if self.result is None:
            raise IllegalStateError(f"{self.name.decode()} has not completed yet")
        return self.result

    def claims_response(self, name: bytes, response: Response) -> bool:
        if not (name in self.claims or self.claims is ALL_UNTAGGED):
            return False
        return self.route is None or self.route(response)


class Session:
    """The sans-IO IMAP client session. See the module docstring."""

    def __init__(
        self,
        *,
        limits: Limits = DEFAULT_LIMITS,
        tolerances: Tolerance = DEFAULT_TOLERANCES,
        tag_prefix: bytes = b"A",
    ) -> None:
        self.limits = limits
        self.tolerances = tolerances
        self._framer = Framer(limits, tolerances)
        self._framer.literal_router = self._route_literal
        self._parser = Parser(limits, tolerances)
        self._tag_prefix = tag_prefix
        self._tag_counter = 0
        self._outbox: deque[PendingCommand] = deque()  # not yet fully sent
        self._in_flight: dict[bytes, PendingCommand] = {}  # tag -> command, sent or partly
        self._raw_out = bytearray()  # continuation answers (SASL, DONE) to send next
        self._tls_pending = False

        self.state = ConnectionState.GREETING
        self.greeting: StatusResponse | None = None
        #: Capabilities as last announced by the server (upper-cased, in its order);
        #: None when unknown or stale.
        self.capabilities: tuple[bytes, ...] | None = None
        #: True while the selected mailbox is read-only (EXAMINE, or a READ-ONLY code).
        self.readonly = False
        #: Extensions enabled with ENABLE (RFC 5161).
        self.enabled: set[bytes] = set()
        #: Untagged responses no command claimed, oldest first.
        self.unsolicited: deque[Response] = deque()
        #: Redacted renderings of the commands sent, for the front end's log.
        self.sent_log: deque[bytes] = deque(maxlen=64)
        self.bye: StatusResponse | None = None
        self.error: IMAPClientAbortError | None = None

    # -- properties -------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the connection cannot carry more commands."""
        return self.error is not None or self.state is ConnectionState.LOGOUT

    @property
    def pending(self) -> list[PendingCommand]:
        """Commands sent or queued and not yet completed, oldest first."""
        queued = [c for c in self._outbox if c.tag not in self._in_flight]
        return [*self._in_flight.values(), *queued]

    @property
    def tls_pending(self) -> bool:
        """True between the STARTTLS OK and :meth:`tls_established`."""
        return self._tls_pending

    @property
    def literal_mode(self) -> LiteralMode:
        caps = self.capabilities or ()
        if b"LITERAL+" in caps:
            return LiteralMode.LITERAL_PLUS
        if b"LITERAL-" in caps or b"IMAP4REV2" in caps:
            return LiteralMode.LITERAL_MINUS
        return LiteralMode.SYNC

    # -- commands ---------------------------------------------------------------------

    def send(
        self,
        command: Command,
        *,
        claims: Iterable[bytes] | None = None,
        on_continuation: ContinuationHandler | None = None,
        route: RoutePredicate | None = None,
        literal_sink: LiteralRouter | None = None,
        local_times: bool = False,
    ) -> PendingCommand:
        """Queue ``command``; its bytes come out of :meth:`data_to_send`.

        ``claims`` names the untagged responses that belong to it (a default per command
        name applies); ``on_continuation`` answers the server's ``+`` challenges
        (AUTHENTICATE): it receives the challenge text and returns the response line
        (without CRLF), or None to cancel. ``route`` narrows the claim to the responses
        that belong to this command, which lets commands with the same kind of untagged
        answer (FETCHes of disjoint UID sets) be in flight together. ``literal_sink``
        may claim literals of this command's responses as they are announced, to stream
        them to a writable instead of buffering them. With ``local_times``, the FETCH
        responses of this command's listing may give INTERNALDATE already converted to
        naive local time, as :func:`.datetime_to_native` would (the command layer
        converts the others); without it, every INTERNALDATE is aware.
        """
        if self.error is not None:
            raise self.error
        if self.state is ConnectionState.LOGOUT:
            raise ConnectionClosedError("the connection is logged out")
        if self._tls_pending:
            raise IllegalStateError("no command may be sent until the TLS handshake is done")
        self._tag_counter += 1
        tag = self._tag_prefix + str(self._tag_counter).encode("ascii")
        segments = deque(encode_command(tag, command, self.literal_mode))
        if claims is None:
            claim_set = _DEFAULT_CLAIMS.get(command.name.upper(), frozenset())
        else:
            claim_set = claims if claims is ALL_UNTAGGED else frozenset(claims)
        pending = PendingCommand(
            tag, command, claim_set, segments, on_continuation, route, literal_sink, local_times
        )
        self._outbox.append(pending)
        return pending

    def cancel(self, pending: PendingCommand) -> bool:
        """Withdraw a command that has not been sent at all; True if it was withdrawn.

        A command already (partly) sent cannot be withdrawn: it completes normally and its
        responses are consumed, so the connection stays in step with the server."""
        if pending.tag in self._in_flight or pending.done or pending not in self._outbox:
            return False
        self._outbox.remove(pending)
        pending.error = IllegalStateError("the command was cancelled before it was sent")
        return True

    def idle_done(self, pending: PendingCommand) -> None:
        """End IDLE: queue ``DONE``. The IDLE command completes when its OK arrives."""
        if pending.name != b"IDLE" or pending.done:
            raise IllegalStateError("idle_done() needs an active IDLE command")
        if pending.tag not in self._in_flight:
            raise IllegalStateError("IDLE has not been sent yet")
        if pending.done_requested:
            return
        pending.done_requested = True
        if pending.idling:
            self._send_done()
        # Otherwise DONE waits for the server's "+" (RFC 2177: it answers that request);
        # if IDLE is refused instead, nothing is sent.

    def _send_done(self) -> None:
        self._raw_out += b"DONE\r\n"
        self.sent_log.append(b"DONE")

    def data_to_send(self) -> bytes:
        """Everything that may be written to the server now."""
        if self._tls_pending:
            return b""  # the next bytes on the wire must be the TLS handshake
        out = bytearray(self._raw_out)
        self._raw_out.clear()
        while self._outbox:
            cmd = self._outbox[0]
            if cmd.awaiting_continuation or cmd.done:
                if cmd.done:
                    self._outbox.popleft()
                    continue
                break
            if not self._may_send(cmd):
                break
            if cmd.tag not in self._in_flight:
                self._in_flight[cmd.tag] = cmd
                self.sent_log.append(redacted(cmd.tag, cmd.command))
            item = cmd.segments[0]
            if isinstance(item, LiteralSource):
                out += self._read_source(item)
                if not item.exhausted:
                    return bytes(out)  # the rest on the next calls: memory stays bounded
                cmd.segments.popleft()
            else:
                out += item
                cmd.segments.popleft()
                if cmd.segments and _SYNC_ANNOUNCEMENT.search(item):
                    cmd.awaiting_continuation = True  # the literal waits for "+"
                    break
            if not cmd.segments:
                self._outbox.popleft()
        return bytes(out)

    def _read_source(self, source: LiteralSource) -> bytes:
        try:
            return source.read_chunk()
        except ValueError as exc:
            # Part of the command is on the wire and cannot be taken back.
            error = IMAPClientAbortError(f"{exc}; the connection cannot go on")
            self._fail_all(error)
            raise error from exc

    def _may_send(self, cmd: PendingCommand) -> bool:
        """May ``cmd`` be sent while the commands now in flight are unanswered?"""
        if cmd.tag in self._in_flight:
            return True  # already started: the rest of it (after a "+")
        in_flight = self._in_flight.values()
        if not in_flight:
            return True
        if cmd.name in _BARRIER or any(c.name in _BARRIER for c in in_flight):
            return False
        if cmd.name in _USES_SEQUENCE_NUMBERS and any(
            c.name not in _NO_EXPUNGE_DURING for c in in_flight
        ):
            return False
        # Untagged answers of the same kind could not be told apart, unless both commands
        # can route each response to itself.
        for other in in_flight:
            shared = cmd.claims is ALL_UNTAGGED or other.claims is ALL_UNTAGGED
            if shared or cmd.claims & other.claims:
                if cmd.route is None or other.route is None:
                    return False
        return True

    # -- input ------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Process bytes from the server; ``b''`` means the server closed the connection.

        Raises :class:`ProtocolError` (after failing every pending command) when the
        server breaks the protocol, and :class:`ConnectionClosedError` when it closed the
        connection with commands pending or in the middle of a response.
        """
        if self.error is not None:
            raise self.error
        if self._tls_pending:
            return  # plaintext after the STARTTLS OK: never processed
        if not data:
            self._on_eof()
            return
        self._process(len(data), data)

    def receive_buffer(self, size: int) -> memoryview:
        """Where the front end may write up to ``size`` bytes read from the server (a
        socket's ``recv_into``), then say how many with :meth:`received`: the same as
        :meth:`receive_data` without its copy. The view must be released or dropped
        before the next call."""
        if self.error is not None:
            raise self.error
        return self._framer.receive_buffer(size)

    def received(self, n: int) -> None:
        """``n`` bytes were written into the last :meth:`receive_buffer`; 0 means the
        server closed the connection. Raises as :meth:`receive_data` does."""
        if self.error is not None:
            raise self.error
        if self._tls_pending:
            return  # plaintext after the STARTTLS OK: never processed
        if not n:
            self._on_eof()
            return
        self._process(n, None)

    def _process(self, size: int, data: bytes | None) -> None:
        # ``data`` to feed, or None: ``size`` bytes already written by receive_buffer().
        # Parsing a large read allocates many small objects that are never cyclic
        # garbage; pausing the cyclic collector for this call only (it runs at once if it
        # is due when re-enabled) spares repeated collections over the growing results.
        pause = size >= _GC_PAUSE_SIZE and gc.isenabled()
        if pause:
            gc.disable()
        try:
            framer, parser = self._framer, self._parser
            if data is None:
                framer.commit(size)
            else:
                framer.feed(data)
            lanes = self._fetch_lanes()
            while True:
                if lanes:
                    # A listing's one-line FETCH responses, read straight from the buffer.
                    local = all(cmd.local_times for cmd in lanes)
                    streams = any(cmd.literal_sink is not None for cmd in lanes)
                    lines = parser.take_fetch_lines(framer, local, not streams)
                    if lines:
                        self._lines_to_lanes(lanes, lines, local)
                frame = framer.next_frame()
                if frame is None:
                    break
                response = parser.parse(*frame)
                if lanes and type(response) is UntaggedResponse and response.name == b"FETCH":
                    self._to_lane(lanes, response)
                    continue
                self._handle(response)
                lanes = self._fetch_lanes()
                if self._tls_pending:
                    self._framer.discard()
                    return
                if self.error is not None:
                    return
        except IMAPClientAbortError as exc:
            self._fail_all(exc)
            raise
        except Exception as exc:  # a parser defect must still end the session cleanly
            error = ProtocolError(f"could not process the server's response: {exc!r}")
            self._fail_all(error)
            raise error from exc
        finally:
            if pause:
                gc.enable()

    def _fetch_lanes(self) -> tuple[PendingCommand, ...]:
        """While every command in flight claims FETCH responses (a listing, or several
        FETCHes pipelined), they go straight to it: a listing's thousands of responses
        skip the general dispatch. Empty otherwise."""
        if self.state is ConnectionState.GREETING:
            return ()
        lanes = tuple(self._in_flight.values())
        for cmd in lanes:
            if b"FETCH" not in cmd.claims or cmd.idling:
                return ()
        return lanes

    def _lines_to_lanes(
        self,
        lanes: tuple[PendingCommand, ...],
        lines: Sequence[tuple[int, dict[bytes, Any]]],
        local: bool,
    ) -> None:
        route = lanes[0].route
        if len(lanes) == 1 and type(route) is MessageRange:  # one listing: routed inline
            append = lanes[0].untagged.append
            first, last, get = route.first, route.last, dict.get
            for number, items in lines:
                response = UntaggedResponse(b"FETCH", number, items)
                msgid = get(items, b"UID") if route.by_uid else number
                if type(msgid) is int and first <= msgid <= last:
                    append(response)
                else:
                    self._unrouted(response, local)
            return
        for number, items in lines:
            response = UntaggedResponse(b"FETCH", number, items)
            for cmd in lanes:
                if cmd.route is None or cmd.route(response):
                    cmd.untagged.append(response)
                    break
            else:
                self._unrouted(response, local)

    def _unrouted(self, response: UntaggedResponse, local: bool) -> None:
        # Nobody's: kept for the caller as unsolicited, with the aware dates the protocol
        # layer gives everywhere else (the same instants, in the local zone).
        if local:
            items = response.data
            date = items.get(b"INTERNALDATE")
            if type(date) is datetime and date.tzinfo is None:
                items[b"INTERNALDATE"] = date.astimezone()
            envelope = items.get(b"ENVELOPE")
            if type(envelope) is Envelope and envelope.date and envelope.date.tzinfo is None:
                items[b"ENVELOPE"] = envelope._replace(date=envelope.date.astimezone())
        self._handle(response)

    def _to_lane(self, lanes: tuple[PendingCommand, ...], response: UntaggedResponse) -> None:
        # What _handle_untagged does for a FETCH when only FETCH commands are in flight.
        for cmd in lanes:
            if cmd.route is None or cmd.route(response):
                cmd.untagged.append(response)
                return
        self._handle(response)  # nobody's: kept for the caller as unsolicited

    def abort(self, error: IMAPClientAbortError) -> None:
        """The front end lost the connection (transport error, read timeout): fail every
        pending command with ``error`` and refuse further use."""
        if self.error is None:
            self._fail_all(error)

    def tls_established(self) -> None:
        """The front end finished the TLS handshake after STARTTLS."""
        if not self._tls_pending:
            raise IllegalStateError("no STARTTLS is in progress")
        self._tls_pending = False
        self._framer = Framer(self.limits, self._framer.tolerances)
        self._framer.literal_router = self._route_literal

    def _route_literal(self, prefix: bytes, size: int) -> Writable | None:
        # A literal is streamed only if a command in flight asks for it.
        for cmd in self._in_flight.values():
            if cmd.literal_sink is not None:
                sink = cmd.literal_sink(prefix, size)
                if sink is not None:
                    return sink
        return None

    def _on_eof(self) -> None:
        try:
            self._framer.eof()
        except ConnectionClosedError as exc:
            self._fail_all(exc)
            raise
        if self.state is ConnectionState.LOGOUT and not self.pending:
            return
        reason = "the server closed the connection"
        if self.bye is not None:
            reason += f" (BYE {self.bye.text.decode('utf-8', 'replace')})"
        closed = ConnectionClosedError(reason)
        had_pending = bool(self.pending)
        self._fail_all(closed)
        if had_pending:
            raise closed

    def _fail_all(self, exc: IMAPClientAbortError) -> None:
        self.error = exc
        for cmd in self.pending:
            if not cmd.done:
                cmd.error = exc
        self._outbox.clear()
        self._in_flight.clear()

    # -- response handling ------------------------------------------------------------

    def _handle(self, response: Response) -> None:
        if self.state is ConnectionState.GREETING:
            self._handle_greeting(response)
        elif isinstance(response, StatusResponse) and response.tag is not None:
            self._handle_tagged(response)
        elif isinstance(response, ContinuationRequest):
            self._handle_continuation(response)
        else:
            self._handle_untagged(response)

    def _handle_greeting(self, response: Response) -> None:
        if not isinstance(response, StatusResponse) or response.tag is not None:
            raise ProtocolError(f"expected a greeting, got {response!r}")
        self.greeting = response
        self._note_code(response)
        if response.status == b"OK":
            self.state = ConnectionState.NOT_AUTHENTICATED
        elif response.status == b"PREAUTH":
            self.state = ConnectionState.AUTHENTICATED
        elif response.status == b"BYE":
            self.bye = response
            text = response.text.decode("utf-8", "replace")
            refused = ConnectionClosedError(f"server refused the connection: BYE {text}")
            for cmd in self._outbox:  # queued before the greeting: none will be answered
                cmd.error = refused
            self._outbox.clear()
            self.state = ConnectionState.LOGOUT
        else:
            raise ProtocolError(f"invalid greeting status {response.status!r}")

    def _handle_tagged(self, response: StatusResponse) -> None:
        assert response.tag is not None
        cmd = self._in_flight.pop(response.tag, None)
        if cmd is None:
            raise ProtocolError(f"tagged response for a tag that was never sent: {response.tag!r}")
        if cmd.segments:  # rejected before its literal was sent: drop the rest
            cmd.segments.clear()
            cmd.awaiting_continuation = False
        cmd.result = response
        ok = response.status == b"OK"
        name = cmd.name.upper()
        if name in (b"LOGIN", b"AUTHENTICATE") and ok:
            self.state = ConnectionState.AUTHENTICATED
            # Capabilities change on authentication; keep only what came with the OK.
            fresh = [r for r in cmd.untagged if isinstance(r, UntaggedResponse)]
            self.capabilities = fresh[-1].data if fresh else None
        elif name in (b"SELECT", b"EXAMINE"):
            if ok:
                self.state = ConnectionState.SELECTED
                code = response.code.name if response.code is not None else None
                self.readonly = name == b"EXAMINE" or code == b"READ-ONLY"
            elif self.state is ConnectionState.SELECTED:
                self.state = ConnectionState.AUTHENTICATED
        elif name in (b"CLOSE", b"UNSELECT") and ok:
            self.state = ConnectionState.AUTHENTICATED
        elif name == b"LOGOUT":
            self.state = ConnectionState.LOGOUT
        self._note_code(response)
        if name == b"STARTTLS" and ok:
            # RFC 9051 6.2.1: forget everything learnt in plaintext and process nothing
            # more until the TLS handshake is done.
            self._tls_pending = True
            self.capabilities = None
            self.unsolicited.clear()
            cmd.untagged.clear()

    def _handle_continuation(self, response: ContinuationRequest) -> None:
        head = self._outbox[0] if self._outbox else None
        if head is not None and head.awaiting_continuation:
            head.awaiting_continuation = False
            return
        for cmd in self._in_flight.values():
            if cmd.name == b"IDLE" and not cmd.idling:
                cmd.idling = True
                if cmd.done_requested:
                    self._send_done()
                return
            if cmd.on_continuation is not None:
                answer = cmd.on_continuation(response.text)
                if answer is not None and not _CONTINUATION_ANSWER.match(answer):
                    answer = None  # a line break would start a new command: cancel instead
                self._raw_out += b"*\r\n" if answer is None else answer + b"\r\n"
                self.sent_log.append(b"*" if answer is None else b"**REDACTED**")
                return
        raise ProtocolError(f"unexpected continuation request: {response.text!r}")

    def _handle_untagged(self, response: StatusResponse | UntaggedResponse) -> None:
        if isinstance(response, StatusResponse):
            name = response.status
            if name == b"BYE":
                self._handle_bye(response)
                return
            if name == b"PREAUTH":
                raise ProtocolError("PREAUTH is only valid as a greeting")
            self._note_code(response)
        else:
            name = response.name
            if name == b"CAPABILITY":
                self.capabilities = response.data
            elif name == b"ENABLED":
                self.enabled.update(response.data)
        for cmd in self._in_flight.values():
            if cmd.claims_response(name, response):
                if cmd.idling:
                    self._check_backlog(len(cmd.untagged))
                cmd.untagged.append(response)
                return
        self._check_backlog(len(self.unsolicited))
        self.unsolicited.append(response)

    def _check_backlog(self, size: int) -> None:
        limit = self.limits.max_unsolicited
        if size >= limit:
            raise LimitExceededError(
                f"more than {limit} unread untagged responses: read them with noop(), "
                "idle_check() or drain_unsolicited(), or raise Limits.max_unsolicited",
                limit="max_unsolicited",
                value=size + 1,
            )

    def _handle_bye(self, response: StatusResponse) -> None:
        self.bye = response
        logout = next((c for c in self._in_flight.values() if c.name == b"LOGOUT"), None)
        if logout is not None:
            logout.untagged.append(response)
            return
        text = response.text.decode("utf-8", "replace")
        self._fail_all(ConnectionClosedError(f"server closed the connection: BYE {text}"))
        self.state = ConnectionState.LOGOUT

    def _note_code(self, response: StatusResponse) -> None:
        if response.code is not None and response.code.name == b"CAPABILITY":
            if isinstance(response.code.value, tuple):
                self.capabilities = response.code.value
