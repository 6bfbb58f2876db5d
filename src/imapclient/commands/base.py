"""The contract between the command layer and the front ends.

Every operation of the API is written once, as a generator: it yields a
:class:`Request` (or a list of them, to have several in flight at once), receives the
completed :class:`~imapclient.protocol.session.PendingCommand` (or list) back, and finally
returns the documented value. The blocking and asyncio clients only drive these
generators; neither builds a command or shapes a result itself.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from .. import imap_utf7
from ..exceptions import (
    CapabilityError,
    CommandError,
    IllegalStateError,
    IMAPClientReadOnlyError,
)
from ..protocol.encoder import Atom, Command
from ..protocol.framing import LiteralRouter
from ..protocol.responses import Response, ResponseCode, StatusResponse, UntaggedResponse
from ..protocol.session import (
    ConnectionState,
    ContinuationHandler,
    MessageRange,
    PendingCommand,
    RoutePredicate,
    Session,
)

__all__ = [
    "Context",
    "Op",
    "Request",
    "StatusText",
    "check",
    "decode_folder",
    "drain_unsolicited",
    "encode_folder",
    "join_message_ids",
    "keep_unsolicited",
    "message_route",
    "require_capability",
    "require_selected",
    "require_writable",
    "status_text",
    "untagged_as_tuple",
]

T = TypeVar("T")


@dataclass(slots=True)
class Request:
    """One command for the front end to send and wait for."""

    command: Command
    claims: Iterable[bytes] | None = None
    on_continuation: ContinuationHandler | None = None
    route: RoutePredicate | None = None
    literal_sink: LiteralRouter | None = None
    #: FETCH: INTERNALDATE may come already as naive local time (``normalise_times``).
    local_times: bool = False


#: An operation: yields requests, receives their completed commands, returns a value.
Op = Generator["Request | list[Request]", Any, T]


class Context(Protocol):
    """What operations need to know about the client that runs them."""

    use_uid: bool
    folder_encode: bool
    normalise_times: bool

    @property
    def _session(self) -> Session: ...


def check(pending: PendingCommand, error: type[CommandError] = CommandError) -> StatusResponse:
    """Return the tagged response if it is OK; raise ``error`` for NO or BAD."""
    result = pending.outcome()
    if result.status == b"OK":
        return result
    name = pending.name.decode("ascii", "replace")
    code = result.code.name if result.code else None
    text = result.text.decode("utf-8", "replace")
    detail = f" [{code.decode('ascii', 'replace')}]" if code else ""
    raise error(
        f"{name} failed: {result.status.decode()}{detail} {text}".rstrip(),
        status=result.status,
        text=result.text,
        code=code,
        command=pending.name,
    )


class StatusText(bytes):
    """The text of a server's tagged OK, as bytes, with its response code (as the server
    wrote it) in front: ``b'[APPENDUID 1339 13] Append completed.'``.

    ``code`` holds the parsed :class:`~imapclient.protocol.responses.ResponseCode` (or
    None), so results such as APPENDUID and COPYUID are available without parsing text:
    ``client.append(...).code.value.uids``.
    """

    code: ResponseCode | None

    def __new__(cls, text: bytes, code: ResponseCode | None = None) -> StatusText:
        self = super().__new__(cls, text)
        self.code = code
        return self


def status_text(response: StatusResponse) -> StatusText:
    """The full text of a status response, response code included."""
    code = response.code
    if code is None:
        return StatusText(response.text)
    bracket = b"[" + code.name + (b" " + code.raw if code.raw else b"") + b"]"
    return StatusText(bracket + (b" " + response.text if response.text else b""), code)


def require_capability(ctx: Context, *names: bytes) -> Op[None]:
    """Raise CapabilityError unless the server announces one of ``names``."""
    caps = yield from capabilities(ctx)
    if not any(n in caps for n in names):
        wanted = " or ".join(n.decode() for n in names)
        raise CapabilityError(f"server does not support {wanted}")


def capabilities(ctx: Context) -> Op[tuple[bytes, ...]]:
    """The server's capabilities: cached, asked for when unknown or stale."""
    session = ctx._session
    if session.capabilities is None:
        pending = yield Request(Command(b"CAPABILITY"))
        check(pending)
        if session.capabilities is None:
            session.capabilities = ()
    return session.capabilities


def encode_folder(ctx: Context, folder: str | bytes) -> bytes:
    """A folder name as sent: modified UTF-7 for str when folder_encode is on."""
    if isinstance(folder, bytes):
        return folder
    if not isinstance(folder, str):
        raise TypeError(f"folder name must be str or bytes, not {type(folder).__name__}")
    if ctx.folder_encode:
        return imap_utf7.encode(folder)
    return folder.encode("utf-8")


def decode_folder(ctx: Context, name: bytes) -> str | bytes:
    """A folder name as returned: str (modified UTF-7 decoded) when folder_encode is on."""
    if ctx.folder_encode:
        return imap_utf7.decode(name)
    return name


_MESSAGE_SET = re.compile(rb"(?:\d+|\*)(?:[:-](?:\d+|\*))?(?:,(?:\d+|\*)(?:[:-](?:\d+|\*))?)*\Z")


