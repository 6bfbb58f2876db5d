"""Folders: listing, selecting, creating, status, ACL and quota."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .._version import __version__
from ..exceptions import CapabilityError
from ..protocol.encoder import ArgList, Atom, Command, Literal, Quoted
from ..protocol.responses import MailboxList, MailboxStatus, StatusResponse, UntaggedResponse
from ..protocol.tolerances import Tolerance
from ..response_types import MailboxQuotaRoots, Namespace, Quota, ResponseDict
from .base import (
    Context,
    Op,
    Request,
    StatusText,
    capabilities,
    check,
    decode_folder,
    encode_folder,
    require_capability,
    status_text,
)
from .server import id_

FolderEntry = tuple[tuple[bytes, ...], bytes | None, "str | bytes"]

# Response codes reported by SELECT/EXAMINE whose value is kept under the code's name.
_SELECT_CODES = frozenset(
    {b"PERMANENTFLAGS", b"UIDNEXT", b"UIDVALIDITY", b"UNSEEN", b"HIGHESTMODSEQ"}
)
_SELECT_FLAG_CODES = frozenset({b"READ-WRITE", b"READ-ONLY", b"NOMODSEQ", b"UIDNOTSTICKY"})

# Names under which servers without SPECIAL-USE commonly keep their special folders.
_WELL_KNOWN_NAMES: dict[bytes, tuple[str, ...]] = {
    b"\\Sent": ("Sent", "Sent Items", "Sent Messages", "Sent Mail", "[Gmail]/Sent Mail"),
    b"\\Drafts": ("Drafts", "Draft", "[Gmail]/Drafts"),
    b"\\Trash": ("Trash", "Deleted Items", "Deleted Messages", "Bin", "[Gmail]/Trash"),
    b"\\Junk": ("Junk", "Spam", "Junk E-mail", "Junk Email", "Bulk Mail", "[Gmail]/Spam"),
    b"\\Archive": ("Archive", "Archives", "[Gmail]/All Mail"),
    b"\\All": ("All Mail", "[Gmail]/All Mail"),
}

_WELL_KNOWN_BY_FLAG = {flag.lower(): names for flag, names in _WELL_KNOWN_NAMES.items()}

DEFAULT_STATUS_ITEMS = ("MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN")


def _list(
    ctx: Context, name: bytes, directory: str | bytes, pattern: str | bytes, *extra: Any
) -> Op[list[Any]]:
    args: list[Any] = [*extra, encode_folder(ctx, directory), encode_folder(ctx, pattern)]
    # Some servers (Dovecot) answer XLIST with LIST lines.
    claims = (name, b"LIST") if name == b"XLIST" else (name,)
    pending = yield Request(Command(name, args), claims=claims)
    check(pending)
    out = []
    for response in pending.untagged:
        if isinstance(response, UntaggedResponse) and isinstance(response.data, MailboxList):
            entry = response.data
            out.append((entry.flags, entry.delimiter, decode_folder(ctx, entry.name)))
    return out


def list_folders(
    ctx: Context, directory: str | bytes = "", pattern: str | bytes = "*"
) -> Op[list[FolderEntry]]:
    """Folders matching ``pattern`` under ``directory``, as ``(flags, delimiter, name)``
    tuples: flags a tuple of bytes, delimiter bytes (or None), name a str (when
    ``folder_encode``). ``*`` matches anything, ``%`` anything but the delimiter."""
    return (yield from _list(ctx, b"LIST", directory, pattern))


def list_sub_folders(
    ctx: Context, directory: str | bytes = "", pattern: str | bytes = "*"
) -> Op[list[FolderEntry]]:
    """Subscribed folders (LSUB), as for :meth:`list_folders`."""
    return (yield from _list(ctx, b"LSUB", directory, pattern))


def xlist_folders(
    ctx: Context, directory: str | bytes = "", pattern: str | bytes = "*"
) -> Op[list[FolderEntry]]:
    """Gmail's deprecated XLIST, as for :meth:`list_folders`. The caller checks for the
    XLIST capability (or handles the error)."""
    return (yield from _list(ctx, b"XLIST", directory, pattern))


def find_special_folder(ctx: Context, folder_flag: str | bytes) -> Op[str | bytes | None]:
    """The name of the folder with a special-use flag (``imapclient.SENT``, ``TRASH`` ...):
    from RFC 6154 SPECIAL-USE attributes when the server has them, else by well-known
    names. None if there is none."""
    flag = folder_flag.encode("ascii") if isinstance(folder_flag, str) else folder_flag
    caps = yield from capabilities(ctx)
    if b"SPECIAL-USE" in caps:
        folders = yield from _list(ctx, b"LIST", "", "*", ArgList([Atom(b"SPECIAL-USE")]))
    else:
        folders = yield from _list(ctx, b"LIST", "", "*")
    for flags, _, name in folders:
        if any(f.lower() == flag.lower() for f in flags):
            return name  # type: ignore[no-any-return]
    by_name = {(n.lower() if isinstance(n, str) else n): n for _, _, n in folders}
    for candidate in _WELL_KNOWN_BY_FLAG.get(flag.lower(), ()):
        for key in (candidate.lower(), "inbox." + candidate.lower(), "inbox/" + candidate.lower()):
            if key in by_name:
                return by_name[key]  # type: ignore[no-any-return]
    return None


def folder_exists(ctx: Context, folder: str | bytes) -> Op[bool]:
    """True if ``folder`` exists on the server (exactly that name: ``*`` and ``%`` in it
    are not wildcards here)."""
    found = yield from _list(ctx, b"LIST", "", folder)
    wanted = decode_folder(ctx, encode_folder(ctx, folder))
    return any(_same_folder(name, wanted) for _, _, name in found)


def _same_folder(a: str | bytes, b: str | bytes) -> bool:
    # INBOX is case-insensitive (RFC 9051 section 5.1); every other name is exact.
    if isinstance(a, str) and isinstance(b, str):
        return a == b or a.upper() == b.upper() == "INBOX"
    if isinstance(a, bytes) and isinstance(b, bytes):
        return a == b or a.upper() == b.upper() == b"INBOX"
    return False


def select_folder(ctx: Context, folder: str | bytes, readonly: bool = False) -> Op[ResponseDict]:
    """Select ``folder`` (EXAMINE when ``readonly``); returns its state.

    Keys are bytes: ``b'EXISTS'``, ``b'RECENT'``, ``b'FLAGS'`` always; ``b'PERMANENTFLAGS'``,
    ``b'UIDNEXT'``, ``b'UIDVALIDITY'``, ``b'UNSEEN'``, ``b'HIGHESTMODSEQ'`` when sent;
    ``b'READ-WRITE'`` or ``b'READ-ONLY'`` (True), ``b'NOMODSEQ'`` when sent.
    """
    name = b"EXAMINE" if readonly else b"SELECT"
    pending = yield Request(Command(name, (encode_folder(ctx, folder),)))
    if _needs_id(ctx, pending):
        # NetEase refuses SELECT until the client has said who it is: do so and retry.
        yield from id_(ctx, {"name": "imapclient", "version": __version__})
        pending = yield Request(Command(name, (encode_folder(ctx, folder),)))
    result = check(pending)
    info = ResponseDict({b"EXISTS": 0, b"RECENT": 0, b"FLAGS": ()})
    for response in [*pending.untagged, result]:
        if isinstance(response, UntaggedResponse):
            if response.name in (b"EXISTS", b"RECENT"):
                info[response.name] = response.number
            elif response.name == b"FLAGS":
                info[b"FLAGS"] = response.data
            else:  # VANISHED/FETCH with QRESYNC: not part of the documented result
                ctx._session.unsolicited.append(response)
        elif isinstance(response, StatusResponse) and response.code is not None:
            code = response.code
            if code.name in _SELECT_CODES and code.value is not None:
                info[code.name] = code.value
            elif code.name in _SELECT_FLAG_CODES:
                info[code.name] = True
    return info


def _needs_id(ctx: Context, pending: Any) -> bool:
    result = pending.outcome()
    session = ctx._session
    return (
        result.status == b"NO"
        and b"unsafe login" in result.text.lower()
        and bool(session.tolerances & Tolerance.ID_BEFORE_SELECT)
        and b"ID" in (session.capabilities or ())
    )


def unselect_folder(ctx: Context) -> Op[StatusText]:
    """Leave the selected folder without expunging (RFC 3691 UNSELECT)."""
    yield from require_capability(ctx, b"UNSELECT")
    pending = yield Request(Command(b"UNSELECT"))
    return status_text(check(pending))


def _folder_command(ctx: Context, name: bytes, *folders: str | bytes) -> Op[StatusText]:
    args = tuple(encode_folder(ctx, f) for f in folders)
    pending = yield Request(Command(name, args))
    return status_text(check(pending))


def close_folder(ctx: Context) -> Op[StatusText]:
    """Close the selected folder (expunging deleted messages); returns the server's text."""
    pending = yield Request(Command(b"CLOSE"))
    return status_text(check(pending))


