"""Searching and fetching messages, and NOOP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..datetime_util import datetime_to_native
from ..protocol.encoder import ArgList, Atom, Command
from ..protocol.responses import UntaggedResponse
from ..response_types import Envelope, ResponseDict, SearchIds
from ..search_criteria import normalise_criteria
from .base import (
    Context,
    Op,
    Request,
    check,
    join_message_ids,
    require_selected,
    untagged_as_tuple,
)


def _uid(ctx: Context, name: bytes) -> bytes:
    return b"UID " + name if ctx.use_uid else name


def search(ctx: Context, criteria: Any = "ALL", charset: str | None = None) -> Op[SearchIds]:
    """SEARCH; returns the matching message ids (UIDs when ``use_uid``), with
    ``.modseq`` set when the server reports one."""
    require_selected(ctx)
    args: list[Any] = []
    if charset:
        args += [Atom(b"CHARSET"), Atom(charset.encode("ascii"))]
    args += normalise_criteria(criteria, charset)
    pending = yield Request(Command(_uid(ctx, b"SEARCH"), args))
    check(pending)
    ids = SearchIds()
    for response in pending.untagged:
        if isinstance(response, UntaggedResponse) and response.name == b"SEARCH":
            ids.extend(response.data)
            if response.data.modseq is not None:
                ids.modseq = response.data.modseq
    return ids


def _fetch_items(data: Any) -> ArgList:
    if isinstance(data, (str, bytes)):
        data = [data]
    items = []
    for item in data:
        raw = item.encode("ascii") if isinstance(item, str) else item
        items.append(Atom(raw.upper() if b"[" not in raw else raw))
    if not items:
        raise ValueError("no FETCH data items given")
    return ArgList(items)


def fetch(
    ctx: Context, messages: Any, data: Any, modifiers: Any = None
) -> Op[dict[int, ResponseDict]]:
    """FETCH; returns ``{msgid: {item: value, ..., b'SEQ': seq}}``."""
    require_selected(ctx)
    message_set = join_message_ids(messages)
    if message_set is None:
        return {}
    args: list[Any] = [message_set, _fetch_items(data)]
    if modifiers:
        mods = [modifiers] if isinstance(modifiers, (str, bytes)) else modifiers
        args.append(ArgList([Atom(m.encode("ascii") if isinstance(m, str) else m) for m in mods]))
    pending = yield Request(Command(_uid(ctx, b"FETCH"), args))
    check(pending)
    out: dict[int, ResponseDict] = {}
    session = ctx._session
    for response in pending.untagged:
        if not isinstance(response, UntaggedResponse) or response.name != b"FETCH":
            continue
        items = response.data
        if ctx.use_uid:
            msgid = items.get(b"UID")
            if msgid is None:  # a flag update for another message: not ours
                session.unsolicited.append(response)
                continue
        else:
            msgid = response.number
        entry = out.get(msgid)
        if entry is None:
            entry = out[msgid] = ResponseDict()
        entry.update(items)
        entry[b"SEQ"] = response.number
        if ctx.normalise_times:
            _normalise_times(entry)
    return out


def _normalise_times(entry: ResponseDict) -> None:
    date = entry.get(b"INTERNALDATE")
    if isinstance(date, datetime) and date.tzinfo is not None:
        entry[b"INTERNALDATE"] = datetime_to_native(date)
    envelope = entry.get(b"ENVELOPE")
    if isinstance(envelope, Envelope) and envelope.date and envelope.date.tzinfo is not None:
        entry[b"ENVELOPE"] = envelope._replace(date=datetime_to_native(envelope.date))


def noop(ctx: Context) -> Op[tuple[bytes, list[tuple[Any, ...]]]]:
    """NOOP; returns ``(text, responses)`` with the status updates received, including
    any that arrived unsolicited before it."""
    pending = yield Request(Command(b"NOOP"))
    result = check(pending)
    session = ctx._session
    responses = [untagged_as_tuple(r) for r in session.unsolicited]
    session.unsolicited.clear()
    responses += [untagged_as_tuple(r) for r in pending.untagged]
    return result.text, responses
