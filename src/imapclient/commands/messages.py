"""Messages: search, sort, thread, fetch, flags, labels, append, copy, move, expunge."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from .. import imap_utf7
from ..datetime_util import datetime_to_INTERNALDATE, datetime_to_native
from ..exceptions import CapabilityError
from ..protocol.encoder import ArgList, Atom, Command, Flag, Literal, LiteralSource, Quoted
from ..protocol.framing import Writable
from ..protocol.responses import StatusResponse, UntaggedResponse
from ..protocol.session import PendingCommand
from ..protocol.tolerances import Tolerance
from ..response_types import Envelope, ResponseDict, SearchIds, SequenceSet
from ..search_criteria import normalise_criteria, normalise_sort_criteria
from .base import (
    Context,
    Op,
    Request,
    StatusText,
    capabilities,
    check,
    drain_unsolicited,
    encode_folder,
    join_message_ids,
    keep_unsolicited,
    message_route,
    require_capability,
    require_selected,
    require_writable,
    status_text,
    untagged_as_tuple,
)

Messages = Any  # an int, a sequence of ints, or a message-set string such as "2:*"
FlagsArg = Any  # a flag (str/bytes) or a sequence of flags


def _uid(ctx: Context, name: bytes) -> bytes:
    return b"UID " + name if ctx.use_uid else name


def _collect_ids(responses: Iterable[Any], name: bytes) -> SearchIds:
    ids = SearchIds()
    for response in responses:
        if isinstance(response, UntaggedResponse) and response.name == name:
            ids.extend(response.data)
            if response.data.modseq is not None:
                ids.modseq = response.data.modseq
    return ids


def _charset_args(charset: str | None) -> list[Any]:
    return [Atom(b"CHARSET"), Atom(charset.encode("ascii"))] if charset else []


def _criteria_charset(criteria: Any, charset: str | None) -> str | None:
    # Non-ASCII text needs a charset the server is told about; UTF-8 unless given.
    if charset:
        return charset
    return "UTF-8" if _has_non_ascii(criteria) else None


def _has_non_ascii(value: Any) -> bool:
    if isinstance(value, str):
        return not value.isascii()
    if isinstance(value, bytes):
        return not value.isascii()
    if isinstance(value, (list, tuple)):
        return any(_has_non_ascii(v) for v in value)
    return False


def search(ctx: Context, criteria: Any = "ALL", charset: str | None = None) -> Op[SearchIds]:
    """Message ids matching ``criteria`` (UIDs when ``use_uid``), as a list with a
    ``.modseq`` attribute (set when the server reports one, e.g. for MODSEQ criteria).

    ``criteria`` is a string (``'UNSEEN'``, ``'NOT DELETED'``), bytes, or a list of keys
    and arguments with nested lists for groups, ints, and dates/datetimes for date keys:
    ``['FROM', 'John Smith', 'SINCE', date(2024, 1, 2), ['OR', 'SEEN', 'FLAGGED']]``.
    Non-ASCII text is sent as a literal with ``charset`` (UTF-8 unless given).

    With ESEARCH (RFC 4731) the server answers with ranges (``1:100000``) rather than
    every id on one line; the result is the same list.
    """
    require_selected(ctx)
    charset = _criteria_charset(criteria, charset)
    args = _charset_args(charset) + normalise_criteria(criteria, charset)
    caps = yield from capabilities(ctx)
    if b"ESEARCH" in caps:
        items = yield from _esearch(ctx, args, (b"ALL",))
        return SearchIds(items.get(b"ALL") or (), items.get(b"MODSEQ"))
    pending = yield Request(Command(_uid(ctx, b"SEARCH"), args), claims=(b"SEARCH",))
    check(pending)
    return _collect_ids(pending.untagged, b"SEARCH")


def esearch(
    ctx: Context,
    criteria: Any = "ALL",
    returns: Sequence[str] = ("MIN", "MAX", "COUNT", "ALL"),
    charset: str | None = None,
) -> Op[ResponseDict]:
    """Search returning only what is asked for (RFC 4731 ESEARCH): ``{b'MIN': 1,
    b'MAX': 99000, b'COUNT': 5000, b'ALL': SequenceSet('1:4000,...')}``. ``ALL`` stays a
    :class:`~imapclient.SequenceSet` (ranges, never expanded), so this is the way to
    count or bound the matches in a very large mailbox."""
    require_selected(ctx)
    yield from require_capability(ctx, b"ESEARCH")
    charset = _criteria_charset(criteria, charset)
    args = _charset_args(charset) + normalise_criteria(criteria, charset)
    wanted = tuple(r.upper().encode("ascii") for r in returns)
    items = yield from _esearch(ctx, args, wanted)
    out = ResponseDict({key: None for key in wanted if key != b"ALL"})
    out.update(items)
    if b"ALL" in wanted:
        out.setdefault(b"ALL", SequenceSet(()))
    return out


def _esearch(ctx: Context, args: list[Any], returns: Sequence[bytes]) -> Op[dict[bytes, Any]]:
    command = Command(
        _uid(ctx, b"SEARCH"), [Atom(b"RETURN"), ArgList(list(map(Atom, returns))), *args]
    )
    pending = yield Request(command, claims=(b"ESEARCH", b"SEARCH"))
    check(pending)
    items: dict[bytes, Any] = {}
    for response in pending.untagged:
        if not isinstance(response, UntaggedResponse):
            continue
        if response.name == b"ESEARCH" and response.data.tag in (None, pending.tag):
            items.update(response.data.items)
        elif response.name == b"SEARCH":  # a server that ignored RETURN
            ids = response.data
            items[b"ALL"] = SequenceSet((i, i) for i in ids)
            if ids.modseq is not None:
                items[b"MODSEQ"] = ids.modseq
    return items


def gmail_search(ctx: Context, query: str | bytes, charset: str | None = "UTF-8") -> Op[SearchIds]:
    """Search with Gmail's ``X-GM-RAW`` syntax, e.g. ``'has:attachment in:unread'``."""
    return (yield from search(ctx, ["X-GM-RAW", query], charset))


