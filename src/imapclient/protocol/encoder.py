"""Turning commands into the bytes the client sends.

A command becomes a list of *segments*. The first is sent at once; before each further
segment the client must wait for the server's continuation request (``+``), because the
segment before it ended by announcing a synchronising literal. Non-synchronising literals
(``{n+}``, RFC 7888 LITERAL+ / LITERAL-) do not split segments.

Each string argument is written as an atom, a quoted string or a literal by the rules of
RFC 9051 section 4.3: CR and LF can only travel inside a literal, so they can never end a
command line early (no command injection through a folder name or search term), and NUL
cannot be sent at all except in a ``literal8`` (BINARY), so it is refused with ValueError
before anything is sent.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, Union

__all__ = [
    "Atom",
    "Command",
    "Flag",
    "Literal",
    "LiteralMode",
    "LiteralSource",
    "Quoted",
    "encode_command",
    "redacted",
]

# Bytes that may appear in an atom sent by us (ASTRING-CHAR, 7-bit printable).
_ASTRING_ATOM = re.compile(rb"[^\x00-\x20\x7f-\xff(){%*\"\\]+\Z")
# Bytes that may appear in a quoted string (TEXT-CHAR: 7-bit, no CR/LF/NUL).
_QUOTABLE = re.compile(rb"[\x01-\x09\x0b\x0c\x0e-\x7f]*\Z")
_QUOTE_ESCAPE = re.compile(rb'(["\\])')
# Raw tokens (command words, flags, sequence sets, criteria keys, fetch items): printable
# ASCII without '"' or '{', which could open a quoted string or announce a literal
# (with LITERAL+ the server would read what follows as literal data).
_RAW_TOKEN = re.compile(rb"[\x21\x23-\x7a\x7c-\x7e]+(?: [\x21\x23-\x7a\x7c-\x7e]+)*\Z")
# flag = "\" atom / keyword (RFC 9051): what a flag or keyword argument may be.
_FLAG = re.compile(rb"\\?[^\x00-\x20\x7f-\xff(){%*\"\\\]]+\Z")

#: The largest number IMAP can carry (RFC 9051 number64).
NUMBER64_MAX = 2**63 - 1

#: LITERAL- (RFC 7888) allows non-synchronising literals up to this size.
LITERAL_MINUS_MAX = 4096


class LiteralMode(enum.Enum):
    """Which literals the server accepts without a continuation request."""

    SYNC = "sync"  # every literal waits for "+"
    LITERAL_MINUS = "literal-"  # {n+} up to 4096 bytes
    LITERAL_PLUS = "literal+"  # {n+} for any size


@dataclass(frozen=True, slots=True)
class Atom:
    """A token sent exactly as given: a keyword, a flag, a sequence set, a criteria key.

    Only printable ASCII (single spaces allowed between tokens); anything else is a
    ValueError, so a caller-supplied value can never smuggle a line end through an Atom.
    """

    value: bytes

    def __post_init__(self) -> None:
        if not _RAW_TOKEN.match(self.value) or not _balanced(self.value):
            raise ValueError(f"not a valid IMAP token: {self.value!r}")


@dataclass(frozen=True, slots=True)
class Flag:
    """A flag or keyword (``\\Seen``, ``$Forwarded``), checked against the grammar: a
    value that is not a flag is a ValueError, never sent."""

    value: bytes

    def __post_init__(self) -> None:
        if not _FLAG.match(self.value):
            raise ValueError(f"not a valid IMAP flag or keyword: {self.value!r}")


def _balanced(token: bytes) -> bool:
    depth = 0
    for char in token.translate(None, _NOT_PARENS):  # only the parentheses remain
        depth += 1 if char == 0x28 else -1
        if depth < 0:
            return False
    return depth == 0


_NOT_PARENS = bytes(b for b in range(256) if b not in b"()")


@dataclass(frozen=True, slots=True)
class Quoted:
    """A string that must not be sent as an atom (quoted, or a literal if it must be)."""

    value: bytes


@dataclass(frozen=True, slots=True)
class Literal:
    """A string always sent as a literal (a message for APPEND). ``binary`` sends it as
    ``literal8`` (``~{n}``, RFC 3516), the only form that may contain NUL. ``value`` may
    also be a :class:`LiteralSource`, read as it is sent."""

    value: bytes | bytearray | memoryview | LiteralSource
    binary: bool = False


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class LiteralSource:
    """Literal data read from a file-like ``source`` while it is sent, ``size`` bytes in
    all, in chunks, so that a large message never has to be in memory."""

    CHUNK = 256 * 1024

    def __init__(self, source: Readable, size: int) -> None:
        if size < 0:
            raise ValueError("a literal's size cannot be negative")
        self.source = source
        self.size = size
        self.left = size
        self.binary = False  # set by the encoder

    @property
    def exhausted(self) -> bool:
        return self.left == 0

    def read_chunk(self) -> bytes:
        """The next chunk. Raises ValueError if the source ends early or (outside a
        binary literal) holds NUL; by then part of the command is sent."""
        wanted = min(self.CHUNK, self.left)
        data = self.source.read(wanted)
        while len(data) < wanted:
            more = self.source.read(wanted - len(data))
            if not more:
                sent = self.size - self.left + len(data)
                raise ValueError(f"the literal's source ended after {sent} of {self.size} bytes")
            data += more
        if not self.binary and b"\x00" in data:
            raise ValueError("NUL cannot be sent in a literal; use a binary literal (BINARY)")
        self.left -= len(data)
        return bytes(data)


Arg = Union[bytes, str, int, Atom, Flag, Quoted, Literal, "ArgList", None]


@dataclass(frozen=True, slots=True)
class ArgList:
    """A parenthesised list of arguments."""

    items: Sequence[Arg]


@dataclass(slots=True, repr=False)
class Command:
    """A command: its name (``b'UID FETCH'``), arguments, and whether its arguments are
    secret (LOGIN, AUTHENTICATE), in which case logs and errors show them redacted."""

    name: bytes
    args: Sequence[Arg] = field(default_factory=tuple)
    sensitive: bool = False

    def __repr__(self) -> str:
        # Tracebacks and debuggers print reprs: never let a password reach them.
        args = "**REDACTED**" if self.sensitive else repr(self.args)
        return f"Command(name={self.name!r}, args={args}, sensitive={self.sensitive})"


Segment = bytes | LiteralSource


def encode_command(tag: bytes, command: Command, mode: LiteralMode) -> list[Segment]:
    """Encode ``command`` with ``tag`` into segments (see the module docstring). A
    :class:`LiteralSource` is a segment of its own, read while it is sent; only after a
    segment ending in a synchronising literal's announcement does the client wait."""
    segments: list[Segment] = []
    line = bytearray(tag)
    line += b" "
    line += Atom(command.name).value
    for arg in command.args:
        line += b" "
        _encode_arg(arg, line, segments, mode)
    line += b"\r\n"
    segments.append(bytes(line))
    return segments


