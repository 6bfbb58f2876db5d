"""IDLE (RFC 2177): the parts both front ends share.

IDLE does not fit the request/response shape of the other operations (the command stays
open while the server pushes updates), so each front end drives the waiting; what is
sent, when IDLE is refused, and the shape of what is returned are defined here.
"""

from __future__ import annotations

from typing import Any

from ..protocol.encoder import Command
from ..protocol.session import PendingCommand
from .base import Context, Op, Request, StatusText, check, require_capability, status_text
from .base import untagged_as_tuple as _as_tuple

__all__ = ["idle_done_result", "idle_request", "take_idle_responses"]


def idle_request(ctx: Context) -> Op[Request]:
    """Check the server can IDLE and return the request that starts it."""
    yield from require_capability(ctx, b"IDLE")
    return Request(Command(b"IDLE"))


def take_idle_responses(ctx: Context, pending: PendingCommand) -> list[tuple[Any, ...]]:
    """What arrived while idling (updates routed to IDLE, then anything unsolicited), in
    the documented shape: ``[(1, b'EXISTS'), (b'OK', b'Still here')]``. Each once."""
    session = ctx._session
    responses = [_as_tuple(r) for r in pending.untagged]
    pending.untagged.clear()
    responses += [_as_tuple(r) for r in session.unsolicited]
    session.unsolicited.clear()
    return responses


def idle_done_result(
    ctx: Context, pending: PendingCommand
) -> tuple[StatusText, list[tuple[Any, ...]]]:
    """``(text, responses)`` once the IDLE command has completed."""
    result = check(pending)
    return status_text(result), take_idle_responses(ctx, pending)
