"""AsyncIMAPClient: the asyncio front end.

The same sans-IO session and the same operations of :mod:`imapclient.commands` as the
blocking :class:`~imapclient.IMAPClient`, awaited. An :class:`asyncio.Protocol` feeds the
bytes it receives to the session; every API coroutine is generated from its operation by
:func:`_awaitable`, so names, arguments, defaults, results and exceptions match the
blocking client's.

Commands issued concurrently from several tasks share the connection: the session sends
them without waiting for each other where RFC 9051 section 5.5 allows (FETCHes of
different UIDs, independent folder commands) and holds them back where it does not
(SELECT, anything during IDLE or AUTHENTICATE, sequence numbers while EXPUNGE could
arrive). Each caller gets exactly its own results.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import shlex
import ssl as ssl_lib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from .commands import auth, base, folders, idle, messages, server
from .commands import messages as messages_mod
from .commands.base import Op, Request
from .exceptions import (
    ConnectionClosedError,
    IllegalStateError,
    IMAPClientAbortError,
    IMAPTimeoutError,
    TLSRequiredError,
)
from .frontend import FrontEnd, logger
from .protocol.session import ConnectionState, PendingCommand
from .transport import READ_SIZE

__all__ = ["AsyncIMAPClient", "IdleEvents"]

P = ParamSpec("P")
T = TypeVar("T")

#: Default interval after which :class:`IdleEvents` ends and restarts IDLE: well under
#: RFC 2177's 29 minutes, and under the ~10 minutes after which Gmail drops idle clients.
IDLE_RENEW_INTERVAL = 9 * 60.0


def _awaitable(
    op: Callable[Concatenate[base.Context, P], Op[T]],
) -> Callable[Concatenate[AsyncIMAPClient, P], Awaitable[T]]:
    """Turn an operation of the command layer into a coroutine method."""

    @functools.wraps(op)
    async def method(self: AsyncIMAPClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._run(op(self, *args, **kwargs))

    signature = inspect.signature(op)
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    returns = signature.return_annotation
    if isinstance(returns, str) and returns.startswith("Op[") and returns.endswith("]"):
        returns = returns[3:-1]
    method.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [self_param, *list(signature.parameters.values())[1:]], return_annotation=returns
    )
    return method


class _StreamProtocol(asyncio.BufferedProtocol):
    """Lets the event loop read the socket straight into the session's receive buffer
    (one copy of every byte fewer than ``data_received``), and tells the client."""

    def __init__(self, client: AsyncIMAPClient) -> None:
        self.client = client
        self._view: memoryview | None = None

    def get_buffer(self, sizehint: int) -> memoryview:
        session = self.client._session
        if session.error is not None:  # failed: whatever still comes is dropped
            self._view = None
            return memoryview(bytearray(READ_SIZE))
        self._view = view = session.receive_buffer(READ_SIZE)
        return view

    def buffer_updated(self, nbytes: int) -> None:
        view, self._view = self._view, None
        if view is not None and nbytes:
            self.client._log_received(view[:nbytes])
            self.client._on_received(nbytes)

    def pause_writing(self) -> None:
        self.client._write_paused = True

    def resume_writing(self) -> None:
        self.client._write_paused = False
        self.client._flush()  # a streamed literal goes on

    def eof_received(self) -> bool:
        self.client._on_data(b"")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.client._on_lost(exc)


class _ProcessProtocol(asyncio.SubprocessProtocol):
    """Hands what the server process writes on stdout to the client."""

    def __init__(self, client: AsyncIMAPClient) -> None:
        self.client = client

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == 1:
            self.client._on_data(data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1:
            self.client._on_data(b"")

    def process_exited(self) -> None:
        self.client._on_lost(None)


class AsyncIMAPClient(FrontEnd):
    """A connection to an IMAP server for asyncio.

    Takes the same arguments as :class:`~imapclient.IMAPClient`, but does not connect in
    the constructor (constructors cannot await): use ``await AsyncIMAPClient.create(...)``,
    or ``client = AsyncIMAPClient(...)`` then ``await client.connect()``, or
    ``async with AsyncIMAPClient(...) as client:`` (connects on entry, logs out on exit).

    Every method of IMAPClient is here as a coroutine with the same name, arguments and
    result. Concurrent calls from several tasks are pipelined where the protocol allows.
    Cancelling a call withdraws its command if it was not sent yet; a command already
    sent completes in the background and its responses are consumed, so the connection
    stays usable.
    """

    def _start(self) -> None:
        self._transport: asyncio.BaseTransport | None = None
        self._protocol: asyncio.BaseProtocol | None = None
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0  # loop time at which the read timeout expires
        self._idle_events: IdleEvents | None = None
        self._write_paused = False  # the transport's buffer is full (flow control)

    @classmethod
    async def create(cls, *args: Any, **kwargs: Any) -> AsyncIMAPClient:
        """Construct with the arguments of :class:`AsyncIMAPClient` and connect."""
        client = cls(*args, **kwargs)
        await client.connect()
        return client

    # -- connection -------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the connection (TCP, TLS, or the ``stream=True`` process) and read the
        greeting. Raises if already connected."""
        if self._transport is not None or self._session.state is not ConnectionState.GREETING:
            raise IllegalStateError("already connected")
        loop = asyncio.get_running_loop()
        transport: asyncio.BaseTransport
        protocol: asyncio.BaseProtocol
        try:
            if self.stream:
                logger.info("starting IMAP server process %r", self.host)
                argv = shlex.split(self.host)
                transport, protocol = await asyncio.wait_for(
                    loop.subprocess_exec(
                        lambda: _ProcessProtocol(self),
                        *argv,
                        stdin=asyncio.subprocess.PIPE,
                        stdout=asyncio.subprocess.PIPE,
                        stderr=None,
                    ),
                    self._timeout.connect,
                )
            else:
                context = self._tls_context() if self.ssl else None
                logger.info("connecting to %s:%d (TLS: %s)", self.host, self.port, self.ssl)
                transport, protocol = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: _StreamProtocol(self),
                        self.host,
                        self.port,
                        ssl=context,
                        server_hostname=self.host if context is not None else None,
                    ),
                    self._timeout.connect,
                )
        except asyncio.TimeoutError as exc:
            raise IMAPTimeoutError(f"timed out connecting to {self.host}") from exc
        self._transport, self._protocol = transport, protocol
        try:
            self._arm_timer(force=True)
            await self._wait_for(lambda: self._session.state is not ConnectionState.GREETING)
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

    async def starttls(self, ssl_context: ssl_lib.SSLContext | None = None) -> bytes:
        """Switch the connection to TLS; as :meth:`IMAPClient.starttls`, never continuing
        in plaintext."""
        if self.ssl or self.stream:
            raise IllegalStateError("the connection is already TLS or a stream")
        if self._transport is None:
            raise IMAPClientAbortError("the connection is closed")
        if self._session.state is not ConnectionState.NOT_AUTHENTICATED:
            await self.shutdown()
            raise TLSRequiredError(
                "STARTTLS is impossible: the connection is already authenticated "
                "(e.g. a PREAUTH greeting), so the session would stay in plaintext"
            )
        loop = asyncio.get_running_loop()
        try:
            text = await self._run(auth.starttls(self))
            assert self._protocol is not None
            tls_transport = await loop.start_tls(
                self._transport,
                self._protocol,
                self._tls_context(ssl_context),
                server_hostname=self.host,
                ssl_handshake_timeout=self._timeout.connect,
            )
        except BaseException:
            await self.shutdown()
            raise
        if tls_transport is None:
            await self.shutdown()
            raise IMAPClientAbortError("the connection closed during the TLS handshake")
        self._transport = tls_transport
        self._session.tls_established()
        self.ssl = True
        return text

    async def socket(self) -> Any:
        """The underlying socket (or, for ``stream=True``, the subprocess transport);
        None once closed."""
        if self._transport is None:
            return None
        if self.stream:
            return self._transport
        return self._transport.get_extra_info("socket")

    async def shutdown(self) -> None:
        """Close the connection without logging out."""
        if self._transport is not None:
            self._close_transport()
            logger.info("connection closed")

    def _close_transport(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transport is not None:
            transport, self._transport = self._transport, None
            transport.close()
        if self._session.error is None and self._session.state is not ConnectionState.LOGOUT:
            self._session.abort(ConnectionClosedError("the connection was closed"))
        self._wake()

    async def __aenter__(self) -> AsyncIMAPClient:
        """``async with AsyncIMAPClient(...) as client:`` connects if needed, and logs
        out (or at least closes) on exit."""
        if self._transport is None and self._session.state is ConnectionState.GREETING:
            await self.connect()
        return self

    async def __aexit__(
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
                await self.logout()
        except Exception:
            logger.debug("logout on context exit failed", exc_info=True)
        finally:
            await self.shutdown()

    # -- events from the transport ------------------------------------------------------

    def _on_data(self, data: bytes) -> None:
        self._log_received(data)
        self._after_receiving(self._session.receive_data, data)

    def _on_received(self, nbytes: int) -> None:
        # The bytes are already in the session's buffer (_StreamProtocol.get_buffer).
        self._after_receiving(self._session.received, nbytes)

    def _after_receiving(self, process: Callable[[Any], None], arg: Any) -> None:
        try:
            process(arg)
        except IMAPClientAbortError:
            self._close_transport()
            return
        self._flush()
        self._arm_timer()
        self._wake()

    def _on_lost(self, exc: Exception | None) -> None:
        if self._session.error is None and self._session.state is not ConnectionState.LOGOUT:
            reason = f"the connection was lost: {exc}" if exc else "the connection was lost"
            self._session.abort(ConnectionClosedError(reason))
        self._transport = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._wake()

    def _on_timeout(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        remaining = self._deadline - loop.time()
        if remaining > 0:  # restarted since it was set: wait for the rest
            self._timer = loop.call_later(remaining, self._on_timeout)
            return
        if any(not p.idling for p in self._session.pending):
            self._session.abort(IMAPTimeoutError("timed out waiting for the server"))
            self._close_transport()

    def _arm_timer(self, force: bool = False) -> None:
        # The read timeout runs while the server owes an answer (an IDLE in progress owes
        # nothing until DONE); every chunk received restarts it. Restarting only moves
        # the deadline: the timer set earlier checks it when it fires (a listing arrives
        # in thousands of chunks; a new timer for each is measurable).
        timeout = self._timeout.read
        if (
            timeout is None
            or self._transport is None
            or not (force or any(not p.idling for p in self._session.pending))
        ):
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            return
        loop = asyncio.get_running_loop()
        self._deadline = loop.time() + timeout
        if self._timer is None:
            self._timer = loop.call_later(timeout, self._on_timeout)

    def _wake(self) -> None:
        failed = self._session.error
        still_waiting = []
        for condition, future in self._waiters:
            if future.done():
                continue
            if condition():
                future.set_result(None)
            elif failed is not None:
                future.set_exception(failed)
            else:
                still_waiting.append((condition, future))
        self._waiters = still_waiting

    async def _wait_for(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition()`` holds (checked after every chunk received); raise
        the connection's error if it fails first."""
        if condition():
            return
        if self._session.error is not None:
            raise self._session.error
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((condition, future))
        await future

    # -- the driver -------------------------------------------------------------------

    async def _run(self, op: Op[T]) -> T:
        """Drive an operation of the command layer to completion."""
        await self._prepare()
        try:
            request = next(op)
            while True:
                if isinstance(request, list):
                    result: Any = await self._execute_many(request)
                else:
                    result = (await self._execute_many([request]))[0]
                request = op.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    async def _prepare(self) -> None:
        if self._idle_events is not None and self._idle is not None:
            await self._idle_events.aclose()  # a command ends idle_events()' IDLE
        self._check_open()

    async def _execute_many(self, requests: Sequence[Request]) -> list[PendingCommand]:
        pendings = self._send_all(requests)
        self._flush()
        self._arm_timer()
        try:
            await self._wait_for(lambda: all(p.done for p in pendings))
        except asyncio.CancelledError:
            for pending in pendings:  # unsent ones are withdrawn; sent ones are drained
                self._session.cancel(pending)
            raise
        for pending in pendings:
            if pending.error is not None:
                raise pending.error
        return pendings

    def _flush(self) -> None:
        # Write what may go now; a streamed literal waits while the transport's buffer is
        # full and goes on from resume_writing(), so it is never all in memory.
        while not self._write_paused:
            try:
                data = self._session.data_to_send()
            except IMAPClientAbortError:
                self._close_transport()
                return
            if not data:
                return
            self._log_sent()
            transport = self._transport
            if isinstance(transport, asyncio.SubprocessTransport):
                pipe = transport.get_pipe_transport(0)
                assert isinstance(pipe, asyncio.WriteTransport)
                pipe.write(data)
            elif isinstance(transport, asyncio.WriteTransport):
                transport.write(data)
            else:
                return

    # -- the API: operations of the command layer ---------------------------------------

    capabilities = _awaitable(base.capabilities)
    has_capability = _awaitable(server.has_capability)
    enable = _awaitable(server.enable)
    id_ = _awaitable(server.id_)
    noop = _awaitable(messages.noop)

    login = _awaitable(auth.login)
    plain_login = _awaitable(auth.plain_login)
    sasl_login = _awaitable(auth.sasl_login)
    oauth2_login = _awaitable(auth.oauth2_login)
    oauthbearer_login = _awaitable(auth.oauthbearer_login)
    oauth_login = _awaitable(auth.oauth_login)
    scram_login = _awaitable(auth.scram_login)

    namespace = _awaitable(folders.namespace)
    get_folder_delimiter = _awaitable(folders.get_folder_delimiter)
    list_folders = _awaitable(folders.list_folders)
    list_sub_folders = _awaitable(folders.list_sub_folders)
    xlist_folders = _awaitable(folders.xlist_folders)
    find_special_folder = _awaitable(folders.find_special_folder)
    folder_exists = _awaitable(folders.folder_exists)
    select_folder = _awaitable(folders.select_folder)
    unselect_folder = _awaitable(folders.unselect_folder)
    close_folder = _awaitable(folders.close_folder)
    create_folder = _awaitable(folders.create_folder)
    rename_folder = _awaitable(folders.rename_folder)
    delete_folder = _awaitable(folders.delete_folder)
    subscribe_folder = _awaitable(folders.subscribe_folder)
    unsubscribe_folder = _awaitable(folders.unsubscribe_folder)
    folder_status = _awaitable(folders.folder_status)
    getacl = _awaitable(folders.getacl)
    setacl = _awaitable(folders.setacl)
    get_quota = _awaitable(folders.get_quota)
    get_quota_root = _awaitable(folders.get_quota_root)
    set_quota = _awaitable(folders.set_quota)
    get_metadata = _awaitable(folders.get_metadata)
    set_metadata = _awaitable(folders.set_metadata)

    search = _awaitable(messages.search)
    gmail_search = _awaitable(messages.gmail_search)
    sort = _awaitable(messages.sort)
    thread = _awaitable(messages.thread)
    fetch = _awaitable(messages.fetch)
    fetch_many = _awaitable(messages.fetch_many)
    fetch_to_file = _awaitable(messages.fetch_to_file)
    esearch = _awaitable(messages.esearch)

    async def iter_fetch(
        self,
        messages: Iterable[int],
        data: Any,
        chunk_size: int = 500,
        in_flight: int = 4,
        modifiers: Any = None,
    ) -> AsyncIterator[tuple[int, Any]]:
        """As :meth:`IMAPClient.iter_fetch`, as an async iterator::

        async for uid, data in client.iter_fetch(uids, ["FLAGS"]):
            ...
        """
        for window in messages_mod.fetch_windows(messages, chunk_size, in_flight):
            for item in (await self.fetch_many(window, data, modifiers)).items():
                yield item

    get_flags = _awaitable(messages.get_flags)
    add_flags = _awaitable(messages.add_flags)
    remove_flags = _awaitable(messages.remove_flags)
    set_flags = _awaitable(messages.set_flags)
    delete_messages = _awaitable(messages.delete_messages)
    get_gmail_labels = _awaitable(messages.get_gmail_labels)
    add_gmail_labels = _awaitable(messages.add_gmail_labels)
    remove_gmail_labels = _awaitable(messages.remove_gmail_labels)
    set_gmail_labels = _awaitable(messages.set_gmail_labels)
    append = _awaitable(messages.append)
    multiappend = _awaitable(messages.multiappend)
    copy = _awaitable(messages.copy)
    move = _awaitable(messages.move)
    expunge = _awaitable(messages.expunge)
    uid_expunge = _awaitable(messages.uid_expunge)

    async def drain_unsolicited(self) -> list[tuple[Any, ...]]:
        """Responses the server sent that no command asked for, oldest first, each once
        (as :meth:`IMAPClient.drain_unsolicited`)."""
        return base.drain_unsolicited(self)

    async def logout(self) -> bytes:
        """Log out (ending IDLE first if active) and close the connection; returns the
        server's BYE text."""
        try:
            if self._idle_events is not None:
                await self._idle_events.aclose()
            if self._idle is not None:
                await self.idle_done()
            return await self._run(auth.logout(self))
        finally:
            await self.shutdown()

    # -- IDLE (RFC 2177) -----------------------------------------------------------------

    async def idle(self) -> None:
        """Start IDLE; as :meth:`IMAPClient.idle`. Other commands raise IllegalStateError
        until :meth:`idle_done`."""
        request = await self._run(idle.idle_request(self))
        self._check_open()
        pending = self._session.send(request.command)
        self._flush()
        self._arm_timer()
        await self._wait_for(lambda: pending.idling or pending.done)
        self._arm_timer()
        if pending.done:
            base.check(pending)
            raise IllegalStateError("server completed IDLE without accepting it")
        self._idle = pending

    async def idle_check(self, timeout: float | None = None) -> list[tuple[Any, ...]]:
        """Wait up to ``timeout`` seconds (None: until something arrives) for updates
        while idling and return them parsed; ``[]`` if the timeout passed quietly."""
        pending = self._require_idle()
        responses = idle.take_idle_responses(self, pending)
        if responses:
            return responses
        session = self._session

        def arrived() -> bool:
            return bool(pending.untagged or session.unsolicited) or pending.done

        try:
            await asyncio.wait_for(self._wait_for(arrived), timeout)
        except asyncio.TimeoutError:
            return []
        except IMAPClientAbortError:
            self._idle = None
            raise
        if pending.error is not None:
            self._idle = None
            raise pending.error
        if pending.done:
            self._idle = None
        return idle.take_idle_responses(self, pending)

    async def idle_done(self) -> tuple[bytes, list[tuple[Any, ...]]]:
        """End IDLE; returns ``(text, responses)`` as :meth:`IMAPClient.idle_done`."""
        pending = self._require_idle()
        self._idle = None
        if not pending.done:
            self._session.idle_done(pending)
            self._flush()
            self._arm_timer(force=True)
            await self._wait_for(lambda: pending.done)
        return idle.idle_done_result(self, pending)

    def idle_events(self, renew_interval: float = IDLE_RENEW_INTERVAL) -> IdleEvents:
        """IDLE as an async iterator of updates (``(1, b'EXISTS')`` ...)::

            async with client.idle_events() as events:
                async for event in events:
                    ...

        IDLE starts on entering the ``async with`` block (or at the first iteration), is
        ended and restarted every ``renew_interval`` seconds, and ends when the block is
        left (or when any other command is issued on this client)."""
        events = IdleEvents(self, renew_interval)
        return events

    def _require_idle(self) -> PendingCommand:
        if self._idle is None:
            raise IllegalStateError("IDLE is not active: call idle() first")
        return self._idle


class IdleEvents:
    """The async iterator returned by :meth:`AsyncIMAPClient.idle_events`."""

    def __init__(self, client: AsyncIMAPClient, renew_interval: float) -> None:
        if renew_interval <= 0:
            raise ValueError("renew_interval must be positive")
        self._client = client
        self._renew_interval = renew_interval
        self._buffer: deque[tuple[Any, ...]] = deque()
        self._renew_at = 0.0
        self._closed = False

    async def __aenter__(self) -> IdleEvents:
        """Start IDLE now (rather than at the first iteration)."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[tuple[Any, ...]]:
        return self

    async def start(self) -> None:
        """Start IDLE if it is not running; returns once the server has accepted it."""
        client = self._client
        if self._closed:
            raise IllegalStateError("these IDLE events have been closed")
        if client._idle is None:
            await client.idle()
            client._idle_events = self
            self._renew_at = asyncio.get_running_loop().time() + self._renew_interval

    async def __anext__(self) -> tuple[Any, ...]:
        client = self._client
        loop = asyncio.get_running_loop()
        while not self._buffer:
            if self._closed:
                raise StopAsyncIteration
            await self.start()
            remaining = self._renew_at - loop.time()
            if remaining <= 0:  # renew: end IDLE (keeping what it reported) and restart
                client._idle_events = None
                _text, responses = await client.idle_done()
                self._buffer.extend(responses)
                continue
            self._buffer.extend(await client.idle_check(timeout=remaining))
        return self._buffer.popleft()

    async def aclose(self) -> None:
        """End IDLE (if this iterator started it) and stop iterating."""
        self._closed = True
        client = self._client
        if client._idle_events is self:
            client._idle_events = None
            if client._idle is not None:
                await client.idle_done()
