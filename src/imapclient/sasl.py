"""Client-side SASL mechanisms (RFC 4422) for IMAP AUTHENTICATE, without any I/O.

Each mechanism object runs one authentication exchange and is then discarded.  It
deals in raw bytes only: the command layer base64-encodes what it sends and decodes
the server's challenges before handing them over.  The command layer drives it so:

1. If ``client_first`` is true and the server has SASL-IR (RFC 4959), send
   :meth:`~Mechanism.initial_response` inline with the command (``b""`` is sent as
   ``=``).  Without SASL-IR the server opens with an empty challenge: answer it either
   with the initial response obtained earlier, or -- if :meth:`~Mechanism.initial_response`
   was never called -- with ``respond(b"")``, which then returns the first message.
2. Answer every further challenge with :meth:`~Mechanism.respond`.  A
   :class:`SASLError` from it means "cancel": send ``*``.
3. After the server's tagged OK call :meth:`~Mechanism.done`; a :class:`SASLError`
   there means the exchange succeeded on the wire but cannot be trusted (SCRAM: the
   server never proved that it knows the password).

Mechanisms: :class:`Plain`, :class:`Login`, :class:`Scram` (SCRAM-SHA-1, -SHA-256,
-SHA-512, without channel binding), :class:`XOAuth2`, :class:`OAuthBearer`,
:class:`XOAuth` (Google's legacy OAuth 1.0 mechanism) and :class:`Callback` (any
mechanism, answered by a user function).  :func:`saslprep` implements RFC 4013.

Invalid arguments (a NUL in a PLAIN field, a password SASLprep rejects ...) raise
:class:`ValueError` from the constructor, before anything is sent.  Error messages
never contain passwords, tokens or secrets, and neither do the objects' reprs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import stringprep
import time
import unicodedata
import urllib.parse
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = [
    "SCRAM_MAX_ITERATIONS",
    "Callback",
    "Login",
    "Mechanism",
    "OAuthBearer",
    "Plain",
    "SASLCancel",
    "SASLError",
    "Scram",
    "XOAuth",
    "XOAuth2",
    "saslprep",
]


class SASLError(Exception):
    """The exchange cannot go on, or its outcome cannot be trusted.

    Raised by :meth:`Mechanism.respond` (the command layer then cancels with ``*``) and
    by :meth:`Mechanism.done` (the server said OK, but the mechanism did not complete).
    """


class SASLCancel(SASLError):
    """The user's :class:`Callback` returned None: cancel the exchange."""


@runtime_checkable
class Mechanism(Protocol):
    """What the AUTHENTICATE command layer needs from a SASL mechanism."""

    #: The mechanism's registered name, e.g. ``b"SCRAM-SHA-256"``.
    name: bytes
    #: True when the client speaks first, so the first message can go inline (SASL-IR).
    client_first: bool

    def initial_response(self) -> bytes | None:
        """The client's first message (``b""`` for an empty one), or None if the server
        speaks first."""
        ...

    def respond(self, challenge: bytes) -> bytes:
        """The answer to one server challenge (raw bytes, base64-decoded by the caller).

        Raises SASLError when the exchange must be cancelled."""
        ...

    def done(self) -> None:
        """Called after the server's final OK; raises SASLError if the mechanism did
        not complete properly."""
        ...


# ---------------------------------------------------------------------------------
# SASLprep (RFC 4013), the stringprep (RFC 3454) profile for user names and passwords
# ---------------------------------------------------------------------------------

# RFC 4013 section 2.3: every table listed there, with a name for error messages.
# The messages name the category, never the character: the string may be a password.
_PROHIBITED: tuple[tuple[Callable[[str], bool], str], ...] = (
    (stringprep.in_table_c12, "non-ASCII space"),
    (stringprep.in_table_c21_c22, "control character"),
    (stringprep.in_table_c3, "private use character"),
    (stringprep.in_table_c4, "non-character code point"),
    (stringprep.in_table_c5, "surrogate code point"),
    (stringprep.in_table_c6, "character inappropriate for plain text"),
    (stringprep.in_table_c7, "character inappropriate for canonical representation"),
    (stringprep.in_table_c8, "change-display-property or deprecated character"),
    (stringprep.in_table_c9, "tagging character"),
)


