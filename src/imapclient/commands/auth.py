"""Authentication and the end of a session."""

from __future__ import annotations

from ..exceptions import LoginError, TLSRequiredError
from ..protocol.encoder import Command
from ..protocol.responses import StatusResponse
from .base import Context, Op, Request, capabilities, check


def login(username: str | bytes, password: str | bytes) -> Op[bytes]:
    """LOGIN; returns the server's text. Raises LoginError when refused."""
    pending = yield Request(Command(b"LOGIN", (username, password), sensitive=True))
    return check(pending, LoginError).text


def logout() -> Op[bytes]:
    """LOGOUT; returns the text of the server's BYE (e.g. ``b'Logging out'``)."""
    pending = yield Request(Command(b"LOGOUT"))
    result = check(pending)
    for response in pending.untagged:
        if isinstance(response, StatusResponse) and response.status == b"BYE":
            return response.text
    return result.text


def starttls(ctx: Context) -> Op[bytes]:
    """STARTTLS up to the server's OK (the front end then performs the handshake).

    Raises TLSRequiredError when the server does not offer it or refuses it; the
    caller must then close the connection rather than go on in plaintext.
    """
    caps = yield from capabilities(ctx)
    if b"STARTTLS" not in caps:
        raise TLSRequiredError("server does not offer STARTTLS")
    pending = yield Request(Command(b"STARTTLS"))
    result: StatusResponse = pending.outcome()
    if result.status != b"OK":
        raise TLSRequiredError("server refused STARTTLS: " + result.text.decode("utf-8", "replace"))
    return result.text