def sort(
    ctx: Context, sort_criteria: Any, criteria: Any = "ALL", charset: str = "UTF-8"
) -> Op[SearchIds]:
    """Message ids matching ``criteria``, ordered by ``sort_criteria`` (RFC 5256), e.g.
    ``'ARRIVAL'``, ``['REVERSE', 'SIZE']`` or ``'REVERSE DATE'``."""
    require_selected(ctx)
    yield from require_capability(ctx, b"SORT")
    args = [
        ArgList(normalise_sort_criteria(sort_criteria)),
        Atom(charset.encode("ascii")),
        *normalise_criteria(criteria, charset),
    ]
    pending = yield Request(Command(_uid(ctx, b"SORT"), args), claims=(b"SORT",))
    check(pending)
    return _collect_ids(pending.untagged, b"SORT")


def thread(
    ctx: Context, algorithm: str = "REFERENCES", criteria: Any = "ALL", charset: str = "UTF-8"
) -> Op[tuple[Any, ...]]:
    """Threads of messages matching ``criteria`` (RFC 5256): a tuple of threads, each a
    tuple of message ids in which a nested tuple is a branch: ``((2,), (3, 6, (4, 23)))``."""
    require_selected(ctx)
    algo = algorithm.upper().encode("ascii")
    yield from require_capability(ctx, b"THREAD=" + algo)
    args = [Atom(algo), Atom(charset.encode("ascii")), *normalise_criteria(criteria, charset)]
    pending = yield Request(Command(_uid(ctx, b"THREAD"), args), claims=(b"THREAD",))
    check(pending)
    threads: tuple[Any, ...] = ()
    for response in pending.untagged:
        if isinstance(response, UntaggedResponse) and response.name == b"THREAD":
            threads += response.data
    return threads


def _item_names(data: Any) -> list[bytes]:
    """FETCH data items as bytes: one item (str or bytes) or a sequence of them."""
    items = [data] if isinstance(data, (str, bytes)) else list(data)
    return [i.encode("ascii", "replace") if isinstance(i, str) else i for i in items]