def saslprep(text: str, *, allow_unassigned: bool = False) -> str:
    """Prepare a user name or password with SASLprep (RFC 4013).

    Maps non-ASCII spaces (table C.1.2) to U+0020 and "commonly mapped to nothing"
    characters (B.1, e.g. the soft hyphen) to nothing, applies NFKC (Unicode 3.2, as
    stringprep requires), then rejects prohibited output and strings that break the
    bidirectional rules of RFC 3454 section 6.

    ``allow_unassigned`` selects the RFC 3454 section 7 variant: False for "stored
    strings" (code points unassigned in Unicode 3.2 are an error), True for "queries"
    (they pass through).  Raises ValueError; the message never quotes the string.
    """
    # Step 1, mapping.  U+200B ZERO WIDTH SPACE is in both B.1 and C.1.2; B.1 wins, so
    # an invisible character never turns into a visible space.
    mapped = "".join(
        " " if stringprep.in_table_c12(ch) else ch for ch in text if not stringprep.in_table_b1(ch)
    )
    # Step 2, normalization with the Unicode version stringprep is defined against.
    prepared = unicodedata.ucd_3_2_0.normalize("NFKC", mapped)
    # Step 3, prohibited output; unassigned code points for stored strings.
    for ch in prepared:
        for in_table, what in _PROHIBITED:
            if in_table(ch):
                raise ValueError(f"SASLprep: the string contains a prohibited {what}")
        if not allow_unassigned and stringprep.in_table_a1(ch):
            raise ValueError("SASLprep: the string contains an unassigned code point")
    # Step 4, bidirectional text: right-to-left text must not mix with left-to-right
    # characters and must both start and end with a right-to-left character.
    if any(stringprep.in_table_d1(ch) for ch in prepared):
        if any(stringprep.in_table_d2(ch) for ch in prepared):
            raise ValueError("SASLprep: the string mixes right-to-left and left-to-right text")
        if not (stringprep.in_table_d1(prepared[0]) and stringprep.in_table_d1(prepared[-1])):
            raise ValueError(
                "SASLprep: right-to-left text must start and end with a right-to-left character"
            )
    return prepared


# ---------------------------------------------------------------------------------
# Shared machinery
# ---------------------------------------------------------------------------------


class _Base:
    """Defaults shared by all mechanisms: a secret-free repr, no-op done()."""

    name: bytes
    client_first: bool = False

    def __repr__(self) -> str:
        # Deliberately shows no field values: they include passwords and tokens.
        return f"<{type(self).__name__} {self.name.decode('ascii', 'replace')}>"

    def initial_response(self) -> bytes | None:
        """None: by default the server speaks first."""
        return None

    def done(self) -> None:
        """Nothing to check by default."""


class _ClientFirst(_Base):
    """A mechanism whose whole client side is one message sent first.

    Subclasses build that message in :meth:`_message` and decide in
    :meth:`_after_message` what to do with any challenge that follows it.
    """

    client_first = True

    def __init__(self) -> None:
        self._cached: bytes | None = None
        self._sent = False

    def _message(self) -> bytes:
        """Build the client's only message."""
        raise NotImplementedError

    def _first(self) -> bytes:
        # Built once, so that repeated calls (and a late timestamp) agree.
        if self._cached is None:
            self._cached = self._message()
        self._sent = True
        return self._cached

    def initial_response(self) -> bytes:
        """The client's message; the server speaks only to report an error."""
        return self._first()

    def respond(self, challenge: bytes) -> bytes:
        """The message, if the server asks for it with an empty challenge (no SASL-IR);
        afterwards whatever :meth:`_after_message` answers."""
        if not self._sent:
            if challenge:
                raise SASLError(
                    f"{self.name.decode()}: the server must start with an empty challenge"
                )
            return self._first()
        return self._after_message(challenge)

    def _after_message(self, challenge: bytes) -> bytes:
        """A challenge after the message: by default a protocol violation."""
        raise SASLError(f"{self.name.decode()}: unexpected challenge from the server")


def _utf8(value: str, what: str) -> bytes:
    """Encode ``value`` as UTF-8, rejecting lone surrogates with a clear ValueError."""
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"the {what} is not valid Unicode text") from None


