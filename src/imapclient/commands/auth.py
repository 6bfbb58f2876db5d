"""Authentication (LOGIN, AUTHENTICATE with SASL mechanisms), STARTTLS and LOGOUT."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from .. import sasl
from ..exceptions import CapabilityError, LoginError, TLSRequiredError
from ..protocol.encoder import Atom, Command
from ..protocol.responses import StatusResponse
from .base import Context, Op, Request, StatusText, capabilities, check, status_text


def login(ctx: Context, username: str | bytes, password: str | bytes) -> Op[StatusText]:
    """Log in with LOGIN; returns the server's text. Raises LoginError when refused and
    CapabilityError (before sending anything) when the server disabled LOGIN."""
    caps = ctx._session.capabilities or ()
    if b"LOGINDISABLED" in caps:
        raise CapabilityError("server disabled LOGIN on this connection (LOGINDISABLED)")
    pending = yield Request(Command(b"LOGIN", (username, password), sensitive=True))
    return status_text(check(pending, LoginError))


def authenticate(ctx: Context, mechanism: sasl.Mechanism) -> Op[StatusText]:
    """AUTHENTICATE with ``mechanism``, sending its first message inline when the server
    has SASL-IR (RFC 4959). Raises LoginError when refused, or when the mechanism finds
    the exchange invalid (e.g. a SCRAM server signature that does not verify)."""
    caps = yield from capabilities(ctx)
    name = mechanism.name.upper()
    if b"AUTH=" + name not in caps:
        raise CapabilityError(f"server does not offer AUTH={name.decode()}")
    args: list[Atom] = [Atom(name)]
    initial = mechanism.initial_response() if mechanism.client_first else None
    if initial is not None and b"SASL-IR" in caps:
        args.append(Atom(base64.b64encode(initial) or b"="))
        initial = None
    failure: list[BaseException] = []

    def on_continuation(text: bytes) -> bytes | None:
        nonlocal initial
        if initial is not None:  # the server asks for the client's first message
            data, initial = initial, None
            return base64.b64encode(data)
        try:
            challenge = base64.b64decode(text, validate=True)
            return base64.b64encode(mechanism.respond(challenge))
        except (binascii.Error, sasl.SASLError) as exc:
            failure.append(exc)
            return None  # "*" cancels the exchange

    command = Command(b"AUTHENTICATE", args, sensitive=True)
    pending = yield Request(command, on_continuation=on_continuation)
    result = pending.outcome()
    if result.status != b"OK":
        detail = failure[0] if failure else getattr(mechanism, "error", None)
        try:
            check(pending, LoginError)
        except LoginError as exc:
            if detail:
                exc.args = (f"{exc.args[0]} ({detail})",)
            raise
    try:
        mechanism.done()
    except sasl.SASLError as exc:
        raise LoginError(
            f"AUTHENTICATE {name.decode()} completed but is not trustworthy: {exc}",
            status=result.status,
            text=result.text,
            command=b"AUTHENTICATE",
        ) from exc
    return status_text(result)


def sasl_login(
    ctx: Context, mech_name: str, mech_callback: Callable[[bytes], bytes | str | None]
) -> Op[StatusText]:
    """Authenticate with any SASL mechanism: ``mech_callback`` receives each server
    challenge (decoded bytes) and returns the response (bytes or str), or None to cancel.
    The callback drives the whole exchange, so SASL-IR is not used."""
    mechanism = sasl.Callback(mech_name, mech_callback)
    return (yield from authenticate(ctx, mechanism))


def plain_login(
    ctx: Context,
    identity: str,
    password: str,
    authorization_identity: str | None = None,
) -> Op[StatusText]:
    """Authenticate with SASL PLAIN (RFC 4616), optionally acting as
    ``authorization_identity``."""
    mechanism = sasl.Plain(identity, password, authorization_identity)
    return (yield from authenticate(ctx, mechanism))


def oauth2_login(
    ctx: Context,
    user: str,
    access_token: str,
    mech: str = "XOAUTH2",
    vendor: str | None = None,
) -> Op[StatusText]:
    """Authenticate with an OAuth 2.0 access token (XOAUTH2, as Gmail and Outlook use;
    ``vendor`` is added for Yahoo). ``mech='OAUTHBEARER'`` uses RFC 7628 instead."""
    if mech.upper() == "OAUTHBEARER":
        return (yield from oauthbearer_login(ctx, user, access_token))
    mechanism = sasl.XOAuth2(user, access_token, vendor)
    if mech.upper() != "XOAUTH2":
        mechanism.name = mech.upper().encode("ascii")
    return (yield from authenticate(ctx, mechanism))


def oauthbearer_login(ctx: Context, identity: str, access_token: str) -> Op[StatusText]:
    """Authenticate with an OAuth 2.0 bearer token (RFC 7628 OAUTHBEARER)."""
    return (yield from authenticate(ctx, sasl.OAuthBearer(identity, access_token)))


def oauth_login(
    ctx: Context,
    url: str,
    oauth_token: str,
    oauth_token_secret: str,
    consumer_key: str = "anonymous",
    consumer_secret: str = "anonymous",
) -> Op[StatusText]:
    """Authenticate with the legacy OAuth 1.0 XOAUTH mechanism (a signed request for
    ``url``)."""
    mechanism = sasl.XOAuth(url, oauth_token, oauth_token_secret, consumer_key, consumer_secret)
    return (yield from authenticate(ctx, mechanism))


def scram_login(
    ctx: Context, username: str, password: str, mech: str = "SCRAM-SHA-256"
) -> Op[StatusText]:
    """Authenticate with SCRAM-SHA-256 or SCRAM-SHA-1 (RFC 5802/7677, no channel
    binding). The server must prove it knows the password, or LoginError is raised."""
    hash_name = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-1": "sha1"}.get(mech.upper())
    if hash_name is None:
        raise ValueError(f"unsupported SCRAM mechanism {mech!r}")
    return (yield from authenticate(ctx, sasl.Scram(username, password, hash_name)))


def logout(ctx: Context) -> Op[bytes]:
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
