"""Turning the caller's search criteria into safe SEARCH/SORT/THREAD arguments.

Criteria come in two styles, and both must keep working:

* a list of items, one token or argument each: ``['FROM', 'John Smith', 'SINCE',
  date(2024, 1, 2)]`` (today's usage; ``'John Smith'`` is an argument, sent quoted);
* strings holding several tokens: ``'NOT DELETED'``, ``['NOT DELETED']``,
  ``'SINCE 1-Feb-2011'`` (the older documentation).

So criteria are read with knowledge of the grammar (RFC 9051 section 6.4.4 and the
extensions): a string in *key position* is split into tokens, each key takes its
arguments from the rest of that string or, if the string ends, from the following items,
and an item in *argument position* is always one argument, encoded as an atom, quoted
string or literal as needed. Nothing the caller passes can end the command line early.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from .datetime_util import format_criteria_date
from .exceptions import InvalidCriteriaError
from .protocol.encoder import ArgList, Atom, Quoted

__all__ = ["normalise_criteria", "normalise_sort_criteria"]

_STRING = "string"
_DATE = "date"
_NUMBER = "number"
_SEQSET = "sequence-set"
_FLAG = "flag"

# Search keys and the kinds of their arguments.
_ARITY: dict[str, tuple[str, ...]] = {
    **{
        k: ()
        for k in (
            "ALL",
            "ANSWERED",
            "DELETED",
            "DRAFT",
            "FLAGGED",
            "NEW",
            "OLD",
            "RECENT",
            "SEEN",
            "UNANSWERED",
            "UNDELETED",
            "UNDRAFT",
            "UNFLAGGED",
            "UNSEEN",
            "NOT",
            "OR",
            "X-GM-UNREAD",
        )
    },
    **{
        k: (_STRING,)
        for k in (
            "BCC",
            "BODY",
            "CC",
            "FROM",
            "SUBJECT",
            "TEXT",
            "TO",
            "X-GM-RAW",
            "X-GM-LABELS",
            "EMAILID",
            "THREADID",
        )
    },
    **{k: (_FLAG,) for k in ("KEYWORD", "UNKEYWORD")},
    "HEADER": (_STRING, _STRING),
    **{
        k: (_DATE,)
        for k in (
            "BEFORE",
            "ON",
            "SINCE",
            "SENTBEFORE",
            "SENTON",
            "SENTSINCE",
            "SAVEDBEFORE",
            "SAVEDON",
            "SAVEDSINCE",
        )
    },
    **{
        k: (_NUMBER,)
        for k in (
            "LARGER",
            "SMALLER",
            "OLDER",
            "YOUNGER",
            "X-GM-MSGID",
            "X-GM-THRID",
        )
    },
    "UID": (_SEQSET,),
    "MODSEQ": (_NUMBER,),  # the optional entry-name/entry-type form is passed whole
}

_SEQSET_RE = re.compile(r"(?:\d+|\*)(?::(?:\d+|\*))?(?:,(?:\d+|\*)(?::(?:\d+|\*))?)*\Z")
_NUMBER_RE = re.compile(r"\d+\Z")
_TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"|\(|\)|[^\s()"]+')
_ATOM_RE = re.compile(r"[!#$&'+,\-./0-9:;<=>?@A-Z\[\]^_`a-z|}~]+\Z")
_FLAG_RE = re.compile(r"\\?[!#$&'+,\-./0-9:;<=>?@A-Z\[^_`a-z|}~]+\Z")
_DATE_RE = re.compile(r"\d{1,2}-[A-Za-z]{3}-\d{4}\Z")


def normalise_criteria(criteria: Any, charset: str | None = None) -> list[Any]:
    """Turn ``criteria`` into a list of encoder arguments.

    Raises :class:`InvalidCriteriaError` for empty or malformed criteria (before
    anything is sent) and ValueError for NUL. ``charset`` encodes str arguments
    (default UTF-8 when non-ASCII).
    """
    if criteria is None or (isinstance(criteria, (str, bytes, list, tuple)) and not criteria):
        raise InvalidCriteriaError("no search criteria specified")
    items = [criteria] if isinstance(criteria, (str, bytes, int, date)) else list(criteria)
    out: list[Any] = []
    _Reader(charset or "utf-8").read(items, out)
    return [_finish(arg) for arg in out]


def normalise_sort_criteria(criteria: Any) -> list[Any]:
    """SORT keys (RFC 5256): ``'ARRIVAL'``, ``['REVERSE', 'SIZE']``, ``'REVERSE DATE'``."""
    items = [criteria] if isinstance(criteria, (str, bytes)) else list(criteria)
    tokens: list[Any] = []
    for item in items:
        text = item.decode("ascii") if isinstance(item, bytes) else str(item)
        for token in text.split():
            if not _ATOM_RE.match(token):
                raise InvalidCriteriaError(f"invalid sort criterion {token!r}")
            tokens.append(Atom(token.upper().encode("ascii")))
    if not tokens:
        raise InvalidCriteriaError("no sort criteria specified")
    return tokens


class _Reader:
    def __init__(self, charset: str) -> None:
        self.charset = charset

    def read(self, items: Sequence[Any], out: list[Any]) -> None:
        queue: list[Any] = list(items)
        while queue:
            self._key(queue, out)

    def _key(self, queue: list[Any], out: list[Any]) -> None:
        item = queue.pop(0)
        if isinstance(item, (list, tuple)):
            inner: list[Any] = []
            self.read(item, inner)
            out.append(_Group(inner))
            return
        if isinstance(item, bool):
            raise InvalidCriteriaError(f"invalid search criterion {item!r}")
        if isinstance(item, int):
            out.append(Atom(str(item).encode("ascii")))  # a bare number is a sequence set
            return
        if isinstance(item, (date, datetime)):
            raise InvalidCriteriaError(f"a date must follow a date key, not stand alone: {item}")
        text = self._text(item)
        tokens = list(_tokens(text))
        if not tokens:
            raise InvalidCriteriaError(f"empty search criterion {item!r}")
        # Arguments still owed by the last key are taken from the following items.
        self._tokens(tokens, queue, out)

    def _tokens(self, tokens: list[str], queue: list[Any], out: list[Any]) -> None:
        stack: list[list[Any]] = [out]
        while tokens:
            token = tokens.pop(0)
            target = stack[-1]
            if token == "(":
                group = _Group()
                target.append(group)
                stack.append(group)
                continue
            if token == ")":
                if len(stack) == 1:
                    raise InvalidCriteriaError("unbalanced ')' in search criteria")
                stack.pop()
                continue
            key = token.upper()
            arity = _ARITY.get(key)
            if arity is None:
                target.append(self._bare(token))
                continue
            target.append(Atom(key.encode("ascii")))
            for kind in arity:
                if tokens:
                    target.append(self._argument(kind, _unquote_token(tokens.pop(0))))
                elif queue and len(stack) == 1:
                    target.append(self._argument(kind, queue.pop(0)))
                else:
                    raise InvalidCriteriaError(f"search key {key} needs a {kind} argument")
        if len(stack) != 1:
            raise InvalidCriteriaError("unbalanced '(' in search criteria")

    def _bare(self, token: str) -> Any:
        if _SEQSET_RE.match(token):
            return Atom(token.encode("ascii"))
        if _ATOM_RE.match(token):  # an extension's key we do not know: sent as given
            return Atom(token.encode("ascii"))
        raise InvalidCriteriaError(f"invalid search criterion {token!r}")

    def _argument(self, kind: str, value: Any) -> Any:
        if kind == _DATE:
            if isinstance(value, (date, datetime)):
                return Atom(format_criteria_date(value))
            text = self._text(value)
            if not _DATE_RE.match(text):
                raise InvalidCriteriaError(f"invalid date {text!r} (expected e.g. 1-Feb-2011)")
            return Atom(text.encode("ascii"))
        if kind == _NUMBER:
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
            text = self._text(value)
            if not _NUMBER_RE.match(text):
                raise InvalidCriteriaError(f"invalid number {text!r} in search criteria")
            return int(text)
        if kind == _SEQSET:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            text = self._text(value)
            if not _SEQSET_RE.match(text):
                raise InvalidCriteriaError(f"invalid message set {text!r}")
            return Atom(text.encode("ascii"))
        if kind == _FLAG:
            text = self._text(value)
            if not _FLAG_RE.match(text):
                raise InvalidCriteriaError(f"invalid keyword {text!r}")
            return Atom(text.encode("ascii"))
        if isinstance(value, bytes):
            return Quoted(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return Quoted(str(value).encode("ascii"))
        if isinstance(value, str):
            return Quoted(self._encode(value))
        raise InvalidCriteriaError(f"invalid search argument {value!r}")

    def _encode(self, text: str) -> bytes:
        try:
            return text.encode(self.charset)
        except LookupError:
            raise InvalidCriteriaError(f"unknown charset {self.charset!r}") from None
        except UnicodeEncodeError:
            raise InvalidCriteriaError(f"{text!r} cannot be encoded in {self.charset}") from None

    def _text(self, item: Any) -> str:
        if isinstance(item, bytes):
            try:
                return item.decode(self.charset)
            except (LookupError, UnicodeDecodeError):
                raise InvalidCriteriaError(
                    f"cannot read {item!r} as {self.charset} search criteria"
                ) from None
        if isinstance(item, str):
            return item
        if isinstance(item, int) and not isinstance(item, bool):
            return str(item)
        raise InvalidCriteriaError(f"invalid search criterion {item!r}")


class _Group(list[Any]):
    """A parenthesised group of criteria (encoded as an ArgList)."""


def _finish(arg: Any) -> Any:
    if isinstance(arg, _Group):
        if not arg:
            raise InvalidCriteriaError("empty '()' in search criteria")
        return ArgList([_finish(a) for a in arg])
    return arg


def _tokens(text: str) -> Iterator[str]:
    pos = 0
    for m in _TOKEN_RE.finditer(text):
        gap = text[pos : m.start()]
        if gap.strip():
            raise InvalidCriteriaError(f"cannot read search criteria {text!r}")
        pos = m.end()
        yield m.group()
    if text[pos:].strip():
        raise InvalidCriteriaError(f"cannot read search criteria {text!r}")


def _unquote_token(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] == '"':
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token
