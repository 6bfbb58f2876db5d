"""OAuth 2.0 access tokens from a refresh token (RFC 6749 section 6), for XOAUTH2 logins.

:func:`get_access_token` exchanges a refresh token for an access token at a provider's
token endpoint with a plain ``POST`` (``grant_type=refresh_token``, form-encoded, the
client id and secret in the body), using only :mod:`urllib.request`. Tokens are cached for
the process until shortly before they expire, so opening several connections costs one
exchange. :func:`token_url_for` knows the endpoints of the big providers by IMAP host name.

Secrets (the client secret, the refresh token and the access token) never appear in log
records or exception texts; whatever the endpoint sends back is searched for them and
redacted before it is quoted in an error.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from http.client import HTTPException
from typing import IO, Any

from .exceptions import IMAPClientError

__all__ = [
    "EXPIRY_MARGIN",
    "KNOWN_TOKEN_URLS",
    "OAuth2Error",
    "check_token_url",
    "clear_token_cache",
    "forget_access_token",
    "get_access_token",
    "token_url_for",
]

logger = logging.getLogger("imapclient.oauth2")

#: Token endpoints by IMAP host name (lower case), for ``oauth2 = true`` without
#: ``oauth2_token_url``. Google's is the ``token_endpoint`` of its OpenID discovery
#: document; the older ``https://accounts.google.com/o/oauth2/token`` still answers too.
KNOWN_TOKEN_URLS: dict[str, str] = {
    "imap.gmail.com": "https://oauth2.googleapis.com/token",
    "imap.googlemail.com": "https://oauth2.googleapis.com/token",
    "imap.mail.yahoo.com": "https://api.login.yahoo.com/oauth2/get_token",
    "outlook.office365.com": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    "imap-mail.outlook.com": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
}

#: A cached access token is used until this many seconds before the endpoint said it
#: expires; a token that lives no longer than this is not cached at all.
EXPIRY_MARGIN = 60.0

#: The most of an endpoint's answer that is read, in bytes.
MAX_RESPONSE_SIZE = 1024 * 1024

_REDACTED = "**REDACTED**"

# (token_url, client_id, refresh_token) -> (access_token, monotonic time it stops being used)
_cache: dict[tuple[str, str, str], tuple[str, float]] = {}
_cache_lock = threading.Lock()
_clock: Callable[[], float] = time.monotonic  # replaced by tests to move time forward


class OAuth2Error(IMAPClientError):
    """The token endpoint did not give an access token.

    ``status`` is the HTTP status (None when no answer arrived: network error, timeout),
    ``error`` and ``error_description`` the fields of the endpoint's JSON error answer
    (RFC 6749 section 5.2) when it sent one, ``token_url`` the endpoint. None of them,
    nor the message, ever holds the client secret, the refresh token or an access token.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error: str | None = None,
        error_description: str | None = None,
        token_url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.error_description = error_description
        self.token_url = token_url


def _is_loopback(hostname: str) -> bool:
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def check_token_url(url: str) -> str:
    """Return ``url`` if it can be a token endpoint, else raise ValueError.

    It must be ``https://``; plain ``http://`` is accepted only for a loopback host
    (``localhost``, ``127.0.0.0/8``, ``::1``), since the request carries the client
    secret and the refresh token.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("https", "http") or not hostname:
        raise ValueError(f"{url!r} is not an https:// URL")
    if parts.scheme == "http" and not _is_loopback(hostname):
        raise ValueError(
            f"{url!r} is plain http: the token endpoint must use https:// "
            "(http:// is allowed only for localhost)"
        )
    return url


def token_url_for(host: str, override: str | None = None) -> str:
    """The token endpoint to use for IMAP server ``host``.

    ``override`` (the ``oauth2_token_url`` option) wins when given; otherwise the host is
    looked up in :data:`KNOWN_TOKEN_URLS` (case-insensitively). Raises ValueError when the
    host is unknown and there is no override, or when the override is not a usable URL.
    """
    if override:
        return check_token_url(override)
    key = host.strip().lower().rstrip(".")
    try:
        return KNOWN_TOKEN_URLS[key]
    except KeyError:
        known = ", ".join(sorted(KNOWN_TOKEN_URLS))
        raise ValueError(
            f"no known OAuth2 token endpoint for IMAP host {host!r}: set oauth2_token_url "
            f"(endpoints are known for {known})"
        ) from None


def clear_token_cache() -> None:
    """Forget every cached access token (the next :func:`get_access_token` asks again)."""
    with _cache_lock:
        _cache.clear()


def forget_access_token(token_url: str, client_id: str, refresh_token: str) -> None:
    """Drop the cached access token for these credentials, if any (e.g. after the IMAP
    server refused it)."""
    with _cache_lock:
        _cache.pop((token_url, client_id, refresh_token), None)


def get_access_token(
    token_url: str,
    client_id: str,
    client_secret: str | None,
    refresh_token: str,
    *,
    timeout: float = 30.0,
) -> str:
    """Exchange ``refresh_token`` for an access token at ``token_url`` and return it.

    Sends ``POST`` ``grant_type=refresh_token&client_id=...&client_secret=...&refresh_token=...``
    (``application/x-www-form-urlencoded``; the secret is left out when empty, for public
    clients) and reads the JSON answer. The token is cached for the process, keyed by
    ``(token_url, client_id, refresh_token)``, until :data:`EXPIRY_MARGIN` seconds before
    its ``expires_in`` runs out (not at all when the endpoint gives no ``expires_in``).

    ``timeout`` bounds the connection and each read, in seconds. Every failure (an HTTP
    error status, an answer that is not JSON or has no ``access_token``, a network error,
    a timeout) raises :class:`OAuth2Error`.
    """
    check_token_url(token_url)
    key = (token_url, client_id, refresh_token)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            token, valid_until = cached
            if _clock() < valid_until:
                logger.debug("using the cached access token from %s", token_url)
                return token
            del _cache[key]
    secrets = [s for s in (client_secret, refresh_token) if s]
    started = _clock()
    answer = _request_token(token_url, client_id, client_secret, refresh_token, timeout, secrets)
    token = str(answer["access_token"])
    lifetime = _expires_in(answer.get("expires_in"))
    if lifetime is not None and lifetime > EXPIRY_MARGIN:
        with _cache_lock:
            _cache[key] = (token, started + lifetime - EXPIRY_MARGIN)
        logger.debug("access token from %s cached for %.0f s", token_url, lifetime - EXPIRY_MARGIN)
    else:
        logger.debug("access token from %s not cached (expires_in: %s)", token_url, lifetime)
    return token


def _expires_in(value: Any) -> float | None:
    """``expires_in`` as seconds (it is sometimes sent as a string), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value) and value >= 0:
        return float(value)
    return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Token endpoints answer directly; following a redirect would turn the POST into a
    GET without its form, so a redirect is reported as an error instead."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