def create_folder(ctx: Context, folder: str | bytes) -> Op[StatusText]:
    """Create ``folder``; returns the server's text."""
    return (yield from _folder_command(ctx, b"CREATE", folder))


def rename_folder(ctx: Context, old_name: str | bytes, new_name: str | bytes) -> Op[StatusText]:
    """Rename a folder; returns the server's text."""
    return (yield from _folder_command(ctx, b"RENAME", old_name, new_name))


def delete_folder(ctx: Context, folder: str | bytes) -> Op[StatusText]:
    """Delete ``folder``; returns the server's text."""
    return (yield from _folder_command(ctx, b"DELETE", folder))


def subscribe_folder(ctx: Context, folder: str | bytes) -> Op[StatusText]:
    """Subscribe to ``folder``; returns the server's text."""
    return (yield from _folder_command(ctx, b"SUBSCRIBE", folder))


def unsubscribe_folder(ctx: Context, folder: str | bytes) -> Op[StatusText]:
    """Unsubscribe from ``folder``; returns the server's text."""
    return (yield from _folder_command(ctx, b"UNSUBSCRIBE", folder))


def folder_status(
    ctx: Context, folder: str | bytes, what: Sequence[str | bytes] | str | bytes | None = None
) -> Op[ResponseDict]:
    """STATUS of ``folder``: ``{b'MESSAGES': 3, b'UIDNEXT': 11, ...}`` for the items in
    ``what`` (default MESSAGES, RECENT, UIDNEXT, UIDVALIDITY, UNSEEN)."""
    items = DEFAULT_STATUS_ITEMS if what is None else what
    if isinstance(items, (str, bytes)):
        items = [items]
    atoms = [Atom((i.encode("ascii") if isinstance(i, str) else i).upper()) for i in items]
    encoded = encode_folder(ctx, folder)
    pending = yield Request(Command(b"STATUS", (encoded, ArgList(atoms))))
    check(pending)
    out = ResponseDict()
    for response in pending.untagged:
        if isinstance(response, UntaggedResponse) and isinstance(response.data, MailboxStatus):
            out.update(response.data.items)
    return out