def _fetch_items(data: Any) -> ArgList:
    items = []
    for raw in _item_names(data):
        if not _FETCH_ITEM.match(raw):
            raise ValueError(f"not a FETCH data item: {raw!r}")
        items.append(Atom(raw.upper() if b"[" not in raw else raw))
    if not items:
        raise ValueError("no FETCH data items given")
    return ArgList(items)


# fetch-att (RFC 9051): a name, optionally [section] and <partial>; sections hold only
# section text (part numbers, HEADER.FIELDS (names), MIME, TEXT).
_FETCH_ITEM = re.compile(
    rb"[A-Za-z0-9][A-Za-z0-9.\-]*(?:\[[A-Za-z0-9.\- ()]*\](?:<\d{1,20}(?:\.\d{1,20})?>)?)?\Z"
)


def _modifiers(modifiers: Any) -> ArgList:
    mods = [modifiers] if isinstance(modifiers, (str, bytes)) else modifiers
    return ArgList([Atom(m.encode("ascii") if isinstance(m, str) else m) for m in mods])


def fetch(
    ctx: Context, messages: Messages, data: Any, modifiers: Any = None
) -> Op[dict[int, ResponseDict]]:
    """Fetch ``data`` items (``['FLAGS', 'RFC822.SIZE', 'BODY.PEEK[HEADER]']``) for
    ``messages``; returns ``{msgid: {b'FLAGS': ..., b'SEQ': seq}}``.

    Values are typed: ints, datetimes (naive local time when ``normalise_times``, else
    aware), :class:`~imapclient.response_types.Envelope`,
    :class:`~imapclient.response_types.BodyData`. A ``BODY.PEEK[...]`` item comes back
    under ``BODY[...]``, a partial fetch under ``BODY[]<origin>``. ``modifiers`` are
    extension modifiers such as ``['CHANGEDSINCE 123']`` (RFC 7162).
    """
    require_selected(ctx)
    request = _fetch_request(ctx, messages, data, modifiers)
    if request is None:
        return {}
    pending = yield request
    check(pending)
    results = _fetch_results(ctx, pending.untagged)
    if ctx._session.tolerances & Tolerance.RFC822_AS_BODY:
        _rfc822_from_body(data, results)
    return results


def _rfc822_from_body(data: Any, results: dict[int, ResponseDict]) -> None:
    # iCloud answers FETCH RFC822 with BODY[]: give the caller the item it asked for.
    if b"RFC822" not in (name.upper() for name in _item_names(data)):
        return
    for entry in results.values():
        if b"RFC822" not in entry and b"BODY[]" in entry:
            entry[b"RFC822"] = entry.pop(b"BODY[]")


def _fetch_request(ctx: Context, messages: Messages, data: Any, modifiers: Any) -> Request | None:
    message_set = join_message_ids(messages)
    if message_set is None:
        return None
    args: list[Any] = [message_set, _fetch_items(data)]
    if modifiers:
        args.append(_modifiers(modifiers))
    command = Command(_uid(ctx, b"FETCH"), args)
    return Request(
        command,
        claims=(b"FETCH",),
        route=message_route(ctx, message_set),
        local_times=ctx.normalise_times,
    )


def fetch_to_file(ctx: Context, message: int, sink: Writable, item: str = "BODY.PEEK[]") -> Op[int]:
    """Write one message's ``item`` (``BODY.PEEK[]``, ``BINARY.PEEK[1]``, a partial
    ``BODY.PEEK[]<0.1000000>`` ...) to ``sink`` (anything with ``write(bytes)``) as it
    arrives, without holding it in memory; returns the number of bytes written.

    Memory stays flat however large the message: the data goes from the socket to the
    sink in chunks. If the message does not exist, nothing is written and 0 is returned.
    If ``sink.write`` raises, the connection is closed (the rest of the literal cannot be
    told apart from the next response).
    """
    require_selected(ctx)
    if isinstance(message, bool) or not isinstance(message, int):
        raise TypeError("fetch_to_file() takes one message id (an int)")
    key = _response_key(item)
    written = 0

    class _Counting:
        def write(self, data: bytes) -> None:
            nonlocal written
            sink.write(data)
            written += len(data)

    counting = _Counting()

    def claim(prefix: bytes, size: int) -> Writable | None:
        head = prefix[: prefix.rfind(b"{")].rstrip(b" ~").upper()
        return counting if head.endswith((b" " + key, b"(" + key)) else None

    request = _fetch_request(ctx, message, [item], None)
    assert request is not None
    request.literal_sink = claim
    pending = yield request
    check(pending)
    keep_unsolicited(ctx, [r for r in pending.untagged if getattr(r, "name", None) != b"FETCH"])
    return written