def _opener(token_url: str) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    hostname = urllib.parse.urlsplit(token_url).hostname or ""
    if _is_loopback(hostname):
        handlers.append(urllib.request.ProxyHandler({}))  # never send loopback to a proxy
    return urllib.request.build_opener(*handlers)


def _redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret (as is or URL-encoded) replaced. Secrets shorter than 4
    characters are not real credentials and would only garble the text."""
    for secret in secrets:
        if len(secret) < 4:
            continue
        for form in {secret, urllib.parse.quote_plus(secret), urllib.parse.quote(secret)}:
            text = text.replace(form, _REDACTED)
    return text


def _excerpt(body: bytes, secrets: Iterable[str], limit: int = 200) -> str:
    text = body.decode("utf-8", "replace").strip()
    text = _redact(text, secrets)
    text = "".join(c if c.isprintable() else " " for c in text)
    return text if len(text) <= limit else text[:limit] + "..."


def _read_body(response: IO[bytes]) -> bytes:
    body = response.read(MAX_RESPONSE_SIZE + 1)
    return body[:MAX_RESPONSE_SIZE]


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _text_field(answer: dict[str, Any], name: str, secrets: Iterable[str]) -> str | None:
    value = answer.get(name)
    if value is None:
        return None
    return _redact(str(value), secrets)


def _request_token(
    token_url: str,
    client_id: str,
    client_secret: str | None,
    refresh_token: str,
    timeout: float,
    secrets: list[str],
) -> dict[str, Any]:
    form = {"grant_type": "refresh_token", "client_id": client_id}
    if client_secret:
        form["client_secret"] = client_secret
    form["refresh_token"] = refresh_token
    request = urllib.request.Request(
        token_url,
        data=urllib.parse.urlencode(form).encode("ascii"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "User-Agent": "imapclient",
        },
        method="POST",
    )
    logger.debug("requesting an access token from %s", token_url)
    status: int | None = None
    try:
        with _opener(token_url).open(request, timeout=timeout) as response:
            status = response.status
            body = _read_body(response)
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            body = _read_body(exc)
        except (OSError, HTTPException):
            body = b""
        finally:
            exc.close()
        raise _http_error(token_url, status, body, secrets) from None
    except (TimeoutError, urllib.error.URLError, OSError, HTTPException) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError):
            message = f"OAuth2 token endpoint {token_url} did not answer within {timeout:g} s"
        else:
            detail = _redact(str(reason) or type(reason).__name__, secrets)
            message = f"cannot get an access token from {token_url}: {detail}"
        raise OAuth2Error(message, status=status, token_url=token_url) from None
    answer = _json_object(body)
    if answer is None:
        raise OAuth2Error(
            f"OAuth2 token endpoint {token_url} answered HTTP {status} with something "
            f"that is not a JSON object: {_excerpt(body, secrets)!r}",
            status=status,
            token_url=token_url,
        )
    if "error" in answer:
        raise _http_error(token_url, status, body, secrets)
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise OAuth2Error(
            f"OAuth2 token endpoint {token_url} answered without an access_token",
            status=status,
            token_url=token_url,
        )
    token_type = answer.get("token_type")
    if token_type is not None and str(token_type).lower() != "bearer":
        raise OAuth2Error(
            f"OAuth2 token endpoint {token_url} gave a {_redact(str(token_type), secrets)!r} "
            "token; XOAUTH2 needs a Bearer token",
            status=status,
            token_url=token_url,
        )
    return answer


def _http_error(token_url: str, status: int | None, body: bytes, secrets: list[str]) -> OAuth2Error:
    """The OAuth2Error for an error answer, with the endpoint's ``error`` and
    ``error_description`` when it sent JSON."""
    answer = _json_object(body)
    if answer is not None and "error" in answer:
        error = _text_field(answer, "error", secrets)
        description = _text_field(answer, "error_description", secrets)
        message = f"OAuth2 token endpoint {token_url} refused the refresh: HTTP {status}: {error}"
        if description:
            message += f" ({description})"
        return OAuth2Error(
            message,
            status=status,
            error=error,
            error_description=description,
            token_url=token_url,
        )
    if status is not None and 300 <= status < 400:
        return OAuth2Error(
            f"OAuth2 token endpoint {token_url} answered with a redirect (HTTP {status}); "
            "set oauth2_token_url to the endpoint itself",
            status=status,
            token_url=token_url,
        )
    detail = f": {_excerpt(body, secrets)!r}" if body.strip() else ""
    return OAuth2Error(
        f"OAuth2 token endpoint {token_url} answered HTTP {status}{detail}",
        status=status,
        token_url=token_url,
    )