def namespace(ctx: Context) -> Op[Any]:
    """The account's namespaces (RFC 2342) as a ``Namespace(personal, other, shared)``;
    each is None or a tuple of ``(prefix, separator)`` pairs (str when ``folder_encode``)."""
    yield from require_capability(ctx, b"NAMESPACE")
    pending = yield Request(Command(b"NAMESPACE"))
    check(pending)
    for response in pending.untagged:
        if isinstance(response, UntaggedResponse) and response.name == b"NAMESPACE":
            parts: list[tuple[tuple[Any, Any], ...] | None] = []
            for part in response.data:
                if part is None:
                    parts.append(None)
                    continue
                parts.append(tuple(_namespace_entry(ctx, prefix, sep) for prefix, sep in part))
            return Namespace(*parts)
    raise CapabilityError("server sent no NAMESPACE response")


def _namespace_entry(ctx: Context, prefix: Any, separator: Any) -> tuple[Any, Any]:
    if not ctx.folder_encode:
        return prefix, separator
    text = decode_folder(ctx, prefix) if isinstance(prefix, bytes) else prefix
    sep = separator.decode("ascii", "replace") if isinstance(separator, bytes) else separator
    return text, sep


def get_folder_delimiter(ctx: Context) -> Op[Any]:
    """The hierarchy delimiter of the first personal namespace (a simplification; prefer
    :meth:`namespace`)."""
    ns = yield from namespace(ctx)
    for part in ns:
        for _prefix, separator in part or ():
            return separator
    raise CapabilityError("server reported no namespace with a delimiter")


def getacl(ctx: Context, folder: str | bytes) -> Op[list[tuple[bytes, bytes]]]:
    """The ACL of ``folder`` as ``[(who, rights), ...]`` (RFC 4314)."""
    yield from require_capability(ctx, b"ACL")
    pending = yield Request(Command(b"GETACL", (encode_folder(ctx, folder),)))
    check(pending)
    out: list[tuple[bytes, bytes]] = []
    for response in pending.untagged:
        if isinstance(response, UntaggedResponse) and response.name == b"ACL":
            out.extend(response.data[1])
    return out


def setacl(
    ctx: Context, folder: str | bytes, who: str | bytes, what: str | bytes
) -> Op[StatusText]:
    """Give ``who`` the rights ``what`` on ``folder``; an empty ``what`` removes ``who``'s
    entry (DELETEACL). Returns the server's text."""
    yield from require_capability(ctx, b"ACL")
    encoded = encode_folder(ctx, folder)
    if not what:
        pending = yield Request(Command(b"DELETEACL", (encoded, who)))
    else:
        pending = yield Request(Command(b"SETACL", (encoded, who, what)))
    return status_text(check(pending))