_PARTIAL = re.compile(rb"<(\d+)\.\d+>\Z")


def _response_key(item: str) -> bytes:
    """The key a FETCH item comes back under: ``BODY.PEEK[]<0.100>`` -> ``BODY[]<0>``."""
    key = item.encode("ascii", "replace").upper().replace(b".PEEK[", b"[")
    return _PARTIAL.sub(rb"<\1>", key)


def fetch_windows(
    messages: Iterable[int], chunk_size: int, in_flight: int
) -> list[list[list[int]]]:
    """How ``iter_fetch`` walks many messages: chunks of ``chunk_size`` ids, grouped in
    windows of ``in_flight`` chunks, each window one ``fetch_many``."""
    if chunk_size < 1 or in_flight < 1:
        raise ValueError("chunk_size and in_flight must be at least 1")
    ids = list(messages)
    pieces = [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)]
    return [pieces[i : i + in_flight] for i in range(0, len(pieces), in_flight)]


def fetch_many(
    ctx: Context, message_sets: Sequence[Messages], data: Any, modifiers: Any = None
) -> Op[dict[int, ResponseDict]]:
    """:meth:`fetch` for several message sets at once, with all their FETCH commands in
    flight together (pipelined); returns the merged ``{msgid: {...}}``. Useful to fetch a
    large mailbox in chunks: ``fetch_many([uids[i:i + 500] for i in range(0, len(uids),
    500)], ['FLAGS', 'RFC822.SIZE'])``."""
    require_selected(ctx)
    requests = [r for r in (_fetch_request(ctx, m, data, modifiers) for m in message_sets) if r]
    if not requests:
        return {}
    pendings = yield requests
    out: dict[int, ResponseDict] = ResponseDict()
    for pending in pendings:
        check(pending)
        out.update(_fetch_results(ctx, pending.untagged))
    return out


def _fetch_results(ctx: Context, responses: Iterable[Any]) -> dict[int, ResponseDict]:
    # Runs once per message of a listing: plain dict methods, no per-item calls.
    out: dict[int, ResponseDict] = ResponseDict()
    get: Any = dict.get
    setdefault: Any = dict.setdefault
    fromtimestamp = datetime.fromtimestamp
    unsolicited = ctx._session.unsolicited
    use_uid = ctx.use_uid
    normalise = ctx.normalise_times
    for response in responses:
        if type(response) is not UntaggedResponse or response.name != b"FETCH":
            continue
        items = response.data
        if use_uid:
            msgid = get(items, b"UID")
            if msgid is None:  # a flag update for another message: not ours
                unsolicited.append(response)
                continue
        else:
            msgid = response.number
        # The parser's dict is this command's alone: kept, not copied.
        entry = setdefault(out, msgid, items)
        if entry is not items:
            entry.update(items)
        elif type(entry) is not ResponseDict:
            entry = out[msgid] = ResponseDict(items)
        entry[b"SEQ"] = response.number
        if normalise:
            date = get(entry, b"INTERNALDATE")
            if type(date) is datetime and date.tzinfo is not None:
                # datetime_to_native()'s common case, inlined: a call per message of a
                # listing costs more than the conversion.
                try:
                    native = fromtimestamp(date.timestamp()) if not date.microsecond else None
                except (OverflowError, OSError, ValueError):
                    native = None
                entry[b"INTERNALDATE"] = native or datetime_to_native(date)
            envelope = get(entry, b"ENVELOPE")
            if type(envelope) is Envelope and envelope.date and envelope.date.tzinfo is not None:
                native = datetime_to_native(envelope.date)
                entry[b"ENVELOPE"] = Envelope._make((native, *envelope[1:]))
    return out