def _saslname(value: str) -> str:
    """Escape a name for a GS2 / SCRAM attribute (RFC 5802 section 5.1)."""
    # "=" first, or the "=" of "=2C" would itself be escaped.
    return value.replace("=", "=3D").replace(",", "=2C")


# ---------------------------------------------------------------------------------
# PLAIN and LOGIN
# ---------------------------------------------------------------------------------


class Plain(_ClientFirst):
    """SASL PLAIN (RFC 4616): ``authzid NUL authcid NUL passwd`` in UTF-8.

    ``authorization_identity`` asks to act as another user (empty when None).  The
    strings are sent as given: preparing them is left to the server, as RFC 4616 does.
    Raises ValueError for a NUL in any part (it would shift the fields).
    """

    name: bytes = b"PLAIN"

    def __init__(
        self, identity: str, password: str, authorization_identity: str | None = None
    ) -> None:
        super().__init__()
        parts = (
            ("authorization identity", authorization_identity or ""),
            ("identity", identity),
            ("password", password),
        )
        for what, value in parts:
            if "\0" in value:
                raise ValueError(f"PLAIN: the {what} must not contain NUL")
        self._payload = b"\0".join(_utf8(value, what) for what, value in parts)

    def _message(self) -> bytes:
        return self._payload


class Login(_Base):
    """The obsolete LOGIN mechanism (draft-murchison-sasl-login).

    The server speaks first and prompts twice (normally ``Username:`` then
    ``Password:``); the answers go by order, because prompt texts vary between servers.
    """

    name: bytes = b"LOGIN"

    def __init__(self, username: str, password: str) -> None:
        self._answers = [_utf8(username, "username"), _utf8(password, "password")]

    def respond(self, challenge: bytes) -> bytes:
        """The username for the first prompt, the password for the second."""
        if not self._answers:
            raise SASLError("LOGIN: the server prompted more than twice")
        return self._answers.pop(0)


# ---------------------------------------------------------------------------------
# SCRAM (RFC 5802, RFC 7677)
# ---------------------------------------------------------------------------------

#: Largest iteration count :class:`Scram` accepts from a server by default.  The client
#: runs PBKDF2 with whatever count the server names, so a hostile server could otherwise
#: pin the CPU for minutes.  Ten million takes seconds (about 2 s with SHA-256 on a
#: current CPU) while staying far above real deployments (4096 is the usual default;
#: OWASP's 2023 PBKDF2 advice tops out at 1.3 million for SHA-1).
SCRAM_MAX_ITERATIONS = 10_000_000

# hash name accepted by Scram (without "-", lower case) -> (mechanism name, hashlib name)
_SCRAM_HASHES = {
    "sha1": (b"SCRAM-SHA-1", "sha1"),
    "sha256": (b"SCRAM-SHA-256", "sha256"),
    "sha512": (b"SCRAM-SHA-512", "sha512"),
}

# RFC 5802 "printable": a nonce is any printable ASCII character except ",".
_NONCE_RE = re.compile(r"[\x21-\x2b\x2d-\x7e]+")
# RFC 5802 "posit-number" (no sign, no leading zero), plus a bare "0" so that it gets a
# clearer error.  At most ten digits keeps int() cheap.
_ITERATIONS_RE = re.compile(r"0|[1-9][0-9]{0,9}")
# The gs2 header for "no channel binding, client does not support it" and its base64,
# which is what the client-final "c=" attribute must repeat.
_GS2_HEADER = b"n,,"
_CHANNEL_BINDING = b"c=" + base64.b64encode(_GS2_HEADER)


def _parse_attributes(message: bytes, what: str) -> list[tuple[str, str]]:
    """Split a SCRAM message into (letter, value) pairs, rejecting malformed ones."""
    try:
        text = message.decode("utf-8")
    except UnicodeDecodeError:
        raise SASLError(f"SCRAM: the {what} is not UTF-8") from None
    pairs: list[tuple[str, str]] = []
    for part in text.split(","):
        if len(part) < 2 or part[1] != "=" or not ("a" <= part[0].lower() <= "z"):
            raise SASLError(f"SCRAM: malformed {what}: {text[:200]!r}")
        pairs.append((part[0], part[2:]))
    return pairs