def _quotas(responses: Iterable[Any]) -> list[Quota]:
    out = []
    for response in responses:
        if isinstance(response, UntaggedResponse) and response.name == b"QUOTA":
            root, triples = response.data
            for resource, usage, limit in triples:
                out.append(Quota(root.decode("utf-8", "replace"), resource.decode(), usage, limit))
    return out


def get_quota(ctx: Context, mailbox: str | bytes = "INBOX") -> Op[list[Quota]]:
    """The quotas that apply to ``mailbox`` (RFC 9208) as a list of :class:`Quota`."""
    _roots, quotas = yield from get_quota_root(ctx, mailbox)
    return quotas


def get_quota_root(ctx: Context, mailbox: str | bytes) -> Op[tuple[MailboxQuotaRoots, list[Quota]]]:
    """``(MailboxQuotaRoots(mailbox, quota_roots), [Quota, ...])`` for ``mailbox``."""
    yield from require_capability(ctx, b"QUOTA")
    pending = yield Request(Command(b"GETQUOTAROOT", (encode_folder(ctx, mailbox),)))
    check(pending)
    roots: list[str] = []
    name: Any = mailbox
    for response in pending.untagged:
        if isinstance(response, UntaggedResponse) and response.name == b"QUOTAROOT":
            name = decode_folder(ctx, response.data[0])
            roots = [r.decode("utf-8", "replace") for r in response.data[1]]
    return MailboxQuotaRoots(name, roots), _quotas(pending.untagged)


def set_quota(ctx: Context, quotas: Sequence[Quota] | Quota) -> Op[list[Quota]]:
    """Set resource limits (SETQUOTA); quotas sharing a root are sent together. Returns
    the quotas the server reports afterwards."""
    yield from require_capability(ctx, b"QUOTA")
    if isinstance(quotas, Quota):
        quotas = [quotas]
    by_root: dict[str, list[Any]] = {}
    for quota in quotas:
        by_root.setdefault(quota.quota_root, []).extend(
            [Atom(quota.resource.upper().encode("ascii")), int(quota.limit)]
        )
    result: list[Quota] = []
    for root, limits in by_root.items():
        pending = yield Request(Command(b"SETQUOTA", (root, ArgList(limits))))
        check(pending)
        result += _quotas(pending.untagged)
    return result


def get_metadata(
    ctx: Context, folder: str | bytes, entries: str | bytes | Sequence[str | bytes]
) -> Op[ResponseDict]:
    """Annotations of ``folder`` (``""`` for the server's own), RFC 5464 GETMETADATA:
    ``get_metadata("INBOX", ["/private/comment", "/shared/comment"])`` gives
    ``{b'/private/comment': b'...', b'/shared/comment': None}`` (None: not set)."""
    yield from require_capability(ctx, b"METADATA", b"METADATA-SERVER")
    names = [entries] if isinstance(entries, (str, bytes)) else list(entries)
    if not names:
        raise ValueError("get_metadata() needs at least one entry name")
    args = (encode_folder(ctx, folder), ArgList([_entry(name) for name in names]))
    pending = yield Request(Command(b"GETMETADATA", args), claims=(b"METADATA",))
    check(pending)
    out = ResponseDict({_entry(name): None for name in names})
    for response in pending.untagged:
        if isinstance(response, UntaggedResponse) and isinstance(response.data[1], dict):
            out.update(response.data[1])
    return out


def set_metadata(
    ctx: Context, folder: str | bytes, values: dict[str | bytes, str | bytes | None]
) -> Op[StatusText]:
    """Set annotations of ``folder`` (RFC 5464 SETMETADATA); a None value removes the
    entry: ``set_metadata("INBOX", {"/private/comment": "work", "/shared/x": None})``."""
    yield from require_capability(ctx, b"METADATA", b"METADATA-SERVER")
    if not values:
        raise ValueError("set_metadata() needs at least one entry")
    items: list[Any] = []
    for name, value in values.items():
        data = value.encode("utf-8") if isinstance(value, str) else value
        if data is None:
            items += [_entry(name), None]
        elif b"\r" in data or b"\n" in data or b"\x00" in data:
            items += [_entry(name), Literal(data, binary=b"\x00" in data)]
        else:
            items += [_entry(name), Quoted(data)]
    pending = yield Request(Command(b"SETMETADATA", (encode_folder(ctx, folder), ArgList(items))))
    return status_text(check(pending))


def _entry(name: str | bytes) -> bytes:
    # Entry names are case-insensitive paths such as /private/comment (RFC 5464 3.2).
    raw = name.encode("ascii") if isinstance(name, str) else name
    if not raw.startswith((b"/private/", b"/shared/")):
        raise ValueError(f"metadata entries start with /private/ or /shared/, not {raw!r}")
    return raw.lower()
