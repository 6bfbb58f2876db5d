"""Parsing complete server responses into typed objects.

The input is one complete response as produced by :class:`~.framing.Framer` (its lines
and literals, final line end removed). The parser is recursive descent over that buffer
with compiled regexes anchored at the current position (``pattern.match(buf, pos)``) and
``bytes.find``; no Python loop walks single bytes. Methods of :class:`_Cursor` are named
after the ABNF rules of RFC 9051 and the extension RFCs (``astring``, ``nstring``,
``msg_att``, ``resp_text_code`` ...). Dispatch on a response's keyword is a dict lookup.

Everything the server sends stays ``bytes``; numbers become ``int``; NIL becomes None;
parenthesised lists become tuples. Known server defects are accepted only through the
named flags of :class:`~.tolerances.Tolerance`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, NoReturn

from ..datetime_util import parse_to_datetime
from ..exceptions import LimitExceededError, ProtocolError
from ..response_types import (
    Address,
    BodyData,
    Envelope,
    Namespace,
    ResponseDict,
    SearchIds,
    SequenceSet,
    Unparsed,
)
from .fastfetch import INTERNALDATE, Shape, internaldate, shape_for
from .framing import Framer, Literals, join_literals
from .lexical import ATOM_CHARS as _ATOM_CHARS
from .lexical import FLAG as _FLAG
from .lexical import unquote as _unquote
from .limits import DEFAULT_LIMITS, Limits
from .responses import (
    AppendUid,
    ContinuationRequest,
    CopyUid,
    ESearchResponse,
    MailboxList,
    MailboxStatus,
    Response,
    ResponseCode,
    StatusResponse,
    UntaggedResponse,
    Vanished,
)
from .tolerances import DEFAULT_TOLERANCES, Tolerance

__all__ = ["Parser", "parse_response"]

# --- lexical patterns (RFC 9051 section 9) -----------------------------------------------

_ATOM = re.compile(_ATOM_CHARS + rb"+")
# LAX_ATOM: also 8-bit bytes, % and *, as some servers put them in keywords.
_LAX_ATOM = re.compile(rb"[^\x00-\x20\x7f(){\"\\\]]+")
# ASTRING-CHAR adds resp-specials ("]").
_ASTRING_ATOM = re.compile(rb"[^\x00-\x20\x7f-\xff(){%*\"\\]+")
_LAX_ASTRING_ATOM = re.compile(rb"[^\x00-\x20\x7f(){\"\\]+")
_NUMBER = re.compile(rb"\d{1,20}(?!\d)")
_SIGNED_NUMBER = re.compile(rb"-?\d{1,20}(?!\d)")
_NOTATION_NUMBER = re.compile(rb"-?\d{1,20}(?:\.\d{1,20})?(?:[eE][+-]?\d{1,5})?(?!\d)")
_QUOTED = re.compile(rb'"((?:[^"\\\r\n]|\\["\\])*)"')
_LITERAL = re.compile(rb"(~?)\{(\d+)\}\r?\n")
_TAG = re.compile(rb"[^\x00-\x20\x7f-\xff(){%*\"\\+]+")
_NIL = re.compile(rb"NIL(?=[\s()\]]|\Z)", re.IGNORECASE)
# One item of a generic list: a quoted string, a literal (not literal8) or an atom-like
# token up to the next delimiter.
_LIST_ITEM = re.compile(
    rb'"(?P<quoted>(?:[^"\\\r\n]|\\["\\])*)"'
    rb"|(?P<literal>\{(?P<size>\d{1,20})\}\r?\n)"
    rb'|(?P<token>[^\x00-\x20\x7f()"{]+)'
)
_DIGITS_ONLY = re.compile(rb"\d{1,20}\Z")
_NIL_TOKENS = frozenset((b"NIL", b"nil", b"Nil"))

# BRACKET_IN_FLAG admits "]" in flags (Gmail).
_FLAG_BRACKET = rb"(?:\\?(?:" + _ATOM_CHARS + rb"|\])+|\\\*)"
_FLAG_LAX = rb"(?:\\?[^\x00-\x20\x7f()\"\\]+|\\\*)"


def _flag_list_re(flag: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"\((" + flag + rb"(?: " + flag + rb")*)?\)")


_FLAG_LIST = _flag_list_re(_FLAG)
_FLAG_LIST_BRACKET = _flag_list_re(_FLAG_BRACKET)
_FLAG_LIST_LAX = _flag_list_re(_FLAG_LAX)

_SEQ_RANGE = rb"\d{1,20}(?::\d{1,20})?(?!\d)"
_SEQUENCE_SET = re.compile(_SEQ_RANGE + rb"(?:," + _SEQ_RANGE + rb")*")
# SEARCH: *(SP nz-number) [SP "(" "MODSEQ" SP mod-sequence-value ")"]
_SEARCH_DATA = re.compile(rb"((?: \d{1,20})*)(?: \(MODSEQ (\d{1,20})\))? *\Z", re.IGNORECASE)

# msg-att name: BODY[section]<origin>, BINARY.SIZE[1.2], RFC822.SIZE, X-GM-LABELS ...
_MSG_ATT_NAME = re.compile(rb"([A-Za-z0-9][A-Za-z0-9.\-_$]*)(\[[^\]\r\n]*\](?:<\d+>)?)? ")
_QUOTED_FIELD = re.compile(rb'"([^"\\ ()]*)"')
_NUMBER_ITEM = re.compile(rb"\d{1,20}(?=[ )])")
_CODE_NAME = re.compile(rb"[^\x00-\x20\x7f-\xff\]]+")
_CODE_RAW = re.compile(rb"[^\]\r\n]*")

# Tolerance flags as plain ints: enum.Flag arithmetic is too slow for the hot path.
_T_BARE_LF = Tolerance.BARE_LF.value
_T_BARE_CONTINUATION = Tolerance.BARE_CONTINUATION.value
_T_MISSING_RESP_TEXT = Tolerance.MISSING_RESP_TEXT.value
_T_TRAILING_SPACE = Tolerance.TRAILING_SPACE.value
_T_BRACKET_IN_FLAG = Tolerance.BRACKET_IN_FLAG.value
_T_NIL_FOR_STRING = Tolerance.NIL_FOR_STRING.value
_T_NEGATIVE_NUMBER = Tolerance.NEGATIVE_NUMBER.value
_T_NUMBER_NOTATION = Tolerance.NUMBER_NOTATION.value
_T_MALFORMED_RESP_CODE = Tolerance.MALFORMED_RESP_CODE.value
_T_LAX_ATOM = Tolerance.LAX_ATOM.value
_T_UNPARSED_FETCH_ITEM = Tolerance.UNPARSED_FETCH_ITEM.value
_T_MISSING_QUOTA_LIST = Tolerance.MISSING_QUOTA_LIST.value

_STATUS_WORDS = frozenset((b"OK", b"NO", b"BAD", b"PREAUTH", b"BYE"))
_NUMBERED = frozenset((b"EXISTS", b"RECENT", b"EXPUNGE", b"FETCH"))
_INT_CODES = frozenset((b"UIDNEXT", b"UIDVALIDITY", b"UNSEEN", b"HIGHESTMODSEQ"))
_OPTIONAL_ARGUMENT_CODES = frozenset((b"BADCHARSET",))


_INTERNALDATE = re.compile(INTERNALDATE)


def _notation_to_int(text: bytes) -> int | None:
    """``1.2E3`` -> 1200 (NUMBER_NOTATION); None if not finite or beyond 64 bits."""
    try:
        value = float(text)
    except ValueError:
        return None
    if not abs(value) < 2.0**63:  # also false for inf and nan
        return None
    return int(value)


class _Cursor:
    """A position in one response, with one method per grammar rule it reads."""

    __slots__ = ("buf", "depth", "limits", "literals", "pos", "tol")

    def __init__(
        self, buf: bytes, limits: Limits, tolerances: Tolerance, literals: Literals | None = None
    ) -> None:
        self.buf = buf
        self.literals = literals  # out-of-line literal data (Framer.next_frame)
        self.pos = 0
        self.depth = 0
        self.limits = limits
        self.tol = tolerances.value

    # -- primitives --------------------------------------------------------------------

    def fail(self, expected: str) -> NoReturn:
        snippet = self.buf[self.pos : self.pos + 40]
        raise ProtocolError(
            f"malformed server response: expected {expected} at offset {self.pos}, "
            f"found {snippet!r} in {self.buf[:80]!r}"
        )

    def at_end(self) -> bool:
        return self.pos >= len(self.buf)

    def peek(self) -> int:
        """The next byte's value, or -1 at the end."""
        return self.buf[self.pos] if self.pos < len(self.buf) else -1

    def sp(self) -> None:
        if self.buf[self.pos : self.pos + 1] != b" ":
            self.fail("a space")
        self.pos += 1

    def try_sp(self) -> bool:
        if self.buf[self.pos : self.pos + 1] == b" ":
            self.pos += 1
            return True
        return False

    def expect(self, token: bytes) -> None:
        if not self.buf.startswith(token, self.pos):
            self.fail(repr(token))
        self.pos += len(token)

    def try_token(self, token: bytes) -> bool:
        if self.buf.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def end(self) -> None:
        """Expect the end of the response (trailing spaces only under TRAILING_SPACE)."""
        if self.pos < len(self.buf):
            rest = self.buf[self.pos :]
            if not (self.tol & _T_TRAILING_SPACE and not rest.strip(b" ")):
                self.fail("the end of the response")
            self.pos = len(self.buf)

    def match(self, pattern: re.Pattern[bytes], expected: str) -> re.Match[bytes]:
        m = pattern.match(self.buf, self.pos)
        if m is None:
            self.fail(expected)
        self.pos = m.end()
        return m

    def rest(self) -> bytes:
        data = self.text(self.pos, len(self.buf))
        self.pos = len(self.buf)
        return data

    def text(self, start: int, end: int) -> bytes:
        """The response text from ``start`` to ``end``, literal data included."""
        if self.literals:
            return join_literals(self.buf, self.literals, start, end)
        return self.buf[start:end]

    def literal_data(self, size: int) -> bytes:
        """The ``size`` bytes of the literal whose announcement ends at ``pos``."""
        start = self.pos
        if self.literals:
            data = self.literals.get(start)
            if data is not None:
                if len(data) != size:  # the framer guarantees this; never trust it blindly
                    self.fail(f"{size} bytes of literal data")
                return data
        self.pos = start + size
        if self.pos > len(self.buf):  # as above
            self.fail(f"{size} bytes of literal data")
        return self.buf[start : self.pos]

    def enter(self) -> None:
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise LimitExceededError(
                f"server response nests lists deeper than {self.limits.max_depth} levels",
                limit="max_depth",
                value=self.depth,
            )

    # -- basic rules (RFC 9051 section 9) --------------------------------------------

    def atom(self) -> bytes:
        pattern = _LAX_ATOM if self.tol & _T_LAX_ATOM else _ATOM
        return self.match(pattern, "an atom").group()

    def number(self) -> int:
        """number, and the tolerated forms (negative, fraction or exponent notation)."""
        m = _NUMBER.match(self.buf, self.pos)
        end = m.end() if m else self.pos
        if m is not None and (end >= len(self.buf) or self.buf[end] not in b".eE"):
            self.pos = end
            return int(m.group())
        if self.tol & _T_NUMBER_NOTATION:
            n = _NOTATION_NUMBER.match(self.buf, self.pos)
            if n is not None and (n.group()[0] != 0x2D or self.tol & _T_NEGATIVE_NUMBER):
                value = _notation_to_int(n.group())
                if value is None:
                    self.fail("a number of sensible size")
                self.pos = n.end()
                return value
        if self.tol & _T_NEGATIVE_NUMBER:
            return int(self.match(_SIGNED_NUMBER, "a number").group())
        self.fail("a number")

    def quoted(self) -> bytes:
        return _unquote(self.match(_QUOTED, "a quoted string").group(1))

    def literal(self, binary: bool = False) -> bytes:
        """literal, or with ``binary`` also literal8 (``~{n}``, RFC 3516)."""
        m = self.match(_LITERAL, "a literal")
        if m.group(1) and not binary:
            self.pos = m.start()
            self.fail("a literal (literal8 is only valid for BINARY data)")
        return self.literal_data(int(m.group(2)))

    def string(self) -> bytes:
        c = self.peek()
        if c == 0x22:  # '"'
            return self.quoted()
        if c == 0x7B or c == 0x7E:  # '{' or '~'
            return self.literal()
        self.fail("a string")

    def astring(self) -> bytes:
        c = self.peek()
        if c == 0x22 or c == 0x7B or (c == 0x7E and self.buf.startswith(b"~{", self.pos)):
            return self.string()
        pattern = _LAX_ASTRING_ATOM if self.tol & _T_LAX_ATOM else _ASTRING_ATOM
        return self.match(pattern, "an astring").group()

    def try_nil(self) -> bool:
        m = _NIL.match(self.buf, self.pos)
        if m is None:
            return False
        self.pos = m.end()
        return True

    def nstring(self) -> bytes | None:
        if self.try_nil():
            return None
        return self.string()

    def nstring8(self) -> bytes | None:
        """nstring / literal8 (BINARY[...] data, METADATA values)."""
        if self.try_nil():
            return None
        if self.buf.startswith(b"~{", self.pos):
            return self.literal(binary=True)
        return self.string()

    def flag_list(self) -> tuple[bytes, ...]:
        """flag-list = "(" [flag *(SP flag)] ")" (also flag-perm for PERMANENTFLAGS)."""
        m = _FLAG_LIST.match(self.buf, self.pos)
        if m is None and self.tol & _T_BRACKET_IN_FLAG:
            m = _FLAG_LIST_BRACKET.match(self.buf, self.pos)
        if m is None and self.tol & _T_LAX_ATOM:
            m = _FLAG_LIST_LAX.match(self.buf, self.pos)
        if m is None:
            self.fail("a flag list")
        self.pos = m.end()
        content = m.group(1)
        return tuple(content.split(b" ")) if content else ()

    def sequence_set(self) -> SequenceSet:
        """sequence-set as it appears in responses (no "*")."""
        text = self.match(_SEQUENCE_SET, "a sequence set").group()
        ranges = []
        for part in text.split(b","):
            a, sep, b = part.partition(b":")
            ranges.append((int(a), int(b) if sep else int(a)))
        return SequenceSet(ranges)

    def value(self) -> Any:
        """Any generic value: a list (tuple), string, number, NIL (None) or atom (bytes).

        Used for data whose structure is generic or unknown (BODYSTRUCTURE, THREAD,
        NAMESPACE, ENVELOPE before shaping, unknown FETCH items and response data).
        """
        if self.peek() == 0x28:  # "("
            return self.paren_list()
        m = _LIST_ITEM.match(self.buf, self.pos)
        if m is None:
            self.fail("a value")
        self.pos = m.end()
        return self.list_item(m)

    def list_item(self, m: re.Match[bytes]) -> Any:
        """The value of one _LIST_ITEM match (a string, literal, number, NIL or atom)."""
        kind = m.lastgroup
        if kind == "quoted":
            return _unquote(m.group("quoted"))
        if kind == "literal":
            return self.literal_data(int(m.group("size")))
        token = m.group()
        if _DIGITS_ONLY.match(token):
            return int(token)
        tol = self.tol
        if token[0] == 0x2D and tol & _T_NEGATIVE_NUMBER and _DIGITS_ONLY.match(token, 1):
            return int(token)
        if tol & _T_NUMBER_NOTATION and _NOTATION_NUMBER.fullmatch(token):
            value = _notation_to_int(token)
            if value is not None and (value >= 0 or tol & _T_NEGATIVE_NUMBER):
                return value
        if len(token) == 3 and token.upper() == b"NIL":
            return None
        return token

    def paren_list(self) -> tuple[Any, ...]:
        """A parenthesised list of generic values, read in one loop with an explicit
        stack (no recursion, so nesting is bounded only by ``max_depth``).

        Items are separated by one SP; lists may follow a list directly (``1*body`` in
        body-type-mpart, thread-list). TRAILING_SPACE tolerates extra spaces.
        """
        buf = self.buf
        end = len(buf)
        lax_spaces = bool(self.tol & _T_TRAILING_SPACE)
        max_depth = self.limits.max_depth
        self.expect(b"(")
        self.enter()
        pos = self.pos
        stack: list[list[Any]] = []
        items: list[Any] = []
        after_item = False  # an item was just read: a separator or ")" must follow
        after_space = False
        while True:
            if pos >= end:
                self.pos = pos
                self.fail("')'")
            c = buf[pos]
            if c == 0x29:  # ")"
                if after_space and not lax_spaces:
                    self.pos = pos
                    self.fail("a value after the space")
                finished = tuple(items)
                pos += 1
                self.depth -= 1
                if not stack:
                    self.pos = pos
                    return finished
                items = stack.pop()
                items.append(finished)
                after_item, after_space = True, False
                continue
            if after_item:
                if c == 0x20:
                    pos += 1
                    if lax_spaces:
                        while pos < end and buf[pos] == 0x20:
                            pos += 1
                    after_item, after_space = False, True
                    continue
                if not (c == 0x28 and type(items[-1]) is tuple):
                    self.pos = pos
                    self.fail("a space or ')'")
            if c == 0x28:  # "("
                stack.append(items)
                items = []
                self.depth += 1
                if self.depth > max_depth:
                    self.pos = pos
                    self.enter()  # raises the limit error
                pos += 1
                after_item = after_space = False
                continue
            m = _LIST_ITEM.match(buf, pos)
            if m is None:
                self.pos = pos
                self.fail("a value")
            item_end = m.end()
            kind = m.lastgroup
            # The common kinds inline (this loop reads every ENVELOPE and BODYSTRUCTURE);
            # literals and the tolerated forms go through list_item().
            if kind == "quoted":
                text = m.group("quoted")
                items.append(_unquote(text) if b"\\" in text else text)
                pos = item_end
            else:
                token = m.group()
                if kind == "token" and token.isdigit() and len(token) <= 20:
                    items.append(int(token))
                    pos = item_end
                elif kind == "token" and token in _NIL_TOKENS:
                    items.append(None)
                    pos = item_end
                else:
                    self.pos = item_end
                    items.append(self.list_item(m))
                    pos = self.pos
            after_item, after_space = True, False

    # -- response-level rules ------------------------------------------------------------

    def response(self) -> Response:
        """response = continue-req / response-data / response-tagged (and greeting)."""
        c = self.peek()
        if c == 0x2A:  # "*"
            self.pos = 1
            self.sp()
            return self.response_data()
        if c == 0x2B:  # "+"
            return self.continue_req()
        tag = self.match(_TAG, "a tag or '*' or '+'").group()
        self.sp()
        status = self.atom().upper()
        if status not in (b"OK", b"NO", b"BAD"):
            self.fail("OK, NO or BAD in a tagged response")
        return self.resp_cond(tag, status)

    def continue_req(self) -> ContinuationRequest:
        self.expect(b"+")
        if self.at_end():
            if not self.tol & _T_BARE_CONTINUATION:
                self.fail("a space after '+'")
            return ContinuationRequest(b"")
        self.sp()
        return ContinuationRequest(self.rest())

    def resp_cond(self, tag: bytes | None, status: bytes) -> StatusResponse:
        """resp-cond-state / resp-cond-bye / resp-cond-auth after the status word."""
        code: ResponseCode | None = None
        if self.at_end():
            if not self.tol & _T_MISSING_RESP_TEXT:
                self.fail("a space and text after the status")
            return StatusResponse(tag, status, None, b"")
        self.sp()
        if self.peek() == 0x5B:  # "["
            code = self.resp_text_code()
            if self.at_end():
                if not self.tol & _T_MISSING_RESP_TEXT:
                    self.fail("text after the response code")
                return StatusResponse(tag, status, code, b"")
            self.sp()
        return StatusResponse(tag, status, code, self.rest())

    def resp_text_code(self) -> ResponseCode:
        self.expect(b"[")
        name = self.match(_CODE_NAME, "a response code").group().upper()
        if self.try_token(b"]"):
            if name in _RESP_CODE_PARSERS and name not in _OPTIONAL_ARGUMENT_CODES:
                if not self.tol & _T_MALFORMED_RESP_CODE:
                    self.pos -= 1
                    self.fail(f"the argument of response code {name.decode()}")
            return ResponseCode(name)
        if not self.try_sp():
            self.fail("']' or a space after the response code")
        start = self.pos
        parse = _RESP_CODE_PARSERS.get(name)
        if parse is not None:
            try:
                value = parse(self)
                if self.peek() != 0x5D:  # "]"
                    self.fail("']' closing the response code")
            except ProtocolError:
                if not self.tol & _T_MALFORMED_RESP_CODE:
                    raise
                self.pos = start
                value = None
                self.match(_CODE_RAW, "the response code's text")
            raw = self.text(start, self.pos)
            self.expect(b"]")
            return ResponseCode(name, value, raw)
        raw = self.match(_CODE_RAW, "the response code's text").group()
        self.expect(b"]")
        return ResponseCode(name, raw, raw)

    def response_data(self) -> StatusResponse | UntaggedResponse:
        """response-data = "*" SP (resp-cond-state / resp-cond-bye / mailbox-data /
        message-data / capability-data / enable-data / ...)."""
        m = _NUMBER.match(self.buf, self.pos)
        if m is not None:
            number = int(m.group())
            self.pos = m.end()
            self.sp()
            name = self.atom().upper()
            if name == b"FETCH":
                self.sp()
                items = self.msg_att()
                self.end()
                return UntaggedResponse(name, number, items)
            if name not in (b"EXISTS", b"RECENT", b"EXPUNGE"):
                data = self.rest().lstrip(b" ") or None
                return UntaggedResponse(name, number, data)
            self.end()
            return UntaggedResponse(name, number, None)
        name = self.atom().upper()
        if name in _STATUS_WORDS:
            return self.resp_cond(None, name)
        if name in _NUMBERED:
            self.fail(f"a message number before {name.decode()}")
        handler = _DATA_PARSERS.get(name)
        if handler is None:
            self.try_sp()
            return UntaggedResponse(name, None, self.rest())
        if self.at_end():
            data = handler(self, True)
        else:
            self.sp()
            data = handler(self, False)
        self.end()
        return UntaggedResponse(name, None, data)

    # -- mailbox-data -----------------------------------------------------------------

    def capability_data(self, empty: bool) -> tuple[bytes, ...]:
        if empty:
            return ()
        return tuple(self.rest().upper().split())

    def flags_data(self, empty: bool) -> tuple[bytes, ...]:
        if empty:
            self.fail("a flag list")
        return self.flag_list()

    def mailbox_list(self, empty: bool) -> MailboxList:
        """mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil)
        SP mailbox [SP mbox-list-extended]"""
        if empty:
            self.fail("a mailbox list")
        flags = self.flag_list()
        self.sp()
        delimiter = None if self.try_nil() else self.quoted()
        if delimiter is not None and len(delimiter) != 1:
            self.fail("a one-character hierarchy delimiter")
        self.sp()
        name = self.astring()
        extended: dict[bytes, Any] = {}
        if self.buf.startswith(b" (", self.pos):
            self.pos += 1
            for item in self.paren_list_pairs():
                extended[item[0]] = item[1]
        return MailboxList(flags, delimiter, name, extended)

    def paren_list_pairs(self) -> list[tuple[bytes, Any]]:
        """mbox-list-extended = "(" [item *(SP item)] ")"; item = tag SP value."""
        items = self.paren_list()
        if len(items) % 2:
            self.fail("pairs of LIST-EXTENDED items")
        pairs = []
        for i in range(0, len(items), 2):
            key = items[i]
            if not isinstance(key, bytes):
                self.fail("a LIST-EXTENDED item name")
            pairs.append((key.upper(), items[i + 1]))
        return pairs

    def status_value(self) -> int | bytes:
        """A STATUS item's value: a number, or ``"(" objectid ")"`` (MAILBOXID)."""
        if self.peek() == 0x28:
            self.expect(b"(")
            value = self.astring()
            self.expect(b")")
            return value
        return self.number()

    def status_data(self, empty: bool) -> MailboxStatus:
        """ "STATUS" SP mailbox SP "(" [status-att-list] ")\""""
        if empty:
            self.fail("a mailbox name")
        name = self.astring()
        self.sp()
        self.expect(b"(")
        items: dict[bytes, int | bytes] = {}
        if not self.try_token(b")"):
            while True:
                key = self.atom().upper()
                self.sp()
                items[key] = self.status_value()
                if self.try_token(b")"):
                    break
                self.sp()
        return MailboxStatus(name, items)

    def search_data(self, empty: bool) -> SearchIds:
        """ "SEARCH" *(SP nz-number) [SP "(" "MODSEQ" SP mod-sequence-value ")"]; also SORT."""
        if empty:
            return SearchIds()
        m = _SEARCH_DATA.match(self.buf, self.pos - 1)  # include the space just consumed
        if m is None or (m.group(0).endswith(b" ") and not self.tol & _T_TRAILING_SPACE):
            self.fail("message numbers")
        self.pos = len(self.buf)
        ids = SearchIds(map(int, m.group(1).split()))
        if m.group(2) is not None:
            ids.modseq = int(m.group(2))
        return ids

    def esearch_response(self, empty: bool) -> ESearchResponse:
        """ "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)"""
        tag: bytes | None = None
        uid = False
        items: dict[bytes, Any] = {}
        if empty:
            return ESearchResponse(tag, uid, items)
        if self.peek() == 0x28:
            self.expect(b"(")
            word = self.atom().upper()
            if word != b"TAG":
                self.fail("TAG in the search correlator")
            self.sp()
            tag = self.string()
            while self.try_sp():  # RFC 7377 adds MAILBOX/UIDVALIDITY to the correlator
                key = self.atom().upper()
                self.sp()
                items[b"CORRELATOR-" + key] = self.astring()
            self.expect(b")")
            if not self.try_sp():
                return ESearchResponse(tag, uid, items)
        first = True
        while not self.at_end():
            key = self.atom().upper()
            if key == b"UID" and first:
                uid = True
            else:
                self.sp()
                items[key] = self.search_return_data(key)
            first = False
            if not self.try_sp():
                break
        return ESearchResponse(tag, uid, items)

    def search_return_data(self, key: bytes) -> Any:
        if key in (b"MIN", b"MAX", b"COUNT", b"MODSEQ"):
            return self.number()
        if key == b"ALL":
            return self.sequence_set()
        if key == b"PARTIAL":  # RFC 9394: "(" range SP (sequence-set / "NIL") ")"
            self.expect(b"(")
            low, _, high = (
                self.match(_SIGNED_NUMBER_RANGE, "a partial range").group().partition(b":")
            )
            self.sp()
            found = None if self.try_nil() else self.sequence_set()
            self.expect(b")")
            return ((int(low), int(high)), found)
        return self.value()

    def thread_data(self, empty: bool) -> tuple[Any, ...]:
        """ "THREAD" [SP 1*thread-list]"""
        threads: list[Any] = []
        while not empty and self.peek() == 0x28:
            thread = self.paren_list()
            if not _valid_thread(thread):
                self.fail("a thread list of message numbers")
            threads.append(thread)
        return tuple(threads)

    def namespace_response(self, empty: bool) -> Namespace:
        """ "NAMESPACE" SP namespace SP namespace SP namespace"""
        if empty:
            self.fail("namespaces")
        parts: list[tuple[tuple[Any, Any], ...] | None] = []
        for i in range(3):
            if i:
                self.sp()
            if self.try_nil():
                parts.append(None)
                continue
            descs = self.paren_list()
            entries = []
            for desc in descs:
                if not isinstance(desc, tuple) or len(desc) < 2:
                    self.fail("a namespace description")
                entries.append((desc[0], desc[1]))
            parts.append(tuple(entries))
        return Namespace(parts[0], parts[1], parts[2])

    def enable_data(self, empty: bool) -> tuple[bytes, ...]:
        return () if empty else tuple(self.rest().upper().split())

    def id_response(self, empty: bool) -> dict[bytes, bytes | None] | None:
        """ "ID" SP id-params-list (RFC 2971): NIL or a list of key/value pairs."""
        if empty or self.try_nil():
            return None
        items = self.paren_list()
        if len(items) % 2:
            self.fail("ID key/value pairs")
        out: dict[bytes, bytes | None] = {}
        for i in range(0, len(items), 2):
            key, value = items[i], items[i + 1]
            if isinstance(key, int):
                key = str(key).encode()
            if isinstance(value, int):
                value = str(value).encode()
            if not isinstance(key, bytes) or not (value is None or isinstance(value, bytes)):
                self.fail("ID strings")
            out[key] = value
        return out

    def vanished_response(self, empty: bool) -> Vanished:
        """ "VANISHED" [SP "(EARLIER)"] SP known-uids (RFC 7162)."""
        if empty:
            self.fail("UIDs")
        earlier = False
        if self.try_token(b"("):
            if self.atom().upper() != b"EARLIER":
                self.fail("EARLIER")
            self.expect(b")")
            self.sp()
            earlier = True
        return Vanished(earlier, self.sequence_set())

    def acl_data(self, empty: bool) -> tuple[bytes, tuple[tuple[bytes, bytes], ...]]:
        """ "ACL" SP mailbox *(SP identifier SP rights) (RFC 4314)."""
        if empty:
            self.fail("a mailbox name")
        mailbox = self.astring()
        pairs = []
        while self.try_sp():
            if self.at_end():
                break
            who = self.astring()
            self.sp()
            pairs.append((who, self.astring()))
        return mailbox, tuple(pairs)

    def listrights_data(self, empty: bool) -> tuple[bytes, bytes, bytes, tuple[bytes, ...]]:
        """ "LISTRIGHTS" SP mailbox SP identifier SP rights *(SP rights)"""
        if empty:
            self.fail("a mailbox name")
        mailbox = self.astring()
        self.sp()
        who = self.astring()
        self.sp()
        required = self.astring()
        optional = []
        while self.try_sp() and not self.at_end():
            optional.append(self.astring())
        return mailbox, who, required, tuple(optional)

    def myrights_data(self, empty: bool) -> tuple[bytes, bytes]:
        """ "MYRIGHTS" SP mailbox SP rights"""
        if empty:
            self.fail("a mailbox name")
        mailbox = self.astring()
        self.sp()
        return mailbox, self.astring()

    def quota_response(self, empty: bool) -> tuple[bytes, tuple[tuple[bytes, int, int], ...]]:
        """ "QUOTA" SP astring SP quota-list (RFC 9208)."""
        if empty:
            self.fail("a quota root")
        root = self.astring()
        if self.at_end() and self.tol & _T_MISSING_QUOTA_LIST:
            return root, ()
        self.sp()
        items = self.paren_list()
        if len(items) % 3:
            self.fail("quota resource triples")
        triples = []
        for i in range(0, len(items), 3):
            name, usage, limit = items[i : i + 3]
            if not (isinstance(name, bytes) and isinstance(usage, int) and isinstance(limit, int)):
                self.fail("a quota resource, usage and limit")
            triples.append((name.upper(), usage, limit))
        return root, tuple(triples)

    def quotaroot_response(self, empty: bool) -> tuple[bytes, tuple[bytes, ...]]:
        """ "QUOTAROOT" SP mailbox *(SP astring)"""
        if empty:
            self.fail("a mailbox name")
        mailbox = self.astring()
        roots = []
        while self.try_sp() and not self.at_end():
            roots.append(self.astring())
        return mailbox, tuple(roots)

    def metadata_resp(self, empty: bool) -> tuple[bytes, Any]:
        """ "METADATA" SP mailbox SP (entry-values / entry-list) (RFC 5464).

        entry-values gives a dict of entry -> value (None for NIL); an unsolicited
        entry-list gives a tuple of entry names."""
        if empty:
            self.fail("a mailbox name")
        mailbox = self.astring()
        self.sp()
        if self.try_token(b"("):
            self.enter()
            values: dict[bytes, bytes | None] = {}
            while True:
                entry = self.astring()
                self.sp()
                values[entry] = self.nstring8()
                if self.try_token(b")"):
                    break
                self.sp()
            self.depth -= 1
            return mailbox, values
        entries = [self.astring()]
        while self.try_sp() and not self.at_end():
            entries.append(self.astring())
        return mailbox, tuple(entries)

    # -- message-data: FETCH (RFC 9051 section 7.5.2) ---------------------------------

    def msg_att(self) -> dict[bytes, Any]:
        """msg-att = "(" (msg-att-dynamic / msg-att-static) *(SP ...) ")".

        Keys are the item names upper-cased as the server sent them, section and origin
        included: ``b'BODY[HEADER.FIELDS (SUBJECT)]'``, ``b'BODY[]<0>'``.
        """
        self.expect(b"(")
        self.enter()
        items: dict[bytes, Any] = ResponseDict()
        if self.try_token(b")"):
            self.depth -= 1
            return items
        buf = self.buf
        name_re = _MSG_ATT_NAME
        number_re = _NUMBER_ITEM
        while True:
            m = name_re.match(buf, self.pos)
            if m is None:
                self.fail("a FETCH data item and a space")
            self.pos = m.end()
            name, section = m.group(1, 2)
            name = name.upper()
            if section is None:
                key = name
                reader = _FETCH_ITEMS.get(name, _Cursor.value)
            else:
                key = name + section.upper()
                if b'"' in section:  # HEADER.FIELDS ("SUBJECT") (Courier): one spelling
                    key = _QUOTED_FIELD.sub(rb"\1", key)
                reader = _FETCH_SECTION_ITEMS.get(name, _Cursor.value)
            if reader is _READ_NUMBER and (n := number_re.match(buf, self.pos)) is not None:
                items[key] = int(n.group())  # the common case, without a method call
                self.pos = n.end()
            elif self.tol & _T_UNPARSED_FETCH_ITEM:
                items[key] = self.fetch_item_or_unparsed(reader)
            else:
                items[key] = reader(self)
            separator = buf[self.pos : self.pos + 1]
            self.pos += 1
            if separator == b")":
                break
            if separator != b" ":
                self.pos -= 1
                self.fail("a space or ')' after a FETCH data item")
        self.depth -= 1
        return items

    def fetch_item_or_unparsed(self, reader: Callable[[_Cursor], Any]) -> Any:
        """Read one FETCH item's value; if it is malformed but still one well-formed
        generic value (balanced lists, valid strings), keep it as Unparsed."""
        start, depth = self.pos, self.depth
        try:
            return reader(self)
        except LimitExceededError:
            raise
        except ProtocolError as exc:
            self.pos, self.depth = start, depth
            try:
                self.value()
            except ProtocolError:
                raise exc from None
            return Unparsed(self.text(start, self.pos), str(exc))

    def fetch_flags(self) -> tuple[bytes, ...]:
        return self.flag_list()

    def fetch_date(self) -> datetime | bytes:
        """date-time: an aware datetime; the raw string if it cannot be parsed."""
        m = _INTERNALDATE.match(self.buf, self.pos)
        if m is not None:  # the canonical form, parsed without the general date parser
            value = internaldate(m.groups())
            if value is not None:  # None: e.g. 31-Feb, the general parser decides
                self.pos = m.end()
                return value
        raw = self.string()
        try:
            return parse_to_datetime(raw, normalise=False)
        except ValueError:
            return raw

    def fetch_paren_number(self) -> int:
        """MODSEQ: "(" mod-sequence-value ")"."""
        self.expect(b"(")
        n = self.number()
        self.expect(b")")
        return n

    def fetch_objectid(self) -> bytes | None:
        """EMAILID/THREADID: "(" objectid ")" or NIL (RFC 8474)."""
        if self.try_nil():
            return None
        self.expect(b"(")
        value = self.astring()
        self.expect(b")")
        return value

    def fetch_labels(self) -> tuple[bytes, ...]:
        """X-GM-LABELS: a list of astrings (labels with spaces are quoted)."""
        self.expect(b"(")
        self.enter()
        labels = []
        if not self.try_token(b")"):
            while True:
                if self.peek() == 0x5C:  # "\Important": flag-like labels
                    self.pos += 1
                    labels.append(b"\\" + self.astring())
                else:
                    labels.append(self.astring())
                if self.try_token(b")"):
                    break
                self.sp()
        self.depth -= 1
        return tuple(labels)

    def envelope(self) -> Envelope:
        """envelope = "(" env-date SP env-subject SP env-from SP env-sender SP
        env-reply-to SP env-to SP env-cc SP env-bcc SP env-in-reply-to SP
        env-message-id ")" -- read as a generic list, then checked and shaped."""
        if self.peek() != 0x28:
            self.fail("an envelope")
        raw = self.paren_list()
        if len(raw) != 10:
            self.fail("an envelope of 10 fields")
        raw_date, subject, *addresses, in_reply_to, message_id = raw
        for field in (raw_date, subject, in_reply_to, message_id):
            if field is not None and type(field) is not bytes:
                self.fail("a string or NIL in an envelope")
        from_, sender, reply_to, to, cc, bcc = (self.env_addresses(a) for a in addresses)
        date = None
        if raw_date:
            try:
                date = parse_to_datetime(raw_date, normalise=False)
            except ValueError:
                date = None
        return Envelope(
            date, subject, from_, sender, reply_to, to, cc, bcc, in_reply_to, message_id
        )

    def env_addresses(self, raw: Any) -> tuple[Address, ...] | None:
        """env-from and the like: ``"(" 1*address ")"`` or NIL, each address being
        ``"(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"``."""
        if raw is None:
            return None
        if type(raw) is not tuple or not raw:
            self.fail("a list of addresses or NIL")
        out = []
        for address in raw:
            if type(address) is not tuple or len(address) != 4:
                self.fail("an address of 4 fields")
            for part in address:
                if part is not None and type(part) is not bytes:
                    self.fail("a string or NIL in an address")
            out.append(Address(*address))
        return tuple(out)

    def body(self) -> BodyData:
        """body = "(" (body-type-1part / body-type-mpart) ")", read generically and then
        shaped and checked."""
        if self.peek() != 0x28:
            self.fail("a body structure")
        return self.shape_body(self.paren_list())

    def shape_body(self, raw: tuple[Any, ...]) -> BodyData:
        if raw and isinstance(raw[0], tuple):  # body-type-mpart: 1*body SP media-subtype
            parts = []
            i = 0
            while i < len(raw) and isinstance(raw[i], tuple):
                parts.append(self.shape_body(raw[i]))
                i += 1
            nil_ok = bool(self.tol & _T_NIL_FOR_STRING)
            if i == len(raw) or not (isinstance(raw[i], bytes) or (raw[i] is None and nil_ok)):
                self.fail("the media subtype of a multipart body")
            return BodyData((parts, *raw[i:]))
        if len(raw) < 7:
            self.fail("a body with at least 7 fields")
        fields = list(raw)
        for index in (0, 1, 5):  # type, subtype, encoding must be strings
            if fields[index] is None and not self.tol & _T_NIL_FOR_STRING:
                self.fail("a string in a body structure, not NIL")
        for index in self.body_number_fields(fields):
            n = fields[index]
            if not isinstance(n, int):
                if n is None and self.tol & _T_NIL_FOR_STRING:
                    continue
                self.fail("a number in a body structure")
            if n < 0 and not self.tol & _T_NEGATIVE_NUMBER:
                self.fail("a non-negative number in a body structure")
        if _is_message_rfc822(fields) and len(fields) > 8 and isinstance(fields[8], tuple):
            fields[8] = self.shape_body(fields[8])
        return BodyData(fields)

    @staticmethod
    def body_number_fields(fields: list[Any]) -> tuple[int, ...]:
        media = fields[0].upper() if isinstance(fields[0], bytes) else b""
        if media == b"TEXT" and len(fields) > 7:
            return (6, 7)
        if _is_message_rfc822(fields) and len(fields) > 9:
            return (6, 9)
        return (6,)


