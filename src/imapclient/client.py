"""IMAPClient: the blocking front end.

It owns a transport (TCP, TLS, or a subprocess) and a sans-IO
:class:`~imapclient.protocol.session.Session`, and runs the operations of
:mod:`imapclient.commands` by moving bytes between the two. It builds no command and
shapes no result itself.
"""

from __future__ import annotations

import logging
import ssl as ssl_lib
from collections.abc import Sequence
from types import TracebackType
from typing import Any, TypeVar

from . import commands
from .commands.base import Op, Request
from .exceptions import (
    CapabilityError,
    IllegalStateError,
    IMAPClientAbortError,
    IMAPClientError,
    IMAPClientReadOnlyError,
    TLSRequiredError,
)
from .protocol.limits import DEFAULT_LIMITS, Limits
from .protocol.session import ConnectionState, PendingCommand, Session
from .protocol.tolerances import DEFAULT_TOLERANCES, Tolerance
from .response_types import ResponseDict, SearchIds
from .transport import ProcessTransport, SocketTimeout, SocketTransport

__all__ = ["IMAPClient"]

logger = logging.getLogger("imapclient")
T = TypeVar("T")


class IMAPClient:
    """A connection to an IMAP server.

    ``IMAPClient(host, port=None, use_uid=True, ssl=True, stream=False,
    ssl_context=None, timeout=None)`` connects at once and reads the greeting.

    * ``port`` defaults to 993 with ``ssl`` (implicit TLS), 143 without.
    * ``ssl`` is on by default; certificates and host names are verified with
      ``ssl.create_default_context()`` unless ``ssl_context`` is given.
    * ``stream=True`` runs ``host`` as a command whose stdin/stdout carry the session.
    * ``timeout`` is seconds for every socket operation, or a
      :class:`~imapclient.transport.SocketTimeout` with separate connect and read
      timeouts.
    * ``limits`` and ``tolerances`` tune the protocol core (see
      :mod:`imapclient.protocol.limits` and :mod:`imapclient.protocol.tolerances`).
    """

    Error = IMAPClientError
    AbortError = IMAPClientAbortError
    ReadOnlyError = IMAPClientReadOnlyError

    def __init__(
        self,
        host: str,
        port: int | None = None,
        use_uid: bool = True,
        ssl: bool = True,
        stream: bool = False,
        ssl_context: ssl_lib.SSLContext | None = None,
        timeout: float | SocketTimeout | None = None,
        *,
        limits: Limits = DEFAULT_LIMITS,
        tolerances: Tolerance = DEFAULT_TOLERANCES,
    ) -> None:
        if stream and (port is not None or ssl_context is not None):
            raise ValueError("stream=True takes a command as host, without port or TLS")
        self.host = host
        self.port = port if port is not None else (993 if ssl else 143)
        self.ssl = ssl and not stream
        self.stream = stream
        self.ssl_context = ssl_context
        self.use_uid = use_uid
        self.folder_encode = True
        self.normalise_times = True
        self._timeout = _as_socket_timeout(timeout)
        self._session = Session(limits=limits, tolerances=tolerances)
        self._transport: SocketTransport | ProcessTransport | None = None
        self._connect()

    # -- connection -------------------------------------------------------------------

    def _connect(self) -> None:
        if self.stream:
            logger.debug("starting IMAP server process %r", self.host)
            self._transport = ProcessTransport(self.host, self._timeout.read)
        else:
            context = None
            if self.ssl:
                context = self.ssl_context or ssl_lib.create_default_context()
            logger.debug("connecting to %s:%d (TLS: %s)", self.host, self.port, self.ssl)
            self._transport = SocketTransport.connect(self.host, self.port, self._timeout, context)
        try:
            while self._session.state is ConnectionState.GREETING:
                self._receive()
        except BaseException:
            self._close_transport()
            raise
        greeting = self._session.greeting
        assert greeting is not None
        if greeting.status == b"BYE":
            self._close_transport()
            raise IMAPClientAbortError(
                "server refused the connection: " + greeting.text.decode("utf-8", "replace")
            )

    @property
    def welcome(self) -> bytes:
        """The server's greeting text."""
        greeting = self._session.greeting
        return greeting.text if greeting is not None else b""

    def starttls(self, ssl_context: ssl_lib.SSLContext | None = None) -> bytes:
        """Switch the connection to TLS (RFC 9051 section 6.2.1); returns the OK text.

        Certificates and host names are verified by default. Anything the server sent
        in plaintext after its OK is discarded, and capabilities are asked for again over
        TLS. If the server cannot do STARTTLS (no capability, NO/BAD answer, or a PREAUTH
        greeting that makes it too late), :class:`TLSRequiredError` is raised and the
        connection is closed: the session never continues in plaintext.
        """
        if self.ssl or self.stream:
            raise IllegalStateError("the connection is already TLS or a stream")
        transport = self._transport
        assert isinstance(transport, SocketTransport)
        if self._session.state is not ConnectionState.NOT_AUTHENTICATED:
            self.shutdown()
            raise TLSRequiredError(
                "STARTTLS is impossible: the server pre-authenticated the connection "
                "(PREAUTH), so it would carry the session in plaintext"
            )
        try:
            text = self._run(commands.auth.starttls(self))
            context = ssl_context or self.ssl_context or ssl_lib.create_default_context()
            transport.start_tls(context, self.host)
        except BaseException:
            self.shutdown()
            raise
        self._session.tls_established()
        self.ssl = True
        return text

    def socket(self) -> Any:
        """The underlying socket (or, for ``stream=True``, the subprocess)."""
        transport = self._transport
        if isinstance(transport, SocketTransport):
            return transport.sock
        if isinstance(transport, ProcessTransport):
            return transport.process
        return None

    def shutdown(self) -> None:
        """Close the connection without logging out."""
        self._close_transport()
        logger.debug("connection closed")

    def _close_transport(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def __enter__(self) -> IMAPClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Log out; if that fails, just close. Errors here never mask the body's error."""
        if self._transport is None:
            return
        try:
            if not self._session.closed:
                self.logout()
        except Exception:
            logger.debug("logout on context exit failed", exc_info=True)
        finally:
            self.shutdown()

    # -- the driver -------------------------------------------------------------------

    def _run(self, op: Op[T]) -> T:
        """Drive an operation of the command layer to completion."""
        self._check_open()
        try:
            request = next(op)
            while True:
                if isinstance(request, list):
                    result: Any = self._execute_many(request)
                else:
                    result = self._execute(request)
                request = op.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    def _execute(self, request: Request) -> PendingCommand:
        return self._execute_many([request])[0]

    def _check_open(self) -> None:
        # A dead connection is reported as such, before any state check of an operation.
        if self._session.error is not None:
            raise self._session.error
        if self._transport is None:
            raise IMAPClientAbortError("the connection is closed")

    def _execute_many(self, requests: Sequence[Request]) -> list[PendingCommand]:
        self._check_open()
        session = self._session
        pendings = [
            session.send(r.command, claims=r.claims, on_continuation=r.on_continuation)
            for r in requests
        ]
        try:
            self._flush()
            for pending in pendings:
                while not pending.done:
                    self._receive()
                    self._flush()
        except IMAPClientAbortError:
            self._close_transport()
            raise
        if session.closed and session.state is not ConnectionState.LOGOUT:
            self._close_transport()
        for pending in pendings:
            if pending.error is not None:
                self._close_transport()
                raise pending.error
        return pendings

    def _flush(self) -> None:
        data = self._session.data_to_send()
        if data:
            for line in self._session.sent_log:
                logger.debug("> %s", line.decode("ascii", "replace"))
            self._session.sent_log.clear()
            assert self._transport is not None
            self._transport.write(data)

    def _receive(self, timeout: Any = None) -> None:
        assert self._transport is not None
        data = self._transport.read() if timeout is None else self._transport.read(timeout)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("< %r", data[:300] + (b"..." if len(data) > 300 else b""))
        self._session.receive_data(data)

    # -- the API ----------------------------------------------------------------------

    def capabilities(self) -> tuple[bytes, ...]:
        """The server's capabilities as a tuple of upper-case bytes.

        Cached; asked for again after authentication and STARTTLS unless the server
        announced them itself.
        """
        return self._run(commands.base.capabilities(self))

    def has_capability(self, capability: str | bytes) -> bool:
        """True if the server announces ``capability`` (case-insensitive)."""
        cap = capability.encode("ascii") if isinstance(capability, str) else capability
        return cap.upper() in self.capabilities()

    def login(self, username: str | bytes, password: str | bytes) -> bytes:
        """Log in with LOGIN; returns the server's text. Raises LoginError if refused."""
        if b"LOGINDISABLED" in (self._session.capabilities or ()):
            raise CapabilityError("server disabled LOGIN on this connection (LOGINDISABLED)")
        return self._run(commands.auth.login(username, password))

    def logout(self) -> bytes:
        """Log out and close the connection; returns the server's BYE text."""
        try:
            return self._run(commands.auth.logout())
        finally:
            self.shutdown()

    def select_folder(self, folder: str | bytes, readonly: bool = False) -> ResponseDict:
        """Select ``folder`` (read-only with ``readonly``); returns its state, e.g.
        ``{b'EXISTS': 3, b'FLAGS': (...), b'RECENT': 0, b'UIDNEXT': 11, ...}``."""
        return self._run(commands.folders.select_folder(self, folder, readonly))

    def search(self, criteria: Any = "ALL", charset: str | None = None) -> SearchIds:
        """Message ids matching ``criteria`` (see the search documentation)."""
        return self._run(commands.messages.search(self, criteria, charset))

    def fetch(self, messages: Any, data: Any, modifiers: Any = None) -> dict[int, ResponseDict]:
        """Fetch ``data`` items for ``messages``; ``{msgid: {b'ITEM': value, b'SEQ': n}}``."""
        return self._run(commands.messages.fetch(self, messages, data, modifiers))

    def noop(self) -> tuple[bytes, list[tuple[Any, ...]]]:
        """NOOP; returns ``(text, status updates)``."""
        return self._run(commands.messages.noop(self))


def _as_socket_timeout(timeout: float | SocketTimeout | None) -> SocketTimeout:
    if isinstance(timeout, SocketTimeout):
        return timeout
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
        raise TypeError(f"timeout must be a number or SocketTimeout, not {timeout!r}")
    return SocketTimeout(timeout, timeout)
