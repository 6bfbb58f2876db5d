"""IMAPClient: the blocking front end.

It owns a transport (TCP, TLS, or a subprocess) and a sans-IO
:class:`~imapclient.protocol.session.Session`, and runs the operations of
:mod:`imapclient.commands` by moving bytes between the two. Every API method that is a
plain operation is generated from that operation by :func:`_blocking`, so its signature
and docstring are the operation's and no command is built or result shaped here.
"""

from __future__ import annotations

import functools
import inspect
import ssl as ssl_lib
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from .commands import auth, base, folders, idle, messages, server
from .commands import messages as messages_mod
from .commands.base import Op, Request
from .exceptions import (
    ConnectionClosedError,
    IllegalStateError,
    IMAPClientAbortError,
    TLSRequiredError,
)
from .frontend import FrontEnd, logger
from .protocol.session import ConnectionState, PendingCommand
from .transport import READ_SIZE, ProcessTransport, SocketTransport

__all__ = ["IMAPClient"]


P = ParamSpec("P")
T = TypeVar("T")


def _blocking(
    op: Callable[Concatenate[base.Context, P], Op[T]],
) -> Callable[Concatenate[IMAPClient, P], T]:
    """Turn an operation of the command layer into a blocking method."""

    @functools.wraps(op)
    def method(self: IMAPClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._run(op(self, *args, **kwargs))

    signature = inspect.signature(op)
    params = list(signature.parameters.values())
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    returns = signature.return_annotation
    if isinstance(returns, str) and returns.startswith("Op[") and returns.endswith("]"):
        returns = returns[3:-1]  # the method returns what the operation produces
    method.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [self_param, *params[1:]], return_annotation=returns
    )
    return method