class Scram(_Base):
    """SCRAM-SHA-256 (RFC 7677), SCRAM-SHA-1 (RFC 5802) or SCRAM-SHA-512, without
    channel binding (gs2 header ``n,,``).

    ``hash_name`` is ``'sha256'`` (default), ``'sha1'`` or ``'sha512'`` (``'SHA-256'``
    etc. also work).  The username is prepared with SASLprep as a *query* (unassigned
    code points allowed, RFC 5802 section 5.1) and the password as a *stored string*
    (unassigned code points rejected, RFC 5802 section 2.2's ``Normalize``); a string
    SASLprep rejects, or an empty username, raises ValueError here.

    ``nonce`` overrides the random client nonce (printable ASCII without ``,``; for
    tests).  ``max_iterations`` caps the server's iteration count
    (:data:`SCRAM_MAX_ITERATIONS`).

    The server must answer with a nonce extending ours, a salt and an iteration count
    from 1 to ``max_iterations``; a mandatory extension (``m=``) is refused since none is
    supported, and unknown optional extensions are ignored.  Its final message must carry
    the correct server signature (``v=``): :meth:`done` raises SASLError if it was never
    verified, because a server that says OK without proving it knows the password may
    be an impostor.  A server error (``e=``) becomes SASLError; its text is kept in
    :attr:`error`.
    """

    client_first = True

    def __init__(
        self,
        username: str,
        password: str,
        hash_name: str = "sha256",
        *,
        nonce: str | None = None,
        max_iterations: int = SCRAM_MAX_ITERATIONS,
    ) -> None:
        try:
            self.name, self._hash = _SCRAM_HASHES[hash_name.lower().replace("-", "")]
        except KeyError:
            raise ValueError(f"SCRAM: unsupported hash {hash_name!r}") from None
        try:
            prepared_user = saslprep(username, allow_unassigned=True)
        except ValueError as exc:
            raise ValueError(f"SCRAM: invalid username ({exc})") from None
        if not prepared_user:
            raise ValueError("SCRAM: the username is empty (after SASLprep)")
        try:
            self._password = _utf8(saslprep(password), "password")
        except ValueError as exc:
            raise ValueError(f"SCRAM: invalid password ({exc})") from None
        if nonce is None:
            nonce = secrets.token_urlsafe(24)  # 192 bits; the alphabet has no ","
        elif not _NONCE_RE.fullmatch(nonce):
            raise ValueError("SCRAM: the nonce must be printable ASCII without ','")
        if max_iterations < 1:
            raise ValueError("SCRAM: max_iterations must be at least 1")
        self._max_iterations = max_iterations
        self._nonce = nonce.encode("ascii")
        self._client_first_bare = (
            b"n=" + _utf8(_saslname(prepared_user), "username") + b",r=" + self._nonce
        )
        #: The server's ``e=`` error text, if it sent one.
        self.error: str | None = None
        self._server_signature: bytes | None = None
        # start -> first-sent -> final-sent -> verified; "failed" once anything is wrong.
        self._state = "start"

    def initial_response(self) -> bytes:
        """The client-first message, ``n,,n=<user>,r=<nonce>``."""
        if self._state == "start":
            self._state = "first-sent"
        return _GS2_HEADER + self._client_first_bare

    def respond(self, challenge: bytes) -> bytes:
        """Answer the server-first message with the proof; check the server-final one.

        Any malformed or hostile message raises SASLError and ends the exchange.
        """
        state = self._state
        self._state = "failed"  # until this step succeeds
        if state == "start":
            if challenge:
                raise SASLError("SCRAM: the server must start with an empty challenge")
            self._state = "start"
            return self.initial_response()
        if state == "first-sent":
            answer = self._client_final(challenge)
            self._state = "final-sent"
            return answer
        if state == "final-sent":
            self._verify_server_final(challenge)
            self._state = "verified"
            return b""  # IMAP has no "success with data": the server waits for this
        raise SASLError("SCRAM: unexpected challenge after the exchange ended")

    def done(self) -> None:
        """Raise SASLError unless the server's signature was verified."""
        if self._state != "verified":
            raise SASLError(
                "SCRAM: the server did not prove that it knows the password "
                "(no valid server signature)"
            )

    def _hmac(self, key: bytes, message: bytes) -> bytes:
        return hmac.new(key, message, self._hash).digest()

    def _client_final(self, server_first: bytes) -> bytes:
        """Check the server-first message and build client-final with the proof."""
        pairs = _parse_attributes(server_first, "server-first message")
        keys = [key for key, _ in pairs]
        values = dict(pairs)
        if "e" in values:  # not in the grammar, but some servers report errors this early
            self.error = values["e"]
            raise SASLError(f"SCRAM: server error: {values['e'][:200]}")
        if "m" in values:
            raise SASLError("SCRAM: the server requires an unsupported extension (m=)")
        for key in ("r", "s", "i"):
            if key not in values:
                raise SASLError(f"SCRAM: the server-first message lacks {key}=")
        if keys[:3] != ["r", "s", "i"] or len(set(keys)) != len(keys):
            raise SASLError("SCRAM: malformed server-first message (attribute order)")

        server_nonce = values["r"].encode("utf-8")
        # The server must append its own part: otherwise the exchange is not fresh.
        if (
            not server_nonce.startswith(self._nonce)
            or len(server_nonce) == len(self._nonce)
            or not _NONCE_RE.fullmatch(values["r"])
        ):
            raise SASLError("SCRAM: the server nonce does not extend the client nonce")
        try:
            salt = base64.b64decode(values["s"], validate=True)
        except binascii.Error:
            raise SASLError("SCRAM: the salt is not valid base64") from None
        if not salt:
            raise SASLError("SCRAM: the salt is empty")
        if not _ITERATIONS_RE.fullmatch(values["i"]):
            raise SASLError(f"SCRAM: invalid iteration count {values['i'][:20]!r}")
        iterations = int(values["i"])
        if iterations < 1:
            raise SASLError("SCRAM: the iteration count must be at least 1")
        if iterations > self._max_iterations:
            raise SASLError(
                f"SCRAM: iteration count {iterations} exceeds the limit {self._max_iterations}"
            )

        without_proof = _CHANNEL_BINDING + b",r=" + server_nonce
        auth_message = self._client_first_bare + b"," + server_first + b"," + without_proof
        salted = hashlib.pbkdf2_hmac(self._hash, self._password, salt, iterations)
        client_key = self._hmac(salted, b"Client Key")
        stored_key = hashlib.new(self._hash, client_key).digest()
        signature = self._hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        self._server_signature = self._hmac(self._hmac(salted, b"Server Key"), auth_message)
        self._password = b""  # no longer needed; don't keep it around longer than this
        return without_proof + b",p=" + base64.b64encode(proof)

    def _verify_server_final(self, server_final: bytes) -> None:
        """Check ``v=`` against the expected server signature, or report ``e=``."""
        pairs = _parse_attributes(server_final, "server-final message")
        key, value = pairs[0]
        if key == "e":
            self.error = value
            raise SASLError(f"SCRAM: server error: {value[:200]}")
        if key != "v":
            raise SASLError("SCRAM: the server-final message has neither v= nor e=")
        try:
            received = base64.b64decode(value, validate=True)
        except binascii.Error:
            raise SASLError("SCRAM: the server signature is not valid base64") from None
        assert self._server_signature is not None  # set by _client_final
        if not hmac.compare_digest(received, self._server_signature):
            raise SASLError(
                "SCRAM: wrong server signature: the server does not know the password "
                "(possible man-in-the-middle)"
            )