def _valid_thread(thread: tuple[Any, ...]) -> bool:
    """thread-list: a non-empty list of nz-numbers and nested thread lists."""
    if not thread:
        return False
    for member in thread:
        if type(member) is int:
            if member <= 0:
                return False
        elif not (type(member) is tuple and _valid_thread(member)):
            return False
    return True


def _is_message_rfc822(fields: list[Any]) -> bool:
    return (
        isinstance(fields[0], bytes)
        and isinstance(fields[1], bytes)
        and fields[0].upper() == b"MESSAGE"
        and fields[1].upper() in (b"RFC822", b"GLOBAL")
    )


_SIGNED_NUMBER_RANGE = re.compile(rb"-?\d{1,20}:-?\d{1,20}(?!\d)")


# --- response code arguments ------------------------------------------------------------


def _code_flags(c: _Cursor) -> tuple[bytes, ...]:
    return c.flag_list()


def _code_int(c: _Cursor) -> int:
    return c.number()


def _code_capability(c: _Cursor) -> tuple[bytes, ...]:
    return tuple(c.match(_CODE_RAW, "capabilities").group().upper().split())


def _code_badcharset(c: _Cursor) -> tuple[bytes, ...]:
    c.expect(b"(")
    charsets = [c.astring()]
    while c.try_sp():
        charsets.append(c.astring())
    c.expect(b")")
    return tuple(charsets)