def join_message_ids(messages: Any) -> Atom | None:
    """Message ids as an IMAP sequence set: an int, a sequence of ints, or a string such
    as ``'2:*'`` or ``'2,4:7,9'``. Returns None for an empty sequence.

    Raises ValueError for anything that is not a valid message set.
    """
    if isinstance(messages, bool):
        raise ValueError(f"invalid message id {messages!r}")
    if isinstance(messages, int):
        if messages < 0:
            raise ValueError(f"invalid message id {messages}")
        return Atom(str(messages).encode("ascii"))
    if isinstance(messages, (str, bytes)):
        raw = messages.encode("ascii", "replace") if isinstance(messages, str) else messages
        raw = raw.replace(b" ", b"")
        if not _MESSAGE_SET.match(raw):
            raise ValueError(f"invalid message set {messages!r}")
        return Atom(raw.replace(b"-", b":"))
    numbers: list[int] = []
    parts: list[bytes] = []
    for m in messages:
        if isinstance(m, bool) or not isinstance(m, (int, str, bytes)):
            raise ValueError(f"invalid message id {m!r}")
        if isinstance(m, int):
            if m < 0:
                raise ValueError(f"invalid message id {m}")
            numbers.append(m)
        else:
            atom = join_message_ids(m)
            assert atom is not None
            parts.append(atom.value)
    # A message set is a set: runs of consecutive ids travel as ranges ("1:1000").
    parts[:0] = [
        str(a).encode() if a == b else b"%d:%d" % (a, b) for a, b in _runs(sorted(set(numbers)))
    ]
    if not parts:
        return None
    return Atom(b",".join(parts))


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Sorted numbers as (first, last) runs of consecutive values."""
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and runs[-1][1] + 1 == n:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def message_route(ctx: Context, message_set: Atom) -> RoutePredicate:
    """A route for FETCH responses to a command on ``message_set``: only those about its
    messages (by UID with ``use_uid``, else by sequence number) belong to it, so several
    such commands can be in flight at once."""
    ranges = []
    for part in message_set.value.split(b","):
        low, _, high = part.partition(b":")
        a = _MAX_ID if low == b"*" else int(low)
        b = a if not high else (_MAX_ID if high == b"*" else int(high))
        ranges.append((min(a, b), max(a, b)))
    # Merged and sorted, so membership is a binary search (responses come by the 100,000).
    starts: list[int] = []
    ends: list[int] = []
    for a, b in sorted(ranges):
        if ends and a <= ends[-1] + 1:
            ends[-1] = max(ends[-1], b)
        else:
            starts.append(a)
            ends.append(b)
    by_uid = ctx.use_uid
    if len(starts) == 1:  # one range (``1:*``, a chunk): the session tests it inline
        return MessageRange(by_uid, starts[0], ends[0])

    def route(response: Response) -> bool:
        if not isinstance(response, UntaggedResponse) or response.name != b"FETCH":
            return True
        msgid = dict.get(response.data, b"UID") if by_uid else response.number
        if not isinstance(msgid, int):
            return False
        i = bisect.bisect_right(starts, msgid) - 1
        return i >= 0 and msgid <= ends[i]

    return route


_MAX_ID = 2**63 - 1  # "*": up to the largest message


def untagged_as_tuple(response: Response) -> tuple[Any, ...]:
    """The documented shape of an unsolicited response, as returned by ``noop()`` and
    ``idle_check()``: ``(1, b'EXISTS')``, ``(b'OK', b'Still here')``,
    ``(3, b'FETCH', (b'FLAGS', (b'\\\\Seen',)))``."""
    if isinstance(response, StatusResponse):
        return (response.status, response.text)
    if isinstance(response, UntaggedResponse):
        if response.number is not None:
            if response.name == b"FETCH":
                flat: list[Any] = []
                for key, value in response.data.items():
                    flat += (key, value)
                return (response.number, response.name, tuple(flat))
            if response.data is None:
                return (response.number, response.name)
            return (response.number, response.name, response.data)
        return (response.name, response.data)
    return (b"+", response.text)


def require_writable(ctx: Context) -> None:
    """Raise IMAPClientReadOnlyError if the selected folder is read-only (and
    IllegalStateError if none is selected)."""
    require_selected(ctx)
    if ctx._session.readonly:
        raise IMAPClientReadOnlyError("the selected folder is read-only (selected with EXAMINE)")


def keep_unsolicited(ctx: Context, responses: Iterable[Response]) -> None:
    """Keep responses a command collected but does not return, so the caller can still
    read them with ``drain_unsolicited()`` (e.g. the EXPUNGE notices of a MOVE)."""
    ctx._session.unsolicited.extend(responses)


def require_selected(ctx: Context) -> None:
    """Raise IllegalStateError unless a folder is selected."""
    if ctx._session.state is not ConnectionState.SELECTED:
        raise IllegalStateError("no folder is selected")


def drain_unsolicited(ctx: Context) -> list[tuple[Any, ...]]:
    """Responses the server sent that no command asked for (EXISTS, EXPUNGE, FETCH of
    other messages, ALERTs ...), oldest first, in the shape ``noop()`` returns; each is
    returned once."""
    session = ctx._session
    responses = [untagged_as_tuple(r) for r in session.unsolicited]
    session.unsolicited.clear()
    return responses
