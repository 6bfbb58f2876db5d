"""Splitting the server's byte stream into complete responses.

A response is one line, or a line ending in a literal announcement (``{n}`` or ``~{n}``)
followed by ``n`` bytes of literal data and then the rest of the response, and so on. The
framer only finds where responses end; the parser interprets them.

Scanning is linear in the data fed, however it is chunked: the framer remembers where it
stopped looking for a line end and where a pending literal ends, so no byte is examined
twice (feeding a 50 MB literal one byte at a time costs 50 million cheap appends, not a
quadratic rescan). Limits are checked as data arrives, so a hostile announcement such as
``{9999999999}`` fails immediately and nothing is allocated for it.

:meth:`Framer.next_frame` keeps large literals out of line: each is copied once, from the
receive buffer into the ``bytes`` object the caller gets, instead of once into the
response and again out of it (full-body fetches move every byte of the mailbox).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from ..exceptions import ConnectionClosedError, LimitExceededError, ProtocolError
from .limits import DEFAULT_LIMITS, Limits
from .tolerances import DEFAULT_TOLERANCES, Tolerance

__all__ = ["Framer", "LiteralRouter", "Literals", "Writable"]

#: Out-of-line literal data of one response: offset in the response text -> the data.
#: The text keeps each literal's ``{n}`` announcement and line end; its data belongs at
#: that offset.
Literals = dict[int, bytes]

# Literals at least this large are kept out of line by next_frame().
_OUT_OF_LINE = 1024
# The receive buffer: it starts small, grows to _CAPACITY as reads fill it, and is
# compacted rather than grown beyond that unless one response needs more (beyond
# _SHRINK_ABOVE it shrinks back once that response is framed). A read is not offered
# less than _MIN_READ. The capacity is one read's worth: a buffer reused in place stays
# in the CPU's cache (on the ENVELOPE listing a 1 MiB ring measured 10% slower).
_INITIAL_CAPACITY = 64 * 1024
_CAPACITY = 256 * 1024
_MIN_READ = 64 * 1024
_SHRINK_ABOVE = 4 * 1024 * 1024  # kept up to this after a large response (no churn)
_ZEROS = memoryview(bytes(256 * 1024))  # what the buffer grows by
_NO_LITERALS: Literals = {}  # returned for every response without any; never mutated


class Writable(Protocol):
    """Where a streamed literal goes: anything with ``write(bytes)`` (a file, a socket
    file, a hash object wrapper)."""

    def write(self, data: bytes, /) -> object: ...


#: Given the response so far (ending in the literal's announcement) and the literal's
#: size, returns where to stream it, or None to buffer it as usual.
LiteralRouter = Callable[[bytes, int], Writable | None]

# A literal announcement at the very end of a line (the line end itself already removed).
_LITERAL_TAIL = re.compile(rb"~?\{(\d+)\}\Z")


class Framer:
    """Feed bytes with :meth:`feed`; take complete responses from :meth:`next_response`.

    Each response is returned as one ``bytes`` object holding its lines and literals,
    exactly as received except that the final line end is removed. Literal data is kept
    verbatim, CR and LF included; the parser locates it again from the ``{n}`` markers.
    """

    __slots__ = (
        "_base",
        "_buf",
        "_closed",
        "_end",
        "_head",
        "_line_start",
        "_literal_bytes",
        "_literal_end",
        "_literal_start",
        "_literals",
        "_moved",
        "_scan",
        "_sink",
        "_sink_left",
        "_sink_size",
        "limits",
        "literal_router",
        "tolerances",
    )

    def __init__(
        self, limits: Limits = DEFAULT_LIMITS, tolerances: Tolerance = DEFAULT_TOLERANCES
    ) -> None:
        self.limits = limits
        self.tolerances = tolerances
        # The received bytes are _buf[_base:_end]: _base is the start of the current
        # response, what lies past _end is room for the next read (receive_buffer()).
        # Every other offset below is an index into _buf.
        self._buf = bytearray(_INITIAL_CAPACITY)
        self._base = self._end = 0
        self._line_start = 0  # start of the line being scanned
        self._scan = 0  # where the search for the line's LF resumes
        self._literal_start = 0
        self._literal_end = -1  # end of a pending literal, or -1 when reading a line
        self._closed = False
        #: Decides which literals are streamed to a sink instead of being buffered.
        self.literal_router: LiteralRouter | None = None
        self._sink: Writable | None = None  # the sink of the literal being streamed
        self._sink_left = 0
        self._sink_size = 0
        # The current response's text before its out-of-line literals, those literals,
        # how many of its bytes have left _buf (for the size limit), and how many of
        # them are literal data.
        self._head: list[bytes] = []
        self._literals: Literals = {}
        self._moved = self._literal_bytes = 0

    # -- input ----------------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Add bytes received from the server."""
        if self._closed:
            raise ProtocolError("data fed to a framer after end of stream")
        n = len(data)
        if len(self._buf) - self._end < n:
            self._make_room(n)
        end = self._end
        self._buf[end : end + n] = data
        self._end = end + n

    def receive_buffer(self, size: int) -> memoryview:
        """A writable view of up to ``size`` bytes at the end of the buffer, for a socket's
        ``recv_into`` to fill; then :meth:`commit` the number of bytes written. This saves
        :meth:`feed`'s copy of every byte received.

        The view must be released (or dropped) before the next :meth:`feed` or
        :meth:`receive_buffer`; nothing else resizes the buffer.
        """
        if self._closed:
            raise ProtocolError("data fed to a framer after end of stream")
        free = len(self._buf) - self._end
        # Room for a whole read when the data to move is small (fewer, larger reads);
        # otherwise only when what is left is too little.
        if free < size and (free < _MIN_READ or self._end - self._base <= size // 4):
            self._make_room(size)
            free = len(self._buf) - self._end
        with memoryview(self._buf) as view:
            return view[self._end : self._end + min(free, size)]

    def commit(self, n: int) -> None:
        """``n`` bytes were written into the view :meth:`receive_buffer` gave."""
        if not 0 <= n <= len(self._buf) - self._end:
            raise ValueError(f"cannot commit {n} bytes")
        self._end += n

    def _make_room(self, n: int) -> None:
        """At least ``n`` free bytes after _end: move the current response to the front
        of the buffer, and grow the buffer if that is not enough."""
        buf, base, end = self._buf, self._base, self._end
        live = end - base
        if self._literal_end >= 0:  # a pending literal: room for all of it at once
            n = max(n, self._literal_end - end)
        if base:
            with memoryview(buf) as view:
                view[:live] = view[base:end]  # overlapping: copied as by memmove
            self._rebase()
        want = max(live + n, _CAPACITY)
        if len(buf) < want:
            try:
                # In place (realloc, no second buffer: a long line or a big literal
                # must not need twice its size), a block of zeros at a time.
                while len(buf) < want:
                    buf += _ZEROS[: want - len(buf)]
            except BufferError:  # a view handed out earlier still exists: a new buffer
                bigger = bytearray(want)
                with memoryview(buf) as view:
                    bigger[:live] = view[:live]
                self._buf = bigger

    def _rebase(self) -> None:
        # The current response now starts at offset 0.
        base = self._base
        if base:
            self._base = 0
            self._end -= base
            self._line_start -= base
            self._scan -= base
            self._literal_start -= base
            if self._literal_end >= 0:
                self._literal_end -= base

    def _consumed(self, to: int) -> None:
        """Everything before ``to`` has left the buffer (framed, moved or streamed)."""
        self._base = self._line_start = self._scan = to
        if to == self._end:  # empty: start again at the front, and shrink after a giant
            self._rebase()
            if len(self._buf) > _SHRINK_ABOVE:
                try:
                    del self._buf[_CAPACITY:]
                except BufferError:
                    self._buf = bytearray(_CAPACITY)

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as part of a complete response."""
        return self._end - self._base + self._moved

    def discard(self) -> int:
        """Drop everything buffered and not yet framed; return how many bytes were dropped.

        Used after a STARTTLS OK: whatever the server sent in plaintext after it must never
        be processed (RFC 9051 section 6.2.1).
        """
        dropped = self.buffered
        self._base = self._end = 0
        self._head, self._literals, self._moved, self._literal_bytes = [], {}, 0, 0
        self._line_start = self._scan = 0
        self._literal_end = -1
        self._sink = None
        return dropped

    # -- output ---------------------------------------------------------------------

    def take_lines(
        self,
        read_line: Callable[
            [bytearray, memoryview, int, int, int], tuple[int, Any, int, int] | None
        ],
        max_depth: int,
    ) -> list[tuple[int, Any]]:
        """At a response boundary, take the whole responses at the front of the buffer
        that ``read_line(buf, view, pos, endpos, max_depth)`` reads (a compiled FETCH shape:
        see :class:`.fastfetch.Shape`), straight from the buffer, and return what it
        read. Stops at the first it declines; :meth:`next_frame` frames that one as usual.
        ``read_line`` must not accept a response that does not end by ``endpos``, and
        reports how many bytes of literal data it read, for the limits.

        A response whose first literal :meth:`next_frame` is waiting for is offered
        again: nothing of it has left the buffer yet, so once it is whole it is read
        here like the others (a response cut by a read boundary is not framed)."""
        base = self._base
        if self._line_start != base or self._sink is not None or self._head:
            return []
        buf, end = self._buf, self._end
        limits = self.limits
        # Checked with room to spare: a response nearer a limit is left to next_frame(),
        # which checks each line and literal exactly (and raises).
        longest_text = min(limits.max_line_length + 2, limits.max_response_size)
        out = []
        pos = base
        with memoryview(buf) as view:  # released before anything can resize buf
            while (got := read_line(buf, view, pos, end, max_depth)) is not None:
                number, items, response_end, literal_bytes = got
                size = response_end - pos
                if size - literal_bytes > longest_text or (
                    literal_bytes
                    and (
                        literal_bytes > limits.max_literal_size
                        or size > limits.max_response_size
                    )
                ):
                    break
                out.append((number, items))
                pos = response_end
        if pos != base:
            self._literal_end = -1  # the literal next_frame was waiting for was taken
            self._consumed(pos)
        return out

    def next_response(self) -> bytes | None:
        """Return the next complete response, or None if more data is needed.

        Raises :class:`LimitExceededError` when the server exceeds a limit and
        :class:`ProtocolError` for a malformed line end (when not tolerated).
        """
        frame = self.next_frame()
        if frame is None:
            return None
        text, literals = frame
        return join_literals(text, literals, 0, len(text)) if literals else text

    def next_frame(self) -> tuple[bytes, Literals] | None:
        """Like :meth:`next_response`, with literals of 1 KiB or more kept out of the
        response text (see :data:`Literals`); the parser takes both."""
        limits = self.limits
        while True:
            buf, base, end = self._buf, self._base, self._end
            if self._sink is not None:
                # A streamed literal (at _base, see below): hand over what has arrived.
                n = min(end - base, self._sink_left)
                if n:
                    with memoryview(buf) as view:
                        data = bytes(view[base : base + n])
                    self._consumed(base + n)
                    self._sink_left -= n
                    self._sink.write(data)
                if self._sink_left:
                    return None
                self._sink = None
                buf, base, end = self._buf, self._base, self._end
            if self._literal_end >= 0:
                literal_end = self._literal_end
                if end < literal_end:
                    return None
                self._literal_end = -1
                start = self._literal_start
                if literal_end - start >= _OUT_OF_LINE:
                    # Out of line: the text so far and the data each copied once.
                    with memoryview(buf) as view:
                        self._head.append(bytes(view[base:start]))
                        data = bytes(view[start:literal_end])
                    # The data's offset in the text: what has left _buf, minus the data.
                    self._literals[self._moved + start - base - self._literal_bytes] = data
                    self._moved += literal_end - base
                    self._literal_bytes += literal_end - start
                    self._consumed(literal_end)
                    buf, base, end = self._buf, self._base, self._end
                else:
                    self._line_start = self._scan = literal_end
            lf = buf.find(b"\n", self._scan, end)
            if lf < 0:
                self._scan = end
                pending = end - self._line_start
                if pending and buf[end - 1] == 0x0D:  # possibly the CR of the CRLF to come
                    pending -= 1
                if pending > limits.max_line_length:
                    raise LimitExceededError(
                        f"server line longer than {limits.max_line_length} bytes "
                        "without a line end",
                        limit="max_line_length",
                        value=pending,
                    )
                if end - base + self._moved > limits.max_response_size:
                    raise self._response_too_large(end - base + self._moved)
                return None
            line_end = lf  # exclusive end of the line's content
            if lf > self._line_start and buf[lf - 1] == 0x0D:
                line_end = lf - 1
            elif not self.tolerances & Tolerance.BARE_LF:
                raise ProtocolError("server line ended with a bare LF instead of CRLF")
            if line_end - self._line_start > limits.max_line_length:
                raise LimitExceededError(
                    f"server line of {line_end - self._line_start} bytes exceeds the limit "
                    f"of {limits.max_line_length}",
                    limit="max_line_length",
                    value=line_end - self._line_start,
                )
            if lf + 1 - base + self._moved > limits.max_response_size:
                raise self._response_too_large(lf + 1 - base + self._moved)
            size = (
                self._literal_size(buf, self._line_start, line_end)
                if line_end > self._line_start and buf[line_end - 1] == 0x7D  # "}"
                else None
            )
            if size is None:
                with memoryview(buf) as view:  # one copy, not two (buf[:n] copies)
                    text = bytes(view[base:line_end])
                self._consumed(lf + 1)
                if not self._head:
                    return text, _NO_LITERALS
                self._head.append(text)
                text, literals = b"".join(self._head), self._literals
                self._head, self._literals, self._moved, self._literal_bytes = [], {}, 0, 0
                return text, literals
            if size > limits.max_literal_size:
                raise LimitExceededError(
                    f"server announced a literal of {size} bytes; the limit is "
                    f"{limits.max_literal_size}",
                    limit="max_literal_size",
                    value=size,
                )
            sink = None
            if self.literal_router is not None:
                prefix = b"".join(self._head) + bytes(buf[base:line_end])  # the text so far
                sink = self.literal_router(prefix, size)
            if sink is not None and size:
                # The parser will see an empty literal ({0}); the text so far leaves the
                # buffer, and the data that follows goes to the sink as it arrives.
                brace = buf.rfind(b"{", self._line_start, line_end)
                text = bytes(buf[base : brace + 1]) + b"0" + bytes(buf[line_end - 1 : lf + 1])
                self._head.append(text)
                self._moved += len(text)
                self._sink, self._sink_left, self._sink_size = sink, size, size
                self._consumed(lf + 1)
                continue
            if lf + 1 + size - base + self._moved > limits.max_response_size:
                raise self._response_too_large(lf + 1 + size - base + self._moved)
            self._literal_start = lf + 1
            self._literal_end = lf + 1 + size

    def eof(self) -> None:
        """Signal that the server closed the stream.

        Raises :class:`ConnectionClosedError` describing what was cut off if a response was
        incomplete; a partial response is never returned as if it were whole.
        """
        self._closed = True
        if self._sink is not None:
            got = self._sink_size - self._sink_left
            raise ConnectionClosedError(
                f"connection closed in the middle of a literal ({got} of {self._sink_size} "
                "bytes received); what was written to the sink is incomplete"
            )
        if self._literal_end > self._end:
            size = self._literal_end - self._literal_start
            got = self._end - self._literal_start
            raise ConnectionClosedError(
                f"connection closed in the middle of a literal ({got} of {size} bytes received)"
            )
        if self._end > self._base or self._moved:
            raise ConnectionClosedError(
                f"connection closed in the middle of a response "
                f"({self.buffered} bytes of an incomplete response discarded)"
            )

    # -- helpers ---------------------------------------------------------------

    def _literal_size(self, buf: bytearray, line_start: int, line_end: int) -> int | None:
        """The size announced at the end of the line, or None if it announces none."""
        if line_end == line_start or buf[line_end - 1] != 0x7D:  # "}"
            return None
        # Only this line counts: literal data before it is never searched for a marker.
        brace = buf.rfind(b"{", line_start, line_end)
        if brace < 0:
            return None
        start = brace - 1 if brace > line_start and buf[brace - 1] == 0x7E else brace  # "~{"
        m = _LITERAL_TAIL.match(buf, start, line_end)
        if m is None:
            return None
        digits = m.group(1)
        if len(digits) > 20:  # far past any limit; fail without converting it
            raise LimitExceededError(
                f"server announced a literal of {len(digits)} digits",
                limit="max_literal_size",
            )
        return int(digits)

    def _response_too_large(self, size: int) -> LimitExceededError:
        return LimitExceededError(
            f"server response of at least {size} bytes exceeds the limit of "
            f"{self.limits.max_response_size}",
            limit="max_response_size",
            value=size,
        )


def join_literals(text: bytes, literals: Literals, start: int, end: int) -> bytes:
    """``text[start:end]`` with the out-of-line literal data that belongs there put back."""
    pieces: list[bytes] = []
    pos = start
    for offset in sorted(literals):
        if start <= offset <= end:
            pieces += (text[pos:offset], literals[offset])
            pos = offset
    pieces.append(text[pos:end])
    return b"".join(pieces)