# ---------------------------------------------------------------------------------
# OAuth: XOAUTH2, OAUTHBEARER (RFC 7628), legacy XOAUTH (OAuth 1.0, RFC 5849)
# ---------------------------------------------------------------------------------


def _no_kvsep(value: str, what: str) -> str:
    """Reject \\x01 in a value: it is the field separator of XOAUTH2 and OAUTHBEARER."""
    if "\x01" in value:
        raise ValueError(f"the {what} must not contain \\x01")
    return value


class _OAuthBase(_ClientFirst):
    """A bearer-token mechanism: a challenge after the message is the server's error."""

    #: Reply to the error challenge, after which the server fails the command.
    _error_reply = b""

    def __init__(self) -> None:
        super().__init__()
        #: The server's error challenge (usually JSON), decoded to text; None until one
        #: arrives.  The command layer quotes it when the server then says NO.
        self.error: str | None = None

    def _after_message(self, challenge: bytes) -> bytes:
        if self.error is not None:
            raise SASLError(f"{self.name.decode()}: unexpected second challenge")
        self.error = challenge.decode("utf-8", "replace")
        return self._error_reply


class XOAuth2(_OAuthBase):
    """XOAUTH2 (Google, Microsoft, Yahoo): an OAuth 2.0 access token.

    Sends ``user=<user>\\x01auth=Bearer <token>\\x01[vendor=<vendor>\\x01]\\x01``.  A
    rejected token draws a challenge carrying a JSON error: it is kept in :attr:`error`
    and answered with an empty response, after which the server says NO.
    """

    name: bytes = b"XOAUTH2"

    def __init__(self, user: str, access_token: str, vendor: str | None = None) -> None:
        super().__init__()
        fields = [
            "user=" + _no_kvsep(user, "user"),
            "auth=Bearer " + _no_kvsep(access_token, "access token"),
        ]
        if vendor is not None:
            fields.append("vendor=" + _no_kvsep(vendor, "vendor"))
        self._payload = _utf8("".join(field + "\x01" for field in fields) + "\x01", "user")

    def _message(self) -> bytes:
        return self._payload


