"""What the blocking and the asyncio clients share apart from I/O: the constructor's
arguments, the session, logging, and the exception aliases.

Neither front end builds a command or shapes a result (that is :mod:`imapclient.commands`);
each only moves bytes between its transport and the session. This base keeps the rest of
their common surface in one place.
"""

from __future__ import annotations

import logging
import ssl as ssl_lib
import sys
from collections.abc import Sequence
from typing import IO, Any

from .commands.base import Request
from .exceptions import (
    IllegalStateError,
    IMAPClientAbortError,
    IMAPClientError,
    IMAPClientReadOnlyError,
)
from .protocol.limits import DEFAULT_LIMITS, Limits
from .protocol.session import PendingCommand, Session
from .protocol.tolerances import DEFAULT_TOLERANCES, Tolerance
from .transport import SocketTimeout

__all__ = ["FrontEnd", "logger", "wire_logger"]

logger = logging.getLogger("imapclient")
wire_logger = logging.getLogger("imapclient.wire")


class FrontEnd:
    """Connection settings, session and logging common to both clients."""

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
        **kwargs: Any,
    ) -> None:
        keyfile = kwargs.pop("keyfile", None)
        certfile = kwargs.pop("certfile", None)
        if kwargs:
            names = ", ".join(sorted(kwargs))
            raise TypeError(f"{type(self).__name__}() got unexpected keyword arguments: {names}")
        if stream and (port is not None or ssl_context is not None):
            raise ValueError("stream=True takes a command as host, without port or TLS")
        if keyfile is not None and certfile is None:
            raise ValueError("keyfile needs certfile")
        self.host = host
        self.port = port if port is not None else (993 if ssl else 143)
        self.ssl = ssl and not stream
        self.stream = stream
        if certfile is not None:
            ssl_context = ssl_context or ssl_lib.create_default_context()
            ssl_context.load_cert_chain(certfile, keyfile)
        self.ssl_context = ssl_context
        self.use_uid = use_uid
        self.folder_encode = True
        self.normalise_times = True
        self._debug = 0
        self._log_file: IO[str] | None = None
        self._log_handler: logging.Handler | None = None
        self._timeout = as_socket_timeout(timeout)
        self._session = Session(limits=limits, tolerances=tolerances)
        self._idle: PendingCommand | None = None  # the IDLE command while idling
        self._start()

    _transport: object | None  # each front end's own transport; None once closed

    def _check_open(self) -> None:
        # A dead connection is reported as such, before any state check of an operation.
        if self._session.error is not None:
            raise self._session.error
        if self._transport is None:
            raise IMAPClientAbortError("the connection is closed")
        if self._idle is not None:
            raise IllegalStateError("IDLE is active: call idle_done() before other commands")

    def _send_all(self, requests: Sequence[Request]) -> list[PendingCommand]:
        """Queue the requests of one operation in the session (both front ends)."""
        self._check_open()
        return [
            self._session.send(
                r.command,
                claims=r.claims,
                on_continuation=r.on_continuation,
                route=r.route,
                literal_sink=r.literal_sink,
                local_times=r.local_times,
            )
            for r in requests
        ]

    def _start(self) -> None:
        """What a front end does once the settings are in place (the blocking client
        connects; the asyncio client waits for ``connect()``)."""

    def _tls_context(self, override: ssl_lib.SSLContext | None = None) -> ssl_lib.SSLContext:
        """The context for TLS: verified with the system CAs unless one was given."""
        return override or self.ssl_context or ssl_lib.create_default_context()

    @property
    def welcome(self) -> bytes:
        """The server's greeting text."""
        greeting = self._session.greeting
        return greeting.text if greeting is not None else b""

    # -- logging ----------------------------------------------------------------------

    @property
    def debug(self) -> int:
        """Debug output, 0 (off) to 5, mapped onto the ``imapclient`` loggers: 1-2 log
        connection events (INFO), 3-4 also every command sent (DEBUG; LOGIN and
        AUTHENTICATE arguments redacted), 5 also the raw bytes received
        (``imapclient.wire``). True means 4. Output goes to :attr:`log_file`
        (default stderr). Applications that configure ``logging`` themselves can
        ignore this and set levels on those loggers directly."""
        return self._debug

    @debug.setter
    def debug(self, level: int | bool) -> None:
        if level is True:
            level = 4
        level = int(level)
        if not 0 <= level <= 5:
            raise ValueError("debug must be between 0 and 5")
        self._debug = level
        self._configure_logging()

    @property
    def log_file(self) -> IO[str] | None:
        """Where debug output goes (a text file object); None means stderr."""
        return self._log_file

    @log_file.setter
    def log_file(self, stream: IO[str] | None) -> None:
        self._log_file = stream
        self._configure_logging()

    def _configure_logging(self) -> None:
        if self._log_handler is not None:
            logger.removeHandler(self._log_handler)
            self._log_handler = None
        if self._debug == 0:
            return
        handler = logging.StreamHandler(self._log_file or sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        self._log_handler = handler
        logger.addHandler(handler)
        logger.setLevel(logging.INFO if self._debug <= 2 else logging.DEBUG)
        wire_logger.setLevel(logging.DEBUG if self._debug >= 5 else logging.WARNING)

    def _log_sent(self) -> None:
        """Log the (redacted) commands the session just released for sending."""
        sent = self._session.sent_log
        if logger.isEnabledFor(logging.DEBUG):
            for line in sent:
                logger.debug("> %s", line.decode("ascii", "replace"))
        sent.clear()

    @staticmethod
    def _log_received(data: bytes | memoryview) -> None:
        if wire_logger.isEnabledFor(logging.DEBUG):
            wire_logger.debug("< %r", bytes(data))


def as_socket_timeout(timeout: float | SocketTimeout | None) -> SocketTimeout:
    """A SocketTimeout from a number (both timeouts), a SocketTimeout, or None."""
    if isinstance(timeout, SocketTimeout):
        return timeout
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
        raise TypeError(f"timeout must be a number or SocketTimeout, not {timeout!r}")
    return SocketTimeout(timeout, timeout)
