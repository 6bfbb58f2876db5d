"""Selecting folders."""

from __future__ import annotations

from ..protocol.encoder import Command
from ..protocol.responses import StatusResponse, UntaggedResponse
from ..response_types import ResponseDict
from .base import Context, Op, Request, check, encode_folder

# Response codes reported by SELECT/EXAMINE whose value is kept under the code's name.
_SELECT_CODES = frozenset(
    {b"PERMANENTFLAGS", b"UIDNEXT", b"UIDVALIDITY", b"UNSEEN", b"HIGHESTMODSEQ"}
)
_SELECT_FLAG_CODES = frozenset({b"READ-WRITE", b"READ-ONLY", b"NOMODSEQ", b"UIDNOTSTICKY"})


def select_folder(ctx: Context, folder: str | bytes, readonly: bool = False) -> Op[ResponseDict]:
    """SELECT (or EXAMINE when ``readonly``); returns the folder's state.

    Keys are bytes: ``b'EXISTS'``, ``b'RECENT'``, ``b'FLAGS'`` always; ``b'PERMANENTFLAGS'``,
    ``b'UIDNEXT'``, ``b'UIDVALIDITY'``, ``b'UNSEEN'``, ``b'HIGHESTMODSEQ'`` when sent;
    ``b'READ-WRITE'`` or ``b'READ-ONLY'`` (True), ``b'NOMODSEQ'`` when sent.
    """
    name = b"EXAMINE" if readonly else b"SELECT"
    pending = yield Request(Command(name, (encode_folder(ctx, folder),)))
    result = check(pending)
    info = ResponseDict({b"EXISTS": 0, b"RECENT": 0, b"FLAGS": ()})
    for response in [*pending.untagged, result]:
        if isinstance(response, UntaggedResponse):
            if response.name in (b"EXISTS", b"RECENT"):
                info[response.name] = response.number
            elif response.name == b"FLAGS":
                info[b"FLAGS"] = response.data
        elif isinstance(response, StatusResponse) and response.code is not None:
            code = response.code
            if code.name in _SELECT_CODES and code.value is not None:
                info[code.name] = code.value
            elif code.name in _SELECT_FLAG_CODES:
                info[code.name] = True
    return info
