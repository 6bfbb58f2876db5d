"""Fuzz target: the command encoder (src/imapclient/protocol/encoder.py).

Input layout: choices come from the back of the input (``ConsumeIntInRange``), string
contents from the front (``ConsumeBytes``). First whether the command is sensitive and
its name (one of :data:`NAMES`, or up to 16 fuzz bytes that may not be a valid token),
then a count of arguments (0-6), then each argument, recursively:

====  =========================================================================
kind  argument
====  =========================================================================
0     ``Atom`` of up to 48 fuzz bytes (constructing it may raise ValueError)
1     ``bytes`` of up to 64 fuzz bytes
2     ``str``: up to 64 fuzz bytes decoded as UTF-8, invalid bytes replaced or (a
      choice) kept as lone surrogates, which cannot be encoded (ValueError)
3     ``Quoted`` of up to 64 fuzz bytes
4     ``Literal`` of up to 64 fuzz bytes, ``binary`` chosen
5     an ``int`` from :data:`INTS` (some out of range)
6     ``None``
7     ``ArgList`` of 0-4 arguments (nested at most 3 deep)
8     a long string (bytes, Quoted or Literal) of a size next to the quoted-string and
      LITERAL- limits (1023-1025, 4095-4097), filled by repeating up to 8 fuzz bytes
9     ``True`` (a bool: TypeError)
10    ``Flag`` of up to 48 fuzz bytes (constructing it may raise ValueError)
====  =========================================================================

Then the command is encoded with each LiteralMode. Checks:

1. ``encode_command`` raises ValueError exactly when the name is not a token, an int is
   outside 0..2**63-1, a str cannot be encoded as UTF-8 or a string other than a binary
   Literal holds NUL, TypeError for a bool; nothing else escapes. ``Atom`` raises
   ValueError exactly for a value that is not tokens of printable ASCII other than ``"``
   and ``{`` separated by single spaces with balanced parentheses; ``Flag`` exactly for
   a value that is not ``["\"] 1*ATOM-CHAR`` (RFC 9051);
2. read the way a server reads (independently of the library): the line parts hold only
   7-bit bytes, no NUL, and no CR or LF except a CRLF right after a literal announcement
   or at the very end; the command does not end in something a server would take for a
   literal announcement; literal data is complete; NUL occurs only inside ``~{n}`` data;
3. every segment but the last ends with a synchronising announcement, and every
   synchronising announcement ends a segment; SYNC never uses ``{n+}``, LITERAL+ always
   does, LITERAL- exactly for literals up to 4096 bytes;
4. each string argument (at any depth), encoded alone and embedded as the mailbox of
   ``* LIST () "/" <arg>`` (``{n+}`` written as ``{n}``), parses back through the
   library's astring rule (default and STRICT tolerances) to the original bytes; a
   Quoted, and any string equal to NIL, is never sent as an atom; a binary Literal
   embedded as ``* 1 FETCH (BINARY[] <arg>)`` parses back to its data; a Flag embedded
   as ``* FLAGS (<flag>)`` parses back (STRICT) to itself; ints and None come out as
   their decimal form and NIL;
5. ``redacted`` never raises and never holds CR or LF; for a sensitive command it shows
   no argument.
"""

from __future__ import annotations

import re
from typing import Any

import _common

with _common.instrumented():
    from imapclient.exceptions import ProtocolError
    from imapclient.protocol.encoder import (
        ArgList,
        Atom,
        Command,
        Flag,
        Literal,
        LiteralMode,
        Quoted,
        encode_command,
        redacted,
    )
    from imapclient.protocol.parser import Parser
    from imapclient.protocol.responses import UntaggedResponse
    from imapclient.protocol.tolerances import STRICT

NAMES = (b"LOGIN", b"SELECT", b"APPEND", b"UID FETCH", b"SEARCH", b"STORE", b"X")
INTS = (0, 1, 7, 4096, 2**32, 2**63 - 1, 2**63, 2**64, -1, -(2**63))
LONG_SIZES = (1023, 1024, 1025, 4095, 4096, 4097)
NUMBER64_MAX = 2**63 - 1
TAG = b"A1"

# Printable ASCII but '"' and '{' (which would open a quoted string or a literal).
_TOKEN = re.compile(rb"[!#-z|-~]+(?: [!#-z|-~]+)*\Z")
# flag = "\" atom / atom; ATOM-CHAR = CHAR but CTL, SP, ( ) { % * " \ ]
_FLAG_OK = re.compile(rb'\\?[^\x00-\x20\x7f-\xff(){%*"\\\]]+\Z')


def valid_atom(value: bytes) -> bool:
    if not _TOKEN.match(value):
        return False
    depth = 0
    for byte in value:
        if byte == 0x28:
            depth += 1
        elif byte == 0x29:
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


