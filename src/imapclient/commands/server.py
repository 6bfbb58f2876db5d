"""Server-level operations: capabilities, ENABLE, ID, NOOP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..protocol.encoder import ArgList, Atom, Command, Quoted
from ..protocol.responses import UntaggedResponse
from .base import (
    Context,
    Op,
    Request,
    capabilities,
    check,
    drain_unsolicited,
    require_capability,
)

__all__ = ["capabilities", "drain_unsolicited", "enable", "has_capability", "id_"]


def has_capability(ctx: Context, capability: str | bytes) -> Op[bool]:
    """True if the server announces ``capability`` (case-insensitive, e.g. ``'IDLE'``
    or ``'AUTH=PLAIN'``)."""
    cap = capability.encode("ascii") if isinstance(capability, str) else capability
    caps = yield from capabilities(ctx)
    return cap.upper() in caps


def enable(ctx: Context, *capabilities: str | bytes) -> Op[list[bytes]]:
    """Enable extensions (RFC 5161 ENABLE), e.g. ``enable('CONDSTORE')``; returns those
    the server reports as enabled."""
    yield from require_capability(ctx, b"ENABLE")
    if not capabilities:
        raise ValueError("enable() needs at least one capability")
    atoms = [Atom(c.encode("ascii") if isinstance(c, str) else c) for c in capabilities]
    pending = yield Request(Command(b"ENABLE", atoms))
    check(pending)
    enabled: list[bytes] = []
    for response in pending.untagged:
        if isinstance(response, UntaggedResponse) and response.name == b"ENABLED":
            enabled.extend(response.data)
    return enabled


def _text_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def id_(ctx: Context, parameters: Mapping[str, str] | None = None) -> Op[dict[bytes, Any] | None]:
    """Exchange identification with the server (RFC 2971 ID): send ``parameters`` (e.g.
    ``{'name': 'myapp', 'version': '1.0'}``) and return the server's, or None."""
    yield from require_capability(ctx, b"ID")
    arg: ArgList | None = None
    if parameters:
        # RFC 2971: "(" *(string SP nstring) ")": strings, never atoms.
        items: list[Any] = []
        for key, value in parameters.items():
            items += [
                Quoted(_text_bytes(key)),
                None if value is None else Quoted(_text_bytes(value)),
            ]
        arg = ArgList(items)
    pending = yield Request(Command(b"ID", (arg,)))
    check(pending)
    for response in pending.untagged:
        if isinstance(response, UntaggedResponse) and response.name == b"ID":
            return response.data  # type: ignore[no-any-return]
    return None