# -- flags and labels -------------------------------------------------------------------


def _flag_atoms(flags: FlagsArg) -> list[Any]:
    if isinstance(flags, (str, bytes)):
        flags = [flags]
    out = []
    for flag in flags:
        raw = flag.encode("ascii", "replace") if isinstance(flag, str) else flag
        out.append(Flag(raw))  # ValueError, before sending, for anything not a flag
    return out


def _store(
    ctx: Context, messages: Messages, action: bytes, item: bytes, values: list[Any], silent: bool
) -> Op[dict[int, Any] | None]:
    require_writable(ctx)
    message_set = join_message_ids(messages)
    if message_set is None:
        return None if silent else {}
    name = action + item + (b".SILENT" if silent else b"")
    args: list[Any] = [message_set, Atom(name), ArgList(values)]
    pending = yield Request(Command(_uid(ctx, b"STORE"), args), claims=(b"FETCH",))
    check(pending)
    if silent:
        return None
    results = _fetch_results(ctx, pending.untagged)
    return {msgid: data.get(item, ()) for msgid, data in results.items()}


def get_flags(ctx: Context, messages: Messages) -> Op[dict[int, tuple[bytes, ...]]]:
    """The flags of each message: ``{msgid: (b'\\\\Seen', ...)}``."""
    results = yield from fetch(ctx, messages, ["FLAGS"])
    return {msgid: data[b"FLAGS"] for msgid, data in results.items()}


def add_flags(
    ctx: Context, messages: Messages, flags: FlagsArg, silent: bool = False
) -> Op[dict[int, Any] | None]:
    """Add ``flags`` to ``messages``; returns each message's flags afterwards (None
    with ``silent``, which asks the server not to report them)."""
    return (yield from _store(ctx, messages, b"+", b"FLAGS", _flag_atoms(flags), silent))


def remove_flags(
    ctx: Context, messages: Messages, flags: FlagsArg, silent: bool = False
) -> Op[dict[int, Any] | None]:
    """Remove ``flags`` from ``messages``; returns each message's flags afterwards."""
    return (yield from _store(ctx, messages, b"-", b"FLAGS", _flag_atoms(flags), silent))


def set_flags(
    ctx: Context, messages: Messages, flags: FlagsArg, silent: bool = False
) -> Op[dict[int, Any] | None]:
    """Replace the flags of ``messages`` with ``flags``; returns the flags afterwards."""
    return (yield from _store(ctx, messages, b"", b"FLAGS", _flag_atoms(flags), silent))


def delete_messages(
    ctx: Context, messages: Messages, silent: bool = False
) -> Op[dict[int, Any] | None]:
    """Mark ``messages`` ``\\Deleted`` (they go at the next expunge); returns their flags."""
    return (yield from add_flags(ctx, messages, [b"\\Deleted"], silent))


def _labels(labels: FlagsArg) -> list[Any]:
    if isinstance(labels, (str, bytes)):
        labels = [labels]
    out: list[Any] = []
    for label in labels:
        raw = imap_utf7.encode(label)
        # System labels (\Inbox, \Important) are flags; any other label is a string.
        is_flag = raw.startswith(b"\\") and _is_flag(raw)
        out.append(Flag(raw) if is_flag else Quoted(raw))
    return out


def _is_flag(raw: bytes) -> bool:
    try:
        Flag(raw)
    except ValueError:
        return False
    return True


def _decode_labels(result: dict[int, Any] | None) -> dict[int, Any] | None:
    if result is None:
        return None
    return {msgid: [imap_utf7.decode(lbl) for lbl in labels] for msgid, labels in result.items()}


def get_gmail_labels(ctx: Context, messages: Messages) -> Op[dict[int, list[str]]]:
    """Gmail labels of each message (X-GM-LABELS): ``{msgid: ['\\\\Inbox', 'Work']}``."""
    results = yield from fetch(ctx, messages, ["X-GM-LABELS"])
    return {
        msgid: [imap_utf7.decode(label) for label in data.get(b"X-GM-LABELS", ())]
        for msgid, data in results.items()
    }