_ANNOUNCEMENT = re.compile(rb"(~?)\{(\d+)(\+?)\}\Z")
_PARSERS = (Parser(), Parser(tolerances=STRICT))
_MODES = tuple(LiteralMode)


class Invalid(Exception):
    """An argument the fuzzer built that encoding must refuse (carried to the oracle)."""


def _string_bytes(fdp: Any, limit: int) -> bytes:
    data: bytes = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, limit))
    return data


def build_arg(fdp: Any, depth: int, leaves: list[Any]) -> Any:
    """One argument from the fuzz input. Strings, Literals, ints and None are also
    appended to ``leaves`` for the round-trip check."""
    kind = fdp.ConsumeIntInRange(0, 10)
    if kind == 0:
        value = _string_bytes(fdp, 48)
        valid = valid_atom(value)
        try:
            atom = Atom(value)
        except ValueError:
            assert not valid, ("Atom refused a valid token", value)
            return None  # nothing to send; NIL in its place
        assert valid, ("Atom accepted an invalid token", value)
        return atom
    if kind == 10:
        value = _string_bytes(fdp, 48)
        valid = _FLAG_OK.match(value) is not None
        try:
            flag = Flag(value)
        except ValueError:
            assert not valid, ("Flag refused a valid flag", value)
            return None
        assert valid, ("Flag accepted an invalid flag", value)
        leaves.append(flag)
        return flag
    if kind == 1:
        arg: Any = _string_bytes(fdp, 64)
    elif kind == 2:
        raw = _string_bytes(fdp, 64)
        arg = raw.decode("utf-8", "surrogateescape" if fdp.ConsumeIntInRange(0, 1) else "replace")
    elif kind == 3:
        arg = Quoted(_string_bytes(fdp, 64))
    elif kind == 4:
        arg = Literal(_string_bytes(fdp, 64), binary=fdp.ConsumeIntInRange(0, 1) == 1)
    elif kind == 5:
        arg = INTS[fdp.ConsumeIntInRange(0, len(INTS) - 1)]
    elif kind == 6:
        arg = None
    elif kind == 7:
        if depth >= 3:
            return None
        count = fdp.ConsumeIntInRange(0, 4)
        return ArgList(tuple(build_arg(fdp, depth + 1, leaves) for _ in range(count)))
    elif kind == 8:
        size = LONG_SIZES[fdp.ConsumeIntInRange(0, len(LONG_SIZES) - 1)]
        fill = _string_bytes(fdp, 8) or b"x"
        value = (fill * (size // len(fill) + 1))[:size]
        form = fdp.ConsumeIntInRange(0, 2)
        arg = value if form == 0 else Quoted(value) if form == 1 else Literal(value)
    else:
        return True
    leaves.append(arg)
    return arg


def expected_error(command: Command) -> type[Exception] | None:
    """What encoding ``command`` must raise, by the documented rules (first problem in
    the order the encoder meets it)."""
    if not valid_atom(command.name):
        return ValueError

    def walk(arg: Any) -> type[Exception] | None:
        if isinstance(arg, (Atom, Flag)):
            return None
        if isinstance(arg, bool):
            return TypeError
        if isinstance(arg, int):
            return None if 0 <= arg <= NUMBER64_MAX else ValueError
        if isinstance(arg, (bytes, str)):
            try:
                data = arg.encode("utf-8") if isinstance(arg, str) else arg
            except UnicodeEncodeError:
                return ValueError
            return ValueError if b"\x00" in data else None
        if isinstance(arg, Quoted):
            return ValueError if b"\x00" in arg.value else None
        if isinstance(arg, Literal):
            return ValueError if not arg.binary and b"\x00" in bytes(arg.value) else None
        if isinstance(arg, ArgList):
            for item in arg.items:
                error = walk(item)
                if error is not None:
                    return error
        return None

    for arg in command.args:
        error = walk(arg)
        if error is not None:
            return error
    return None


def server_read(wire: bytes) -> list[tuple[int, int, bool, bool]]:
    """Read one command as a server would; return its literals as (data start, size,
    synchronising, binary). Asserts the line-part rules (check 2)."""
    literals: list[tuple[int, int, bool, bool]] = []
    pos = 0
    line_start = 0
    end = len(wire)
    while True:
        cr = wire.find(b"\r", pos)
        lf = wire.find(b"\n", pos)
        stops = [i for i in (cr, lf) if i >= 0]
        assert stops, ("command does not end with CRLF", wire)
        i = min(stops)
        line_part = wire[pos:i]
        assert b"\x00" not in line_part, ("NUL outside a literal", wire)
        assert max(line_part, default=0) < 0x80, ("8-bit byte outside a literal", wire)
        assert wire.startswith(b"\r\n", i), ("bare CR or LF in a command line", wire)
        m = _ANNOUNCEMENT.search(wire, line_start, i)
        if m is None:
            assert i + 2 == end, ("CRLF inside a command line", wire)
            return literals
        assert i + 2 < end, ("the command ends with a literal announcement", wire)
        binary, size, plus = m.group(1) == b"~", int(m.group(2)), m.group(3) == b"+"
        start = i + 2
        assert start + size <= end, ("literal data cut short", wire)
        data = wire[start : start + size]
        if not binary:
            assert b"\x00" not in data, ("NUL in a literal that is not literal8", wire)
        literals.append((start, size, not plus, binary))
        pos = line_start = start + size


def check_wire(segments: list[bytes], mode: LiteralMode) -> None:
    assert segments and all(segments), segments
    wire = b"".join(segments)
    literals = server_read(wire)
    boundaries = []
    total = 0
    for segment in segments[:-1]:
        total += len(segment)
        boundaries.append(total)
        m = re.search(rb"~?\{\d+\}\r\n\Z", segment)
        assert m is not None, ("segment does not end with a synchronising literal", segment)
    sync_starts = [start for start, _, sync, _ in literals if sync]
    assert sync_starts == boundaries, (sync_starts, boundaries, segments)
    for _, size, sync, _ in literals:
        if mode is LiteralMode.SYNC:
            assert sync
        elif mode is LiteralMode.LITERAL_PLUS:
            assert not sync
        else:
            assert sync == (size > 4096), (size, sync)


def encode_alone(arg: Any, mode: LiteralMode) -> bytes:
    """The bytes of ``arg`` as a command's only argument, non-synchronising literal
    announcements written the way a server writes literals."""
    segments = encode_command(TAG, Command(b"X", (arg,)), mode)
    wire = b"".join(segments)
    prefix = TAG + b" X "
    assert wire.startswith(prefix) and wire.endswith(b"\r\n"), wire
    return re.sub(rb"\A(~?\{\d+)\+\}", rb"\1}", wire[len(prefix) : -2])


def check_leaf(arg: Any, mode: LiteralMode) -> None:
    encoded = encode_alone(arg, mode)
    if arg is None:
        assert encoded == b"NIL", encoded
        return
    if isinstance(arg, int):
        assert encoded == str(arg).encode(), (arg, encoded)
        return
    if isinstance(arg, Flag):
        assert encoded == arg.value, (arg, encoded)
        result = _PARSERS[1].parse(b"* FLAGS (" + encoded + b")")
        assert isinstance(result, UntaggedResponse), result
        assert result.data == (arg.value,), (arg, result)
        return
    if isinstance(arg, Literal) and arg.binary:
        response = b"* 1 FETCH (BINARY[] " + encoded + b")"
        for parser in _PARSERS:
            result = parser.parse(response)
            assert isinstance(result, UntaggedResponse), result
            assert result.data == {b"BINARY[]": bytes(arg.value)}, (arg, result)
        return
    if isinstance(arg, str):
        value = arg.encode("utf-8")
    elif isinstance(arg, (Quoted, Literal)):
        value = bytes(arg.value)
    else:
        value = arg
    if isinstance(arg, (Quoted, Literal)) or value.upper() == b"NIL":
        assert encoded[:1] in (b'"', b"{"), ("sent as an atom", arg, encoded)
    if isinstance(arg, Literal):
        assert encoded[:1] == b"{", ("a Literal not sent as a literal", arg, encoded)
    response = b'* LIST () "/" ' + encoded
    for parser in _PARSERS:
        try:
            result = parser.parse(response)
        except ProtocolError as exc:
            raise AssertionError(f"{arg!r} encoded as {encoded!r} does not parse") from exc
        assert isinstance(result, UntaggedResponse), result
        assert result.data.name == value, (arg, encoded, result)


def check_redacted(command: Command) -> None:
    shown = redacted(TAG, command)
    assert b"\r" not in shown and b"\n" not in shown, shown
    if command.sensitive:
        assert shown == TAG + b" " + command.name + b" **REDACTED**", shown


def test_one_input(data: bytes) -> None:
    fdp = _common.provider(data)
    sensitive = fdp.ConsumeIntInRange(0, 1) == 1
    which = fdp.ConsumeIntInRange(0, len(NAMES))
    name = NAMES[which] if which < len(NAMES) else _string_bytes(fdp, 16)
    leaves: list[Any] = []
    args = tuple(build_arg(fdp, 0, leaves) for _ in range(fdp.ConsumeIntInRange(0, 6)))
    command = Command(name, args, sensitive=sensitive)
    expected = expected_error(command)
    for mode in _MODES:
        try:
            segments = encode_command(TAG, command, mode)
        except (ValueError, TypeError) as exc:
            assert type(exc) is expected, (command, exc, expected)
            continue
        assert expected is None, ("encoding succeeded; expected", expected, command)
        check_wire(segments, mode)
        for leaf in leaves:
            check_leaf(leaf, mode)
        check_redacted(command)


if __name__ == "__main__":
    _common.main("encoder", test_one_input)