def _code_appenduid(c: _Cursor) -> AppendUid:
    uidvalidity = c.number()
    c.sp()
    return AppendUid(uidvalidity, c.sequence_set())


def _code_copyuid(c: _Cursor) -> CopyUid:
    uidvalidity = c.number()
    c.sp()
    source = c.sequence_set()
    c.sp()
    return CopyUid(uidvalidity, source, c.sequence_set())


def _code_modified(c: _Cursor) -> SequenceSet:
    return c.sequence_set()


_RESP_CODE_PARSERS: dict[bytes, Callable[[_Cursor], Any]] = {
    b"PERMANENTFLAGS": _code_flags,
    b"CAPABILITY": _code_capability,
    b"BADCHARSET": _code_badcharset,
    b"APPENDUID": _code_appenduid,
    b"COPYUID": _code_copyuid,
    b"MODIFIED": _code_modified,
    **{name: _code_int for name in _INT_CODES},
}

_DATA_PARSERS: dict[bytes, Callable[[_Cursor, bool], Any]] = {
    b"CAPABILITY": _Cursor.capability_data,
    b"FLAGS": _Cursor.flags_data,
    b"LIST": _Cursor.mailbox_list,
    b"LSUB": _Cursor.mailbox_list,
    b"XLIST": _Cursor.mailbox_list,
    b"STATUS": _Cursor.status_data,
    b"SEARCH": _Cursor.search_data,
    b"SORT": _Cursor.search_data,
    b"ESEARCH": _Cursor.esearch_response,
    b"THREAD": _Cursor.thread_data,
    b"NAMESPACE": _Cursor.namespace_response,
    b"ENABLED": _Cursor.enable_data,
    b"ID": _Cursor.id_response,
    b"VANISHED": _Cursor.vanished_response,
    b"ACL": _Cursor.acl_data,
    b"LISTRIGHTS": _Cursor.listrights_data,
    b"MYRIGHTS": _Cursor.myrights_data,
    b"QUOTA": _Cursor.quota_response,
    b"QUOTAROOT": _Cursor.quotaroot_response,
    b"METADATA": _Cursor.metadata_resp,
}