def add_gmail_labels(
    ctx: Context, messages: Messages, labels: FlagsArg, silent: bool = False
) -> Op[dict[int, Any] | None]:
    """Add Gmail labels; returns each message's labels afterwards."""
    result = yield from _store(ctx, messages, b"+", b"X-GM-LABELS", _labels(labels), silent)
    return _decode_labels(result)


def remove_gmail_labels(
    ctx: Context, messages: Messages, labels: FlagsArg, silent: bool = False
) -> Op[dict[int, Any] | None]:
    """Remove Gmail labels; returns each message's labels afterwards."""
    result = yield from _store(ctx, messages, b"-", b"X-GM-LABELS", _labels(labels), silent)
    return _decode_labels(result)


def set_gmail_labels(
    ctx: Context, messages: Messages, labels: FlagsArg, silent: bool = False
) -> Op[dict[int, Any] | None]:
    """Replace the Gmail labels of ``messages``; returns the labels afterwards."""
    result = yield from _store(ctx, messages, b"", b"X-GM-LABELS", _labels(labels), silent)
    return _decode_labels(result)


# -- append, copy, move, expunge ----------------------------------------------------------


def _message_data(msg: Any) -> bytes | LiteralSource:
    """A message as literal data: bytes, or a file-like object read while sending."""
    if isinstance(msg, str):
        return msg.encode("utf-8")
    if isinstance(msg, (bytes, bytearray, memoryview)):
        return bytes(msg)
    if hasattr(msg, "read"):
        return LiteralSource(msg, _remaining_size(msg))
    raise TypeError(f"a message must be str, bytes or a binary file, not {type(msg).__name__}")


def _remaining_size(stream: Any) -> int:
    # The literal's size is announced first: from the file, or by seeking to its end.
    try:
        return int(os.fstat(stream.fileno()).st_size - stream.tell())
    except (AttributeError, OSError, ValueError):
        pass
    try:
        position = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(position)
        return int(end - position)
    except (AttributeError, OSError, ValueError) as exc:
        raise TypeError("a file-like message must be seekable (its size is sent first)") from exc


def _append_args(msg: Any, flags: FlagsArg, msg_time: datetime | None) -> list[Any]:
    args: list[Any] = []
    flag_atoms = _flag_atoms(flags) if flags else []
    args.append(ArgList(flag_atoms))
    if msg_time is not None:
        args.append(Quoted(datetime_to_INTERNALDATE(msg_time).encode("ascii")))
    args.append(Literal(_message_data(msg)))
    return args


def append(
    ctx: Context,
    folder: str | bytes,
    msg: Any,
    flags: FlagsArg = (),
    msg_time: datetime | None = None,
) -> Op[StatusText]:
    """Append a message to ``folder``; returns the server's text. ``msg`` is str, bytes,
    or a binary file (seekable), which is sent in chunks as it is read, so a large
    message never has to be in memory. With UIDPLUS the
    result's ``.code.value`` is an ``AppendUid(uidvalidity, uids)``.

    ``msg_time`` sets the internal date; a naive datetime is taken as local time."""
    args = [encode_folder(ctx, folder), *_append_args(msg, flags, msg_time)]
    pending = yield Request(Command(b"APPEND", args))
    return status_text(check(pending))


def multiappend(ctx: Context, folder: str | bytes, msgs: Sequence[Any]) -> Op[StatusText]:
    """Append several messages at once (RFC 3502 MULTIAPPEND). Each item is the message
    (str/bytes) or a dict with ``msg`` and optional ``flags`` and ``date``."""
    yield from require_capability(ctx, b"MULTIAPPEND")
    if not msgs:
        raise ValueError("no messages to append")
    args: list[Any] = [encode_folder(ctx, folder)]
    for item in msgs:
        if isinstance(item, dict):
            args += _append_args(item["msg"], item.get("flags", ()), item.get("date"))
        else:
            args += _append_args(item, (), None)
    pending = yield Request(Command(b"APPEND", args))
    return status_text(check(pending))