class OAuthBearer(_OAuthBase):
    """OAUTHBEARER (RFC 7628): an OAuth 2.0 bearer token behind a GS2 header.

    Sends ``n,a=<identity>,\\x01host=<host>\\x01port=<port>\\x01auth=Bearer <token>\\x01\\x01``
    (``host`` and ``port`` only when given; ``n,,`` when ``identity`` is empty).  An error
    challenge is kept in :attr:`error` and answered with ``\\x01``, as RFC 7628 section
    3.2.3 requires.
    """

    name: bytes = b"OAUTHBEARER"
    _error_reply = b"\x01"

    def __init__(
        self,
        identity: str,
        access_token: str,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        super().__init__()
        header = f"n,a={_saslname(identity)}," if identity else "n,,"
        fields = []
        if host is not None:
            fields.append("host=" + _no_kvsep(host, "host"))
        if port is not None:
            fields.append(f"port={int(port)}")
        fields.append("auth=Bearer " + _no_kvsep(access_token, "access token"))
        message = header + "\x01" + "".join(field + "\x01" for field in fields) + "\x01"
        self._payload = _utf8(message, "identity")

    def _message(self) -> bytes:
        return self._payload


def _oauth_escape(value: str) -> str:
    """RFC 5849 section 3.6 percent-encoding: all but ALPHA, DIGIT, "-", ".", "_", "~"."""
    # quote() never encodes those four and, with safe="", encodes everything else
    # (as UTF-8, upper-case hex), which is exactly the RFC's rule.
    return urllib.parse.quote(value, safe="")


def _oauth_base_uri(url: str) -> str:
    """The base string URI of RFC 5849 section 3.4.1.2: lower-case scheme and host,
    default port dropped, no query or fragment."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname  # already lower case, userinfo removed
    if scheme not in ("http", "https") or not host:
        raise ValueError("XOAUTH: the URL must be an absolute http(s) URL")
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    port = parts.port
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def _oauth_hmac_sha1(
    method: str,
    url: str,
    params: list[tuple[str, str]],
    consumer_secret: str,
    token_secret: str,
) -> str:
    """The RFC 5849 section 3.4.2 HMAC-SHA1 signature (base64) of a request.

    ``params`` are the protocol parameters; those in the URL's query join them.
    """
    query = urllib.parse.urlsplit(url).query
    everything = params + urllib.parse.parse_qsl(query, keep_blank_values=True)
    # Section 3.4.1.3.2: encode, sort by name then value, join with "=" and "&".
    encoded = sorted((_oauth_escape(k), _oauth_escape(v)) for k, v in everything)
    normalized = "&".join(f"{k}={v}" for k, v in encoded)
    base_string = "&".join(
        (method.upper(), _oauth_escape(_oauth_base_uri(url)), _oauth_escape(normalized))
    )
    key = _oauth_escape(consumer_secret) + "&" + _oauth_escape(token_secret)
    digest = hmac.new(key.encode("utf-8"), base_string.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


class XOAuth(_OAuthBase):
    """Google's legacy XOAUTH mechanism: an OAuth 1.0 request signed with HMAC-SHA1.

    ``url`` is the resource, e.g. ``https://mail.google.com/mail/b/<email>/imap/`` (two-
    legged OAuth adds ``?xoauth_requestor_id=<email>``, which is signed as RFC 5849 says
    for query parameters).  The message is ``GET <url> <params>``, the params being the
    ``oauth_*`` protocol parameters sorted by name as ``name="value"`` pairs joined by
    ``,``, values percent-encoded.  An empty ``oauth_token`` is left out (two-legged
    OAuth has none).  ``nonce`` and ``timestamp`` (seconds since the epoch) default to a
    random string and the time of the first message; pass them for reproducible tests.
    """

    name: bytes = b"XOAUTH"

    def __init__(
        self,
        url: str,
        oauth_token: str,
        oauth_token_secret: str,
        consumer_key: str = "anonymous",
        consumer_secret: str = "anonymous",
        *,
        nonce: str | None = None,
        timestamp: int | None = None,
    ) -> None:
        super().__init__()
        _oauth_base_uri(url)  # fail now on a URL that cannot be signed
        if any(ch in url for ch in " \r\n"):
            raise ValueError("XOAUTH: the URL must not contain spaces or line breaks")
        self._url = url
        self._token = oauth_token
        self._token_secret = oauth_token_secret
        self._consumer_key = consumer_key
        self._consumer_secret = consumer_secret
        self._nonce = nonce
        self._timestamp = timestamp

    def _message(self) -> bytes:
        nonce = self._nonce if self._nonce is not None else secrets.token_hex(16)
        timestamp = self._timestamp if self._timestamp is not None else int(time.time())
        params = [
            ("oauth_consumer_key", self._consumer_key),
            ("oauth_nonce", nonce),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", str(timestamp)),
            ("oauth_version", "1.0"),
        ]
        if self._token:
            params.append(("oauth_token", self._token))
        signature = _oauth_hmac_sha1(
            "GET", self._url, params, self._consumer_secret, self._token_secret
        )
        params.append(("oauth_signature", signature))
        header = ",".join(f'{k}="{_oauth_escape(v)}"' for k, v in sorted(params))
        return _utf8(f"GET {self._url} {header}", "URL")


# ---------------------------------------------------------------------------------
# Any mechanism, answered by the user
# ---------------------------------------------------------------------------------

# RFC 4422 section 3.1: 1 to 20 upper-case letters, digits, "-" and "_".
_MECHANISM_NAME_RE = re.compile(r"[A-Z0-9_-]{1,20}")


class Callback(_Base):
    """Any SASL mechanism, each challenge answered by ``callback(challenge)``.

    The callback gets the decoded challenge and returns bytes, a str (sent as UTF-8),
    or None to cancel (:meth:`respond` then raises :class:`SASLCancel`, which makes the
    command layer send ``*``).  The server speaks first: SASL-IR is not used, since the
    callback cannot say whether the mechanism allows an initial response.
    """

    def __init__(self, name: str | bytes, callback: Callable[[bytes], bytes | str | None]) -> None:
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        text = text.upper()
        if not _MECHANISM_NAME_RE.fullmatch(text):
            raise ValueError(f"invalid SASL mechanism name {text!r}")
        self.name = text.encode("ascii")
        self._callback = callback

    def respond(self, challenge: bytes) -> bytes:
        """The callback's answer, as bytes."""
        answer = self._callback(challenge)
        if answer is None:
            raise SASLCancel(f"{self.name.decode()}: cancelled by the callback")
        if isinstance(answer, str):
            try:
                return answer.encode("utf-8")
            except UnicodeEncodeError:
                raise SASLError(
                    f"{self.name.decode()}: the callback's answer is not valid text"
                ) from None
        if isinstance(answer, (bytes, bytearray, memoryview)):
            return bytes(answer)
        # Raised as SASLError so the exchange is cancelled cleanly, not left hanging.
        raise SASLError(
            f"{self.name.decode()}: the callback returned {type(answer).__name__}, "
            "expected bytes, str or None"
        )