def redacted(tag: bytes, command: Command) -> bytes:
    """A one-line rendering of a command for logs: arguments of sensitive commands are
    replaced, and literals are shown by size only."""
    if command.sensitive:
        return tag + b" " + command.name + b" **REDACTED**"
    parts = [tag, command.name]
    for arg in command.args:
        parts.append(_describe(arg))
    return b" ".join(parts)


def _encode_arg(arg: Arg, line: bytearray, segments: list[Segment], mode: LiteralMode) -> None:
    if isinstance(arg, (Atom, Flag)):
        line += arg.value
    elif isinstance(arg, (bytes, str)):
        _encode_string(_to_bytes(arg), line, segments, mode, allow_atom=True)
    elif isinstance(arg, Quoted):
        _encode_string(arg.value, line, segments, mode, allow_atom=False)
    elif isinstance(arg, bool):
        raise TypeError("a bool is not an IMAP argument")
    elif isinstance(arg, int):
        if not 0 <= arg <= NUMBER64_MAX:
            raise ValueError(f"IMAP numbers are 0 to {NUMBER64_MAX}, not {arg}")
        line += str(arg).encode("ascii")
    elif isinstance(arg, Literal) and isinstance(arg.value, LiteralSource):
        source = arg.value
        source.binary = arg.binary
        _literal_header(source.size, arg.binary, line, segments, mode)
        segments.append(bytes(line))
        line.clear()
        segments.append(source)
    elif isinstance(arg, Literal):
        value = arg.value
        assert not isinstance(value, LiteralSource)
        _encode_literal(bytes(value), arg.binary, line, segments, mode)
    elif isinstance(arg, ArgList):
        line += b"("
        for i, item in enumerate(arg.items):
            if i:
                line += b" "
            _encode_arg(item, line, segments, mode)
        line += b")"
    elif arg is None:
        line += b"NIL"
    else:
        raise TypeError(f"cannot send {type(arg).__name__} as an IMAP argument")


def _encode_string(
    value: bytes, line: bytearray, segments: list[Segment], mode: LiteralMode, *, allow_atom: bool
) -> None:
    if b"\x00" in value:
        raise ValueError("NUL cannot be sent in an IMAP string")
    if allow_atom and value and _ASTRING_ATOM.match(value) and value.upper() != b"NIL":
        line += value
    elif len(value) < 1024 and _QUOTABLE.match(value):
        line += b'"'
        line += _QUOTE_ESCAPE.sub(rb"\\\1", value)
        line += b'"'
    else:
        _encode_literal(value, False, line, segments, mode)


def _encode_literal(
    value: bytes, binary: bool, line: bytearray, segments: list[Segment], mode: LiteralMode
) -> None:
    if not binary and b"\x00" in value:
        raise ValueError("NUL cannot be sent in a literal; use a binary literal (BINARY)")
    _literal_header(len(value), binary, line, segments, mode)
    line += value


def _literal_header(
    size: int, binary: bool, line: bytearray, segments: list[Segment], mode: LiteralMode
) -> None:
    non_sync = mode is LiteralMode.LITERAL_PLUS or (
        mode is LiteralMode.LITERAL_MINUS and size <= LITERAL_MINUS_MAX
    )
    if binary:
        line += b"~"
    line += b"{%d%s}\r\n" % (size, b"+" if non_sync else b"")
    if not non_sync:
        segments.append(bytes(line))
        line.clear()


def _to_bytes(value: bytes | str) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        # Never quote the value: it may be a password.
        raise ValueError("a string argument cannot be encoded as UTF-8") from None


def _describe(arg: Arg) -> bytes:
    # Render as the encoder would, but show literals by size only.
    if isinstance(arg, (Atom, Flag)):
        return arg.value
    if isinstance(arg, Literal):
        size = arg.value.size if isinstance(arg.value, LiteralSource) else len(arg.value)
        return b"{%d bytes}" % size
    if isinstance(arg, ArgList):
        return b"(" + b" ".join(_describe(a) for a in arg.items) + b")"
    line = bytearray()
    segments: list[Segment] = []
    try:
        _encode_arg(arg, line, segments, LiteralMode.LITERAL_PLUS)
    except (ValueError, TypeError):
        return b"<invalid>"
    marker = line.find(b"+}\r\n")  # a literal: its data follows the marker
    if marker >= 0:
        return b"{%d bytes}" % (len(line) - marker - 4)
    return bytes(line)