class IMAPClient(FrontEnd):
    """A connection to an IMAP server.

    ``IMAPClient(host, port=None, use_uid=True, ssl=True, stream=False,
    ssl_context=None, timeout=None)`` connects at once and reads the greeting.

    * ``port`` defaults to 993 with ``ssl`` (implicit TLS), 143 without.
    * ``ssl`` is on by default; certificates and host names are verified with
      ``ssl.create_default_context()`` unless ``ssl_context`` is given. The spec's
      pass-through ``keyfile`` and ``certfile`` load a client certificate into it.
    * ``stream=True`` runs ``host`` as a command whose stdin/stdout carry the session.
    * ``timeout`` is seconds for every socket operation, or a
      :class:`~imapclient.SocketTimeout` with separate connect and read timeouts.
    * ``limits`` and ``tolerances`` tune the protocol core (see
      :mod:`imapclient.protocol.limits` and :mod:`imapclient.protocol.tolerances`).

    Attributes: ``use_uid`` (UIDs rather than sequence numbers), ``folder_encode``
    (modified UTF-7 folder names, returned as str), ``normalise_times`` (naive local
    datetimes rather than aware ones), ``debug`` and ``log_file`` (see :attr:`debug`).
    """

    def _start(self) -> None:
        self._transport: SocketTransport | ProcessTransport | None = None
        self._connect()

    # -- connection -------------------------------------------------------------------

    def _connect(self) -> None:
        if self.stream:
            logger.info("starting IMAP server process %r", self.host)
            self._transport = ProcessTransport(self.host, self._timeout.read)
        else:
            context = self._tls_context() if self.ssl else None
            logger.info("connecting to %s:%d (TLS: %s)", self.host, self.port, self.ssl)
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
        if not isinstance(transport, SocketTransport):
            raise IMAPClientAbortError("the connection is closed")
        if self._session.state is not ConnectionState.NOT_AUTHENTICATED:
            self.shutdown()
            raise TLSRequiredError(
                "STARTTLS is impossible: the connection is already authenticated "
                "(e.g. a PREAUTH greeting), so the session would stay in plaintext"
            )
        try:
            text = self._run(auth.starttls(self))
            transport.start_tls(self._tls_context(ssl_context), self.host)
        except BaseException:
            self.shutdown()
            raise
        self._session.tls_established()
        self.ssl = True
        return text

    def socket(self) -> Any:
        """The underlying socket (or, for ``stream=True``, the subprocess); None once
        closed."""
        transport = self._transport
        if isinstance(transport, SocketTransport):
            return transport.sock
        if isinstance(transport, ProcessTransport):
            return transport.process
        return None

    def shutdown(self) -> None:
        """Close the connection without logging out."""
        if self._transport is not None:
            self._close_transport()
            logger.info("connection closed")

    def _close_transport(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def __enter__(self) -> IMAPClient:
        """``with IMAPClient(...) as client:`` logs out (or at least closes) on exit."""
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
                    result = self._execute_many([request])[0]
                request = op.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    def _execute_many(self, requests: Sequence[Request]) -> list[PendingCommand]:
        pendings = self._send_all(requests)
        self._pump_until(lambda: all(p.done for p in pendings))
        for pending in pendings:
            if pending.error is not None:
                self._close_transport()
                raise pending.error
        return pendings

    def _pump_until(self, condition: Callable[[], bool]) -> None:
        """Send what may be sent and read until ``condition()`` holds; a dead connection
        is closed and its error raised."""
        try:
            self._flush()
            while not condition():
                self._receive()
                self._flush()
        except IMAPClientAbortError as exc:
            self._session.abort(exc)  # every pending command fails with it
            self._close_transport()
            raise

    def _flush(self) -> None:
        # A streamed literal comes out in chunks: write until nothing more may go now.
        while data := self._session.data_to_send():
            self._log_sent()
            assert self._transport is not None
            try:
                self._transport.write(data)
            except OSError as exc:
                raise self._connection_error(exc) from exc

    def _receive(self) -> None:
        assert self._transport is not None
        # Straight into the session's receive buffer: one copy of every byte fewer.
        buffer = self._session.receive_buffer(READ_SIZE)
        try:
            n = self._transport.read_into(buffer)
            if n:
                self._log_received(buffer[:n])
        except OSError as exc:
            if isinstance(exc, IMAPClientAbortError):  # IMAPTimeoutError is a TimeoutError
                self._session.abort(exc)
                raise
            raise self._connection_error(exc) from exc
        finally:
            buffer.release()
        self._session.received(n)

    def _connection_error(self, exc: OSError) -> ConnectionClosedError:
        # A reset or broken connection fails every pending command, like an EOF.
        error = ConnectionClosedError(f"the connection failed: {exc}")
        self._session.abort(error)
        return error

    # -- the API: operations of the command layer ---------------------------------------

    capabilities = _blocking(base.capabilities)
    has_capability = _blocking(server.has_capability)
    enable = _blocking(server.enable)
    id_ = _blocking(server.id_)
    noop = _blocking(messages.noop)

    login = _blocking(auth.login)
    plain_login = _blocking(auth.plain_login)
    sasl_login = _blocking(auth.sasl_login)
    oauth2_login = _blocking(auth.oauth2_login)
    oauthbearer_login = _blocking(auth.oauthbearer_login)
    oauth_login = _blocking(auth.oauth_login)
    scram_login = _blocking(auth.scram_login)

    namespace = _blocking(folders.namespace)
    get_folder_delimiter = _blocking(folders.get_folder_delimiter)
    list_folders = _blocking(folders.list_folders)
    list_sub_folders = _blocking(folders.list_sub_folders)
    xlist_folders = _blocking(folders.xlist_folders)
    find_special_folder = _blocking(folders.find_special_folder)
    folder_exists = _blocking(folders.folder_exists)
    select_folder = _blocking(folders.select_folder)
    unselect_folder = _blocking(folders.unselect_folder)
    close_folder = _blocking(folders.close_folder)
    create_folder = _blocking(folders.create_folder)
    rename_folder = _blocking(folders.rename_folder)
    delete_folder = _blocking(folders.delete_folder)
    subscribe_folder = _blocking(folders.subscribe_folder)
    unsubscribe_folder = _blocking(folders.unsubscribe_folder)
    folder_status = _blocking(folders.folder_status)
    getacl = _blocking(folders.getacl)
    setacl = _blocking(folders.setacl)
    get_quota = _blocking(folders.get_quota)
    get_quota_root = _blocking(folders.get_quota_root)
    set_quota = _blocking(folders.set_quota)
    get_metadata = _blocking(folders.get_metadata)
    set_metadata = _blocking(folders.set_metadata)

    search = _blocking(messages.search)
    gmail_search = _blocking(messages.gmail_search)
    sort = _blocking(messages.sort)
    thread = _blocking(messages.thread)
    fetch = _blocking(messages.fetch)
    fetch_many = _blocking(messages.fetch_many)
    fetch_to_file = _blocking(messages.fetch_to_file)
    esearch = _blocking(messages.esearch)

    def iter_fetch(
        self,
        messages: Iterable[int],
        data: Any,
        chunk_size: int = 500,
        in_flight: int = 4,
        modifiers: Any = None,
    ) -> Iterator[tuple[int, Any]]:
        """Fetch ``data`` for many messages in chunks of ``chunk_size`` ids, with up to
        ``in_flight`` FETCH commands pipelined, yielding ``(msgid, data)`` as each window
        completes: a large mailbox is walked without holding every result at once::

            for uid, data in client.iter_fetch(client.search(), ["FLAGS", "RFC822.SIZE"]):
                ...
        """
        for window in messages_mod.fetch_windows(messages, chunk_size, in_flight):
            yield from self.fetch_many(window, data, modifiers).items()

    get_flags = _blocking(messages.get_flags)
    add_flags = _blocking(messages.add_flags)
    remove_flags = _blocking(messages.remove_flags)
    set_flags = _blocking(messages.set_flags)
    delete_messages = _blocking(messages.delete_messages)
    get_gmail_labels = _blocking(messages.get_gmail_labels)
    add_gmail_labels = _blocking(messages.add_gmail_labels)
    remove_gmail_labels = _blocking(messages.remove_gmail_labels)
    set_gmail_labels = _blocking(messages.set_gmail_labels)
    append = _blocking(messages.append)
    multiappend = _blocking(messages.multiappend)
    copy = _blocking(messages.copy)
    move = _blocking(messages.move)
    expunge = _blocking(messages.expunge)
    uid_expunge = _blocking(messages.uid_expunge)

    def drain_unsolicited(self) -> list[tuple[Any, ...]]:
        """Responses the server sent that no command asked for (EXISTS, EXPUNGE, FETCH
        of other messages, ALERTs ...), oldest first, in the shape ``noop()`` returns.
        Each is returned once."""
        return base.drain_unsolicited(self)

    # -- IDLE (RFC 2177) -----------------------------------------------------------------

    def idle(self) -> None:
        """Start IDLE: the server then pushes changes to the selected folder as they
        happen. Returns once the server has accepted (its ``+``). Read the changes with
        :meth:`idle_check`; end with :meth:`idle_done`, which must come before any other
        command (others raise IllegalStateError while idling). RFC 2177 asks clients to
        end and restart IDLE at least every 29 minutes."""
        request = self._run(idle.idle_request(self))
        self._check_open()
        pending = self._session.send(request.command)
        self._pump_until(lambda: pending.idling or pending.done)
        if pending.done:
            base.check(pending)  # refused: raises CommandError
            raise IllegalStateError("server completed IDLE without accepting it")
        self._idle = pending

    def idle_check(self, timeout: float | None = None) -> list[tuple[Any, ...]]:
        """Wait up to ``timeout`` seconds (None: until something arrives) for updates
        while idling, and return them parsed: ``[(1, b'EXISTS'), (b'OK', b'Still
        here'), (1, b'FETCH', (b'FLAGS', (b'\\Seen',)))]``. An empty list means the
        timeout passed quietly."""
        pending = self._require_idle()
        responses = idle.take_idle_responses(self, pending)
        if responses:
            return responses
        assert self._transport is not None
        try:
            if self._transport.wait_readable(timeout):
                self._receive()
                # Take what else is already there, without waiting.
                while self._transport is not None and self._transport.wait_readable(0):
                    self._receive()
        except IMAPClientAbortError:
            self._idle = None
            self._close_transport()
            raise
        if pending.error is not None:  # BYE while idling: the connection is gone
            self._idle = None
            self._close_transport()
            raise pending.error
        if pending.done:  # the server ended IDLE on its own
            self._idle = None
        return idle.take_idle_responses(self, pending)

    def idle_done(self) -> tuple[bytes, list[tuple[Any, ...]]]:
        """End IDLE; returns ``(text, responses)``: the server's completion text and any
        updates received since the last :meth:`idle_check`."""
        pending = self._require_idle()
        self._idle = None
        if not pending.done:
            self._session.idle_done(pending)
            self._pump_until(lambda: pending.done)
        return idle.idle_done_result(self, pending)

    def _require_idle(self) -> PendingCommand:
        if self._idle is None:
            raise IllegalStateError("IDLE is not active: call idle() first")
        return self._idle

    def logout(self) -> bytes:
        """Log out (ending IDLE first if active) and close the connection; returns the
        server's BYE text."""
        try:
            if self._idle is not None:
                self.idle_done()
            return self._run(auth.logout(self))
        finally:
            self.shutdown()