def copy(ctx: Context, messages: Messages, folder: str | bytes) -> Op[StatusText]:
    """Copy ``messages`` to ``folder``; returns the server's text. With UIDPLUS the
    result's ``.code.value`` is a ``CopyUid(uidvalidity, source, destination)``."""
    require_selected(ctx)
    message_set = _required_ids(messages)
    pending = yield Request(Command(_uid(ctx, b"COPY"), (message_set, encode_folder(ctx, folder))))
    return status_text(check(pending))


def move(ctx: Context, messages: Messages, folder: str | bytes) -> Op[StatusText]:
    """Move ``messages`` to ``folder`` (RFC 6851 MOVE).

    Without MOVE, the messages are copied, flagged ``\\Deleted`` and expunged with UID
    EXPUNGE, which needs UIDPLUS and ``use_uid`` so that no other deleted message is
    expunged; otherwise CapabilityError is raised before anything is sent.
    """
    require_writable(ctx)
    message_set = _required_ids(messages)
    caps = yield from capabilities(ctx)
    target = encode_folder(ctx, folder)
    if b"MOVE" in caps:
        pending = yield Request(Command(_uid(ctx, b"MOVE"), (message_set, target)))
        result = check(pending)
        copyuid = None
        for response in pending.untagged:  # COPYUID arrives in an untagged OK
            if isinstance(response, StatusResponse) and response.code is not None:
                if response.code.name == b"COPYUID":
                    copyuid = response
                    continue
            keep_unsolicited(ctx, [response])  # the EXPUNGE/VANISHED notices
        return status_text(copyuid or result)
    if b"UIDPLUS" not in caps or not ctx.use_uid:
        raise CapabilityError("MOVE is not supported and the fallback needs UIDPLUS and use_uid")
    copied = yield from copy(ctx, messages, folder)
    yield from add_flags(ctx, messages, [b"\\Deleted"], silent=True)
    yield from uid_expunge(ctx, messages)
    return copied


def expunge(ctx: Context, messages: Messages = None) -> Op[Any]:
    """Expunge deleted messages.

    Without ``messages``: EXPUNGE, returning ``(text, responses)`` where responses are
    the expunge notices (``(2, b'EXPUNGE')``) and other updates received. With
    ``messages`` (and ``use_uid``): UID EXPUNGE of just those (UIDPLUS), returning the
    server's text.
    """
    require_writable(ctx)
    if messages is not None:
        if not ctx.use_uid:
            raise ValueError("expunging specific messages needs use_uid (UID EXPUNGE)")
        return (yield from uid_expunge(ctx, messages))
    pending = yield Request(Command(b"EXPUNGE"))
    result = check(pending)
    return status_text(result), _updates(ctx, pending)


def uid_expunge(ctx: Context, messages: Messages) -> Op[StatusText]:
    """Expunge only the given UIDs (RFC 4315 UID EXPUNGE); returns the server's text."""
    require_writable(ctx)
    yield from require_capability(ctx, b"UIDPLUS")
    pending = yield Request(Command(b"UID EXPUNGE", (_required_ids(messages),)))
    result = check(pending)
    keep_unsolicited(ctx, pending.untagged)  # the EXPUNGE/VANISHED notices
    return status_text(result)


def _required_ids(messages: Messages) -> Atom:
    message_set = join_message_ids(messages)
    if message_set is None:
        raise ValueError("no messages given")
    return message_set


def noop(ctx: Context) -> Op[tuple[StatusText, list[tuple[Any, ...]]]]:
    """NOOP: returns ``(text, responses)`` with the status updates received (including
    any that arrived unsolicited before it), e.g. ``[(4, b'EXISTS'), (3, b'FETCH',
    (b'FLAGS', (b'\\\\Seen',)))]``."""
    pending = yield Request(Command(b"NOOP"))
    result = check(pending)
    return status_text(result), _updates(ctx, pending)


def _updates(ctx: Context, pending: PendingCommand) -> list[tuple[Any, ...]]:
    # What arrived unsolicited before the command, then what it collected itself.
    return drain_unsolicited(ctx) + [untagged_as_tuple(r) for r in pending.untagged]