_FETCH_ITEMS: dict[bytes, Callable[[_Cursor], Any]] = {
    b"FLAGS": _Cursor.fetch_flags,
    b"INTERNALDATE": _Cursor.fetch_date,
    b"SAVEDATE": _Cursor.value,
    b"RFC822.SIZE": _Cursor.number,
    b"UID": _Cursor.number,
    b"X-GM-MSGID": _Cursor.number,
    b"X-GM-THRID": _Cursor.number,
    b"MODSEQ": _Cursor.fetch_paren_number,
    b"EMAILID": _Cursor.fetch_objectid,
    b"THREADID": _Cursor.fetch_objectid,
    b"X-GM-LABELS": _Cursor.fetch_labels,
    b"RFC822": _Cursor.nstring,
    b"RFC822.HEADER": _Cursor.nstring,
    b"RFC822.TEXT": _Cursor.nstring,
    b"ENVELOPE": _Cursor.envelope,
    b"BODY": _Cursor.body,
    b"BODYSTRUCTURE": _Cursor.body,
    b"PREVIEW": _Cursor.nstring,
}

_READ_NUMBER = _Cursor.number

_FETCH_SECTION_ITEMS: dict[bytes, Callable[[_Cursor], Any]] = {
    b"BODY": _Cursor.nstring,
    b"BINARY": _Cursor.nstring8,
    b"BINARY.SIZE": _Cursor.number,
}


