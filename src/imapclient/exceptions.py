"""The exceptions raised by imapclient.

The hierarchy keeps four kinds of failure apart (DESIGN.md, "Typed errors"):

* the server answered NO or BAD (:class:`CommandError` and its subclasses),
* the server broke the protocol or a limit (:class:`ProtocolError`),
* the caller misused the API (:class:`IllegalStateError`, :class:`CapabilityError`,
  :class:`InvalidCriteriaError`, or a plain :class:`ValueError`/:class:`TypeError`),
* the connection is gone (:class:`IMAPClientAbortError`).

For code written against the original API, :class:`IMAPClientError`,
:class:`IMAPClientAbortError` and :class:`IMAPClientReadOnlyError` derive from the
matching ``imaplib.IMAP4`` exceptions, so ``except imaplib.IMAP4.error`` still catches them,
and the client exposes them as ``IMAPClient.Error``, ``IMAPClient.AbortError`` and
``IMAPClient.ReadOnlyError``.
"""

from __future__ import annotations

import imaplib

__all__ = [
    "CapabilityError",
    "CommandError",
    "ConnectionClosedError",
    "IMAPClientAbortError",
    "IMAPClientError",
    "IMAPClientReadOnlyError",
    "IMAPTimeoutError",
    "IllegalStateError",
    "InvalidCriteriaError",
    "LimitExceededError",
    "LoginError",
    "ProtocolError",
    "TLSRequiredError",
]


class IMAPClientError(imaplib.IMAP4.error):
    """Base class of every error imapclient raises about IMAP."""


class IMAPClientAbortError(IMAPClientError, imaplib.IMAP4.abort):
    """The connection can no longer be used: it was closed, or the server broke the protocol."""


class IMAPClientReadOnlyError(IMAPClientError, imaplib.IMAP4.readonly):
    """A write was attempted on a folder selected read-only."""


class CommandError(IMAPClientError):
    """The server answered a command with NO or BAD.

    ``status`` is ``b'NO'`` or ``b'BAD'``, ``text`` the human-readable text, ``code`` the
    response code (``b'TRYCREATE'``, ``b'AUTHENTICATIONFAILED'`` ...) or None, and
    ``command`` the command's name (never its arguments, which may hold secrets).
    """

    def __init__(
        self,
        message: str,
        *,
        status: bytes = b"",
        text: bytes = b"",
        code: bytes | None = None,
        command: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.text = text
        self.code = code
        self.command = command


class LoginError(CommandError):
    """Authentication failed (LOGIN or AUTHENTICATE answered NO or BAD)."""


class CapabilityError(IMAPClientError):
    """The server lacks a capability the requested operation needs."""


class IllegalStateError(IMAPClientError):
    """The operation is not allowed in the connection's current state (e.g. FETCH with no
    folder selected, or any command while IDLE is active)."""


class InvalidCriteriaError(IMAPClientError):
    """Search or sort criteria are malformed (raised before anything is sent)."""


class TLSRequiredError(IMAPClientAbortError):
    """STARTTLS was requested but cannot be performed (missing capability, NO/BAD answer,
    PREAUTH greeting). The connection is closed; nothing was sent in plaintext after it."""


class ProtocolError(IMAPClientAbortError):
    """The server sent something that violates the protocol.

    The connection is treated as dead: after a protocol violation the client cannot know
    where the next response starts, so continuing would risk reading one command's data as
    another's.
    """


class LimitExceededError(ProtocolError):
    """A server response exceeded a configured limit (line length, literal size, total
    response size or nesting depth). ``limit`` names the limit, ``value`` the offending
    size when known."""

    def __init__(self, message: str, *, limit: str, value: int | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value


class IMAPTimeoutError(IMAPClientAbortError, TimeoutError):
    """The server did not answer within the read timeout. The connection is closed, since
    the client can no longer tell which response belongs to which command. Also a
    :class:`TimeoutError` (``socket.timeout``), so existing handlers keep working."""


class ConnectionClosedError(IMAPClientAbortError):
    """The server closed the connection (EOF, or an untagged BYE)."""