class Parser:
    """Parses complete responses with fixed limits and tolerances.

    FETCH responses with the same items as the previous one are first offered to that
    item sequence's compiled reader (:mod:`.fastfetch`); whatever it declines is read
    by the general parser, which gives equal values for everything both accept.
    """

    __slots__ = ("_hits", "_misses", "_rejected", "_shape", "limits", "tolerances")

    def __init__(
        self, limits: Limits = DEFAULT_LIMITS, tolerances: Tolerance = DEFAULT_TOLERANCES
    ) -> None:
        self.limits = limits
        self.tolerances = tolerances
        self._shape: Shape | None = None
        self._hits = self._misses = 0
        self._rejected: set[tuple[bytes, ...]] = set()

    def parse(self, data: bytes, literals: Literals | None = None) -> Response:
        """Parse one complete response; raise ProtocolError if it is malformed.

        ``literals`` holds the literal data :meth:`.Framer.next_frame` kept out of
        ``data``."""
        if not data:
            raise ProtocolError("empty line from server")
        shape = self._shape
        if shape is not None and data[0] == 0x2A:  # "*"
            fast = shape.read(data, self.limits.max_depth, literals)
            if fast is not None:
                self._hits += 1
                return UntaggedResponse(b"FETCH", fast[0], fast[1])
        try:
            response = _Cursor(data, self.limits, self.tolerances, literals).response()
        except RecursionError:
            # Only reachable when max_depth is set beyond what the interpreter's stack
            # allows; the response is still too deeply nested to accept.
            raise LimitExceededError(
                "server response nests lists deeper than the interpreter allows",
                limit="max_depth",
            ) from None
        if type(response) is UntaggedResponse and response.name == b"FETCH":
            self._learn(tuple(response.data))
        return response

    def take_fetch_lines(
        self, framer: Framer, local_times: bool = False, literals: bool = True
    ) -> list[tuple[int, ResponseDict]]:
        """The FETCH responses at the front of ``framer``'s buffer that the current
        shape reads whole, without framing them one by one (see
        :meth:`.Framer.take_lines`); ``(message number, items)`` each. With
        ``local_times``, INTERNALDATE comes as naive local time (see
        :class:`.fastfetch.Shape`); without ``literals``, no response with a literal is
        taken (one the framer may have to stream to a sink)."""
        shape = self._shape
        if shape is None or (shape.literals and not literals):
            return []
        read_line = shape.read_line_local if local_times else shape.read_line
        got = framer.take_lines(read_line, self.limits.max_depth)
        self._hits += len(got)
        return got

    def _learn(self, keys: tuple[bytes, ...]) -> None:
        shape = self._shape
        if shape is not None and shape.keys == keys:
            # Declined, yet the same items: stop trying a shape that mostly declines.
            self._misses += 1
            if self._misses >= 64 and self._misses > self._hits:
                self._rejected.add(keys)
                self._shape = None
            return
        if keys in self._rejected:
            self._shape = None
            return
        self._shape = shape_for(keys)
        self._hits = self._misses = 0


_DEFAULT_PARSER = Parser()


def parse_response(data: bytes, tolerances: Tolerance = DEFAULT_TOLERANCES) -> Response:
    """Parse one complete response (as returned by the framer) with default limits."""
    if tolerances == DEFAULT_TOLERANCES:
        return _DEFAULT_PARSER.parse(data)
    return Parser(tolerances=tolerances).parse(data)
